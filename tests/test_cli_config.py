"""`omamori --config X <command>` uses X for every command group (0.1's `capture` built its own Context
from the default config and ignored X)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy
from typer.testing import CliRunner

from tests.conftest import EXAMPLE_BRANDS, free_port
from watcher.cli import GROUPS, app
from watcher.commands import invocation
from watcher.core import db

# (group or command, arguments that do real work without reaching any server); every group is here.
INVOCATIONS: tuple[tuple[str, ...], ...] = (
    ("status",), ("jobs",), ("job", "health"), ("add", "hxxps://hoshizora-cli-check[.]top/login"),
    ("match",), ("lint-messages", "{templates}"),
    ("brands", "list"), ("brands", "sync"), ("db", "current"),
    ("ct", "logs"), ("permutations", "registered"), ("intake", "eml", "{templates}"),
    ("capture", "references", "--brand", "no-such-brand"), ("takedown", "list"), ("inventory", "list"),
    ("mailauth", "senders"), ("report", "official-domains"), ("data", "refresh", "ct-log-list"),
    ("case", "list"), ("alerts", "list"), ("feeds", "list"), ("candidates", "list"), ("findings", "list"),
)
NO_CONTEXT = {"user"}  # `user hash-password` reads a password and builds no Context


def test_every_group_is_exercised() -> None:
    groups = {name for name, _ in GROUPS}
    assert groups - {inv[0] for inv in INVOCATIONS} == NO_CONTEXT


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "notice.txt").write_text("ご案内: https://hoshizora-sec.co.jp/info\n", encoding="utf-8")
    closed = free_port()  # nothing listens here: a command that reached out would fail, not leak
    cfg = tmp_path / "omamori.toml"
    cfg.write_text(f"""
[service]
state_dir = "{tmp_path / 'state'}"
brands_file = "{EXAMPLE_BRANDS}"
lab_mode = true
[database]
url = "sqlite:///{tmp_path / 'state' / 'cli.sqlite'}"
[dns]
nameservers = ["127.0.0.1"]
port = {closed}
[smtp]
host = "127.0.0.1"
port = {closed}
[crawl]
proxy = "http://127.0.0.1:{closed}"
[rdap]
bootstrap_file = "{tmp_path / 'no-rdap.json'}"
ip_bootstrap_file = "{tmp_path / 'no-rdap.json'}"
""", encoding="utf-8")
    return cfg


@pytest.mark.parametrize("args", INVOCATIONS, ids=lambda a: " ".join(a[:2]))
def test_config_reaches_the_command(args: tuple[str, ...], config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    urls: list[str] = []
    real = db.create_engine

    def spy(url: object, *a: object, **kw: object) -> sqlalchemy.Engine:
        urls.append(str(url))
        return real(url, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(db, "create_engine", spy)
    monkeypatch.setattr(invocation._Invocation, "pinned", None)
    argv = ["--config", str(config), *(a.format(templates=config.parent / "templates") for a in args)]
    out = CliRunner().invoke(app, argv, input="hoshizora-sec-login.top\n")
    assert out.exception is None or isinstance(out.exception, SystemExit), out.output
    assert "config error" not in out.output, out.output
    assert urls, f"{' '.join(args)} built no Context: {out.output}"
    assert set(urls) == {f"sqlite:///{config.parent / 'state' / 'cli.sqlite'}"}, urls
    ctx = invocation.context()
    assert ctx.settings.source == config
