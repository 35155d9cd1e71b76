"""`make bench`: batch-cancel against the local sandbox, on loopback, with numbers to compare.

Run as `python -m bench` from the repository root (never part of `make test`).
Every benchmark starts its own sandbox process and runs the real CLI (or the
program it is compared with) as a subprocess, as a user would; see
BENCHMARKS.md for the method and the latest figures.
"""
