"""pytest plugin: the attacks and faults the tests try, written to docs/reliability.md.

A row of the table (input or fault | expected | observed) is one test marked ``reliability``; the
test states what it tried and what should happen, and records what it saw with the ``observe``
fixture::

    @pytest.mark.reliability(
        "omamori match: one line is `http://[bad`",
        "that line is reported with its number; every other line is matched",
        area="input commands",
    )
    def test_a_bad_line_is_reported_and_the_rest_matched(observe, ...):
        ...
        observe(f"exit {result.exit_code}; 'line 2: ...' on stderr; {n} of {n} other lines matched")

- ``case`` and ``expected`` may name the test's parameters (``"a {kind} address"``), so a
  parametrized test gives one row per parameter set.
- ``area`` groups the rows (a section of the document); without it the test's folder is used.
- A test that fails is written as **FAILED** with the first line of its error; a test that passes
  without calling ``observe`` is written as "passed (nothing observed)".

``make reliability`` runs every marked test (slow ones too) and rewrites the document:
``pytest -m reliability --reliability-report=docs/reliability.md``. The option works with any
selection: rows of the tests that ran are replaced, rows of tests that still exist but did not run are
kept, rows of tests that are gone are dropped. Without the option nothing is written, so ``make test``
never touches the document.
"""

from __future__ import annotations

import datetime as dt
import platform
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

_ROW_KEY = pytest.StashKey["_Row"]()


@dataclass
class _Row:
    area: str
    case: str
    expected: str
    test: str  # pytest node id, relative to the repository root
    observed: str = ""
    outcome: str = "passed"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reliability-report",
        metavar="PATH",
        default=None,
        help="rewrite PATH (docs/reliability.md) from the tests marked `reliability` that ran",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "reliability(case, expected, area=None): an attack or fault the test tries; a row of "
        "docs/reliability.md (`make reliability`)",
    )
    config.stash[_RESULTS] = {}


_RESULTS = pytest.StashKey[dict[str, _Row]]()


def _format(text: str, item: pytest.Item) -> str:
    params: dict[str, Any] = getattr(getattr(item, "callspec", None), "params", {}) or {}
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text


def _row_for(item: pytest.Item) -> _Row | None:
    marker = item.get_closest_marker("reliability")
    if marker is None:
        return None
    if len(marker.args) < 2:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.reliability(case, expected) needs both texts")
    case, expected = marker.args[0], marker.args[1]
    area = marker.kwargs.get("area") or _area_from_path(item)
    return _Row(area=area, case=_format(case, item), expected=_format(expected, item), test=item.nodeid)


def _area_from_path(item: pytest.Item) -> str:
    parts = Path(item.nodeid.split("::")[0]).parts
    return parts[1] if len(parts) > 2 else "general"


def pytest_runtest_setup(item: pytest.Item) -> None:
    row = _row_for(item)
    if row is not None:
        item.stash[_ROW_KEY] = row


@pytest.fixture
def observe(request: pytest.FixtureRequest) -> Iterator[Callable[[str], None]]:
    """Record what the test saw, for the ``observed`` column of docs/reliability.md (calls add up)."""
    row = request.node.stash.get(_ROW_KEY, None)
    if row is None:
        raise pytest.UsageError(f"{request.node.nodeid}: `observe` needs @pytest.mark.reliability(case, expected)")

    def record(text: str) -> None:
        row.observed = f"{row.observed}; {text}" if row.observed else text

    yield record


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    row = item.stash.get(_ROW_KEY, None)
    if row is None:
        return report
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.failed:
            row.outcome = "failed"
            row.observed = "FAILED: " + _first_line(call.excinfo.exconly() if call.excinfo else str(report.longrepr))
        elif report.skipped:
            row.outcome = "skipped"
            row.observed = "not run here (skipped): " + _skip_reason(report)
        item.config.stash[_RESULTS][item.nodeid] = row
    return report


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "error"
    return line[:300]


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = session.config.getoption("--reliability-report")
    if not target:
        return
    path = Path(target)
    if not path.is_absolute():
        path = Path(session.config.invocation_params.dir) / path
    ran = session.config.stash[_RESULTS]
    rows = {**_kept_rows(path, ran, session.config.rootpath), **ran}
    path.write_text(render(list(rows.values())), encoding="utf-8")


# --- the document ------------------------------------------------------------------------------------

HEADER = """# Reliability: the attacks and faults omamori is tried with

Each row is one test that tries the input or the fault against the real code and the lab's real
servers, and the observed column is what that test saw on its last run. The document is written by
the tests (`make reliability`, i.e. `pytest -m reliability --reliability-report=docs/reliability.md`);
do not edit it by hand. How to add a row: `tests/README.md`.

"""

_TABLE_HEAD = "| input or fault | expected | observed | test |\n|---|---|---|---|\n"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render(rows: list[_Row]) -> str:
    out = [HEADER]
    failed = sum(r.outcome == "failed" for r in rows)
    out.append(
        f"Last written {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'} "
        f"(Python {platform.python_version()}): {len(rows)} rows, {failed} failed.\n"
    )
    for area in sorted({r.area for r in rows}, key=str.lower):
        out.append(f"\n## {area}\n\n{_TABLE_HEAD}")
        for r in sorted((r for r in rows if r.area == area), key=lambda r: r.test):
            observed = r.observed or "passed (nothing observed)"
            out.append(f"| {_cell(r.case)} | {_cell(r.expected)} | {_cell(observed)} | `{_cell(r.test)}` |\n")
    return "".join(out)


_ROW_RE = re.compile(r"^\| (?P<case>.*?) \| (?P<expected>.*?) \| (?P<observed>.*?) \| `(?P<test>[^`]+)` \|$")


def _unescape(cell: str) -> str:
    return cell.replace("\\|", "|")


def _kept_rows(path: Path, ran: dict[str, _Row], root: Path) -> dict[str, _Row]:
    """Rows of the existing document whose test still exists but did not run this time."""
    if not path.exists():
        return {}
    kept: dict[str, _Row] = {}
    area = "general"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            area = line[3:].strip()
            continue
        m = _ROW_RE.match(line)
        if not m or m["test"] in ran or not _test_exists(root, m["test"]):
            continue
        observed = _unescape(m["observed"])
        kept[m["test"]] = _Row(
            area=area,
            case=_unescape(m["case"]),
            expected=_unescape(m["expected"]),
            test=m["test"],
            observed=observed,
            outcome="failed" if observed.startswith("FAILED") else "passed",
        )
    return kept


def _test_exists(root: Path, nodeid: str) -> bool:
    file, _, rest = nodeid.partition("::")
    source = root / file
    if not source.exists():
        return False
    name = rest.split("[")[0].split("::")[-1]  # a parameter id may itself hold "::" (an IPv6 address)
    return re.search(rf"\bdef {re.escape(name)}\b", source.read_text(encoding="utf-8")) is not None
