"""The asset register (ROOM-5): model (records), gather (read a host), diff (what changed)."""
