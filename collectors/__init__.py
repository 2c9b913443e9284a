"""Observers (floor 1): host health, devices, and collectors.system, the one door to the OS.

Nothing here imports agent/, policies/ or backup/.
"""
