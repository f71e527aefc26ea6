"""Dashboard fixtures: one seeded database per session, copied for each test that writes."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.seed import Seeded, seed, write_config
from watcher.context import Context, build_context
from watcher.core.config import ROOT, load_settings

APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seeded]:
    base = tmp_path_factory.mktemp("dash-template")
    cfg = write_config(base)
    ctx = build_context(load_settings(cfg, environ={}))
    ids = seed(ctx)
    ctx.engine.dispose()
    return base, ids


@pytest.fixture
def world(seeded_template: tuple[Path, Seeded], tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Context, Seeded]]:
    """A private copy of the seeded database (the app reads its config from OMAMORI_CONFIG)."""
    base, ids = seeded_template
    shutil.copytree(base / "state", tmp_path / "state")
    cfg = write_config(tmp_path)
    monkeypatch.setenv("OMAMORI_CONFIG", str(cfg))
    ctx = build_context(load_settings(cfg, environ={}), migrate=False)
    yield ctx, ids
    ctx.engine.dispose()


@pytest.fixture
def app(world: tuple[Context, Seeded]) -> Callable[..., AppTest]:
    """``app("approver")``: the dashboard, signed in as that user (None: anonymous), after its first run."""

    def make(user: str | None = None, **state: object) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=30)
        if user:
            at.session_state["user"] = user
            state.setdefault("nav", "triage")  # the tests of one view open it; the first view has its own
        for k, v in state.items():
            at.session_state[k] = v
        at.run()
        assert not at.exception, at.exception
        return at

    return make
