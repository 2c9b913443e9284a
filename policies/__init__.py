"""Judges (floor 2): the policy engine, probes and the policy library. Never imports agent/."""
