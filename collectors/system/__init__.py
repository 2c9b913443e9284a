"""The one door to the operating system: commands, files under a root, registry/WMI.

Every reader takes a *root* (default `/`) and a *runner*, so the same code audits the live
host, a mounted disk image, and the fixture trees in tests.
"""

from collectors.system.runner import CommandResult, Runner, SubprocessRunner

__all__ = ["CommandResult", "Runner", "SubprocessRunner"]
