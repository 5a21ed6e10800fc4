"""Benchmarks for kravia-schedule (run with ``python -m benchmarks``; not part of the tests)."""
