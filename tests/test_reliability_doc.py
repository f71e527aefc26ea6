"""The reliability table: rows come from marked tests, survive a partial run, and are written with
the observed outcome (tests/reliability.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

MARKED = '''
import pytest

@pytest.mark.reliability("a {kind} input", "refused with a clear error", area="demo")
@pytest.mark.parametrize("kind", ["huge", "empty"])
def test_refused(kind, observe):
    observe(f"{kind}: refused")

@pytest.mark.reliability("a | pipe in the case", "written escaped", area="demo")
def test_fails(observe):
    observe("about to fail")
    assert 1 == 2, "it broke"

@pytest.mark.reliability("quiet", "passes")
def test_quiet():
    pass

def test_unmarked():
    pass
'''


def test_marked_tests_write_their_rows(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["tests.reliability"]')
    pytester.makepyfile(test_attacks=MARKED)
    doc = pytester.path / "reliability.md"
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", f"--reliability-report={doc}")
    result.assert_outcomes(passed=4, failed=1)
    text = doc.read_text()
    assert "| a huge input | refused with a clear error | huge: refused | `test_attacks.py::test_refused[huge]` |" in text
    assert "| a empty input |" in text
    assert "a \\| pipe in the case" in text and "FAILED: AssertionError: it broke" in text
    assert "| quiet | passes | passed (nothing observed) |" in text
    assert "test_unmarked" not in text and "## demo" in text and "5 rows, 1 failed" not in text
    assert "4 rows, 1 failed" in text

    # A run of one test replaces its row and keeps the others.
    pytester.makepyfile(test_attacks=MARKED.replace('observe(f"{kind}: refused")', 'observe(f"{kind}: refused again")'))
    pytester.runpytest_inprocess("-p", "no:cacheprovider", f"--reliability-report={doc}", "-k", "refused and huge")
    text = doc.read_text()
    assert "huge: refused again" in text and "empty: refused |" in text and "it broke" in text

    # A test that is gone takes its row with it.
    pytester.makepyfile(test_attacks=MARKED.replace("def test_quiet", "def test_renamed"))
    pytester.runpytest_inprocess("-p", "no:cacheprovider", f"--reliability-report={doc}", "-k", "renamed")
    assert "test_quiet" not in doc.read_text() and "test_renamed" in doc.read_text()


def test_observe_without_the_marker_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["tests.reliability"]')
    pytester.makepyfile("def test_x(observe):\n    observe('x')\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)


def test_the_document_is_written_by_the_tests() -> None:
    doc = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"
    assert doc.read_text(encoding="utf-8").startswith("# Reliability")
