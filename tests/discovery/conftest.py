"""Fixtures of the discovery tests: Contexts whose DNS / RDAP / WHOIS point at the lab's servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from tests.conftest import make_settings
from watcher.brands import sync_brands
from watcher.clock import FrozenClock
from watcher.context import Context, build_context

FIXTURES = Path(__file__).parent / "fixtures"


def dns_section(lab_dns: Any, **extra: Any) -> dict[str, Any]:
    return {"nameservers": ["127.0.0.1"], "port": lab_dns.port, "timeout": 0.5, "retries": 1,
            "concurrency": 50, "rate_limit": 5000.0, **extra}


@pytest.fixture
def make_ctx(tmp_path: Path, clock: FrozenClock) -> Iterator[Callable[..., Context]]:
    """Factory: ``make_ctx(dns={...}, rdap={...})`` -> a Context on a fresh SQLite file."""
    made: list[Context] = []

    def make(**sections: dict[str, Any]) -> Context:
        c = build_context(make_settings(tmp_path, "", **sections), clock=clock)
        with Session(c.engine) as s:  # Brand rows, as `omamori run` makes them at start
            sync_brands(s, c.brands)
        made.append(c)
        return c

    yield make
    for c in made:
        c.engine.dispose()


@pytest.fixture
def dns_ctx(make_ctx: Callable[..., Context], lab_dns: Any) -> Context:
    return make_ctx(dns=dns_section(lab_dns))


@pytest.fixture
def ctx(make_ctx: Callable[..., Context]) -> Context:
    """The root ``ctx`` plus Brand rows (discover links candidates to brands by their rows)."""
    return make_ctx()
