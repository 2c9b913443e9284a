"""Linux readers: files under a root and commands through a runner, parsed into records."""
