"""Fixtures of the discovery tests: Contexts whose DNS / RDAP / WHOIS point at the lab's servers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from watcher.context import Context

FIXTURES = Path(__file__).parent / "fixtures"


def dns_section(lab_dns: Any, **extra: Any) -> dict[str, Any]:
    return {"nameservers": ["127.0.0.1"], "port": lab_dns.port, "timeout": 0.5, "retries": 1,
            "concurrency": 50, "rate_limit": 5000.0, **extra}


@pytest.fixture
def make_ctx(make_synced_ctx: Callable[..., Context]) -> Callable[..., Context]:
    """Factory: ``make_ctx(dns={...}, rdap={...})`` -> a Context on a fresh SQLite file, brands synced."""
    return make_synced_ctx


@pytest.fixture
def dns_ctx(make_ctx: Callable[..., Context], lab_dns: Any) -> Context:
    return make_ctx(dns=dns_section(lab_dns))


@pytest.fixture
def ctx(make_ctx: Callable[..., Context]) -> Context:
    """The root ``ctx`` plus Brand rows (discover links candidates to brands by their rows)."""
    return make_ctx()
