"""Benchmarks: ``make bench`` (python -m bench) writes docs/benchmarks.md and bench/results.json."""
