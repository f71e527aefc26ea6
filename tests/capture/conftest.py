"""Fixtures of the capture tests: one lab (web + DNS) and one Context shared by a module's tests.

Browser batches are the slow part (a Chromium start and a page each), so each module runs its
crawler batch once and its tests read the records.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.capture import HEADLESS_SHELL, lab_context

BROWSER = HEADLESS_SHELL if HEADLESS_SHELL.exists() else Path("/usr/bin/chromium")

needs_browser = pytest.mark.skipif(not BROWSER.exists(), reason="Debian's chromium is not installed (make system)")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any, Any, Any]]:
    """(ctx, web, dns, rdap): the lab's web hosts, DNS and RDAP, a lab-mode Context on SQLite, brands synced."""
    with lab_context(tmp_path_factory.mktemp("lab"), page_timeout_seconds=10, settle_seconds=0.5) as triple:
        yield triple
