"""`omamori run` in production mode with no egress proxy says so loudly at every start."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import make_settings
from watcher.commands.service import warn_if_unguarded
from watcher.context import Context


@pytest.mark.reliability("`omamori run` starts with lab_mode={lab_mode} and crawl.proxy={proxy!r}",
                         "a loud warning at start: {warned}", area="configuration")
@pytest.mark.parametrize(("lab_mode", "proxy", "warned"), [(False, "", True), (False, "http://egress.internal:3128", False),
                                                          (True, "", False)])
def test_no_proxy_in_production_is_a_warning(tmp_path, engine_free_ctx, caplog, lab_mode, proxy, warned,
                                             observe) -> None:
    settings = make_settings(tmp_path, service={"lab_mode": lab_mode}, crawl={"proxy": proxy})
    with caplog.at_level(logging.WARNING, logger="omamori"):
        warn_if_unguarded(engine_free_ctx(settings), logging.getLogger("omamori"))
    said = [r.getMessage() for r in caplog.records if "crawl.proxy is empty" in r.getMessage()]
    assert bool(said) == warned
    observe(f"WARNING: {said[0]}" if said else "no warning")


@pytest.fixture
def engine_free_ctx():
    import sqlalchemy as sa

    return lambda settings: Context(settings=settings, engine=sa.create_engine("sqlite://"))
