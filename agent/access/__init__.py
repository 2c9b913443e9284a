"""Access logs (ROOM-6): the append-only archive in the state directory, and its readers."""
