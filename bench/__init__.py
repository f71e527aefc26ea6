"""Benchmarks: each module here has ``run() -> dict``; ``python -m bench`` runs them all into BENCHMARKS.md."""
