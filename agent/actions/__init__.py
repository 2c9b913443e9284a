"""Actions: what a job or a CLI command does. The scheduler decides when; actions decide what.

The CLI and the daemon call the same actions, so `hostward audit` and the audit job are one code.
"""
