"""Typed, versioned state records: one frozen dataclass per kind (agent/records/*.py).

Each type lives in its own module and is imported from there; agent/records/kinds.py lists
them all (`KINDS`: the stored kind to its type). A malformed payload raises StateError
(agent/records/base.py) naming the kind and the field."""
