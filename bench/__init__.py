"""Benchmarks run by `make bench` (`python -m bench`). Not timed tests: they print figures."""
