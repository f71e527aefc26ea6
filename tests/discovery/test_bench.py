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


def test_a_section_written_before_markers_is_replaced_not_kept_as_a_twin() -> None:
    from bench.__main__ import merge

    old = ("# Benchmarks\n\n## Speed of X\n\nold figures\n\n## Speed of X\n<!-- bench:x -->\n\nmarked figures\n"
           "\n## Other\n<!-- bench:other -->\n\nkept\n")
    kept = merge(old, "# Benchmarks\n", {})
    assert kept.count("## Speed of X") == 1 and "marked figures" in kept and "old figures" not in kept
    new = merge(old, "# Benchmarks\n", {"x": "## Speed of X\n<!-- bench:x -->\n\nnew figures\n"})
    assert new.count("## Speed of X") == 1 and "new figures" in new and "kept" in new
