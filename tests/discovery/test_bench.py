"""The permutation benchmark runs and both tools agree (speed lives in BENCHMARKS.md, not in asserts)."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_bench_permutations_same_results() -> None:
    from bench.permutations import run

    result = run()
    assert result["same_results"] and result["registered_in_lab"] > 100
