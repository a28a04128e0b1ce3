"""Benchmarks that print figures (ratios measured in one run), never timed tests: `python -m book.bench NAME`."""
