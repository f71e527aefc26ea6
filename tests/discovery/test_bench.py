"""The permutation benchmark runs and both tools agree (speed lives in BENCHMARKS.md, not in asserts)."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_bench_permutations_same_results() -> None:
    from bench.permutations import run

    result = run()
    assert result["same_results"] and result["registered_in_lab"] > 100


@pytest.mark.slow
def test_bench_detection_on_the_corpus() -> None:
    """The detection benchmark reads the corpus beside the checkout (skipped where it is absent)."""
    from bench import detection

    try:
        detection.corpus_dir()
    except FileNotFoundError:
        pytest.skip("no corpus at ../shared/data/corpus")
    result = detection.run()
    total = result["rows"][-1]
    assert total["brand"] == "**all**" and float(total["related recall 0.2"].rstrip("%")) >= 97.0
