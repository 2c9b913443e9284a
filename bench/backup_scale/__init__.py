"""A large source with a 1 % nightly change: hostward's dual incremental against one plain
`restic backup`, and the backup worker's peak memory. See `bench.backup_scale.run`."""
