"""Benchmarks and reliability runs, not part of the test suite: `python -m bench.lifecycle`
(the case lifecycle against a bare workflow) and `bench/chaos.py` (workers killed, the server
restarted, hostile events)."""
