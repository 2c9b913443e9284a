"""Protects (floor 2): restic wrapper, dual-copy plan, verification, drills, restores.

Never imports agent/.
"""
