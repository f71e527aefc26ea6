"""Shared fixtures: settings and a Context on a temporary SQLite file or a real PostgreSQL.

PostgreSQL: the session starts its own throw-away cluster with Debian's binaries on a free port
(as the ``postgres`` user when we are root, since initdb refuses root) and removes it afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from watcher.context import Context, build_context
from watcher.core.clock import FrozenClock
from watcher.core.config import ROOT, Settings, load_settings

pytest_plugins = ["lab.testing"] if (ROOT / "lab" / "testing.py").exists() else []

EXAMPLE_BRANDS = ROOT / "data" / "brands.example.toml"
LAB_DATA = ROOT / "data" / "lab"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_settings(tmp_path: Path, database_url: str = "", **sections: dict) -> Settings:
    overrides: dict = {
        "service": {"state_dir": str(tmp_path / "state"), "brands_file": str(EXAMPLE_BRANDS), "lab_mode": True},
        "database": {"url": database_url},
        # The lab's stand-ins for the CERTs, .jp registrars and shorteners: no test writes to a real desk.
        "takedown": {"parties_file": str(LAB_DATA / "takedown-parties.json"),
                     "jp_registrars_file": str(LAB_DATA / "jp-registrars.json"),
                     "shorteners_file": str(LAB_DATA / "shorteners.json")},
    }
    for k, v in sections.items():
        overrides[k] = {**overrides.get(k, {}), **v}
    return _load(overrides)


def _load(overrides: dict) -> Settings:
    # Never read the developer's data/config.toml in tests.
    empty = Path(tempfile.mkdtemp()) / "config.toml"
    empty.write_text("")
    return load_settings(empty, environ={}, overrides=overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def make_synced_ctx(tmp_path: Path, clock: FrozenClock) -> Iterator[Callable[..., Context]]:
    """Factory: ``make_synced_ctx(settings)`` or ``make_synced_ctx(**sections)`` -> a Context on a fresh
    SQLite file with the brands synced (as ``omamori run`` does at start); disposed afterwards."""
    from sqlmodel import Session

    from watcher.core.brands import sync_brands

    made: list[Context] = []

    def make(settings: Settings | None = None, **sections: dict) -> Context:
        c = build_context(settings or make_settings(tmp_path, "", **sections), clock=clock)
        with Session(c.engine) as s:
            sync_brands(s, c.brands)
        made.append(c)
        return c

    yield make
    for c in made:
        c.engine.dispose()


@pytest.fixture
def ctx(settings: Settings, clock: FrozenClock) -> Iterator[Context]:
    c = build_context(settings, clock=clock)
    yield c
    c.engine.dispose()


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A throw-away PostgreSQL cluster; yields a base URL without the database name."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL binaries not installed (make setup installs them as root)")
    base = Path(tempfile.mkdtemp(prefix="omamori-pg-"))
    data, sock = base / "data", base / "sock"
    data.mkdir()
    sock.mkdir()
    port = free_port()
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    if as_root:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(data, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
        os.chmod(base, 0o755)
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--no-instructions"], check=True, capture_output=True)
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(sock / "pg.log"), "-w", "-o",
                    f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off",
                    "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


_db_counter = [0]


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the session's PostgreSQL."""
    import psycopg

    _db_counter[0] += 1
    name = f"t{os.getpid()}_{_db_counter[0]}"
    dsn = pg_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{pg_server}/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'omamori.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def any_ctx(db_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Context]:
    """A Context on SQLite and, as a second parameter, on PostgreSQL."""
    c = build_context(make_settings(tmp_path, db_url), clock=clock)
    yield c
    c.engine.dispose()
