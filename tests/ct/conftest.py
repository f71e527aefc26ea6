"""CT tests run against the lab's real CT log and certstream server (fixtures ``lab_ct`` and
``lab_certstream`` from lab.testing)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from watcher.context import Context
from watcher.core.brands import sync_brands
from watcher.discovery.ct.matcher import Matcher, matcher_for


@pytest.fixture
def ct_ctx(ctx: Context) -> Context:
    """The example brands synced, reading from the beginning of new logs."""
    ctx.settings.ct.start_at = "beginning"
    with Session(ctx.engine) as s:
        sync_brands(s, ctx.brands)
    return ctx


@pytest.fixture
def matcher(ctx: Context) -> Matcher:
    return matcher_for(ctx)
