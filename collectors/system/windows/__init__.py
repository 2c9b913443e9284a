"""Windows readers: PowerShell objects as JSON (CIM, registry, Defender), parsed by pure functions.

Never localized text (`net user` on Chinese Windows prints Chinese): only structured objects.
"""
