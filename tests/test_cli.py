"""The omamori CLI against SQLite and PostgreSQL."""

import json
import os
import subprocess
import sys

from sqlmodel import Session, select
from typer.testing import CliRunner

from watcher.cli import app
from watcher.core.config import ROOT
from watcher.core.db import head_revision
from watcher.core.models import Brand, Candidate, Event

runner = CliRunner()


def config_file(tmp_path, db_url):
    p = tmp_path / "config.toml"
    p.write_text(f"""
[service]
state_dir = "{tmp_path / 'state'}"
brands_file = "{ROOT / 'data' / 'brands.example.toml'}"
[database]
url = "{db_url}"
""", encoding="utf-8")
    return p


def test_help_everywhere():
    for args in ([], ["brands"], ["db"], ["run"], ["add"], ["check"], ["status"], ["job"], ["user"]):
        out = runner.invoke(app, [*args, "--help"])
        assert out.exit_code == 0, (args, out.output)
        assert "Usage" in out.output


def test_the_installed_entry_point_runs():
    exe = os.path.join(os.path.dirname(sys.executable), "omamori")
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "brand protection" in out.stdout


def test_brands_sync_then_status(tmp_path, db_url):
    cfg = config_file(tmp_path, db_url)
    out = runner.invoke(app, ["--config", str(cfg), "--lang", "en", "brands", "sync"])
    assert out.exit_code == 0, out.output
    assert "brands synced: 2 added" in out.output
    out = runner.invoke(app, ["--config", str(cfg), "status", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["open_findings"] == 0 and data["candidates"] == {}
    out = runner.invoke(app, ["--config", str(cfg), "status"])
    assert out.exit_code == 0 and "ct_poll" in out.output


def test_add_reports_a_url(tmp_path, db_url):
    from watcher.core.db import make_engine

    cfg = config_file(tmp_path, db_url)
    out = runner.invoke(app, ["--config", str(cfg), "add", "http://k3v9q.xyz/hoshizora/login.php",
                              "--brand", "hoshizora", "--note", "SMS from a customer"])
    assert out.exit_code == 0, out.output
    engine = make_engine(db_url)
    with Session(engine) as s:
        c = s.exec(select(Candidate)).one()
        assert c.domain == "k3v9q.xyz" and c.urls == ["http://k3v9q.xyz/hoshizora/login.php"]
        assert c.brand_id == s.exec(select(Brand.id).where(Brand.slug == "hoshizora")).first() or c.brand_id is None
        assert "SMS from a customer" in c.reasons[0]["detail"]
        assert s.exec(select(Event).where(Event.action == "candidate.discovered")).one().actor.startswith("cli:")
    engine.dispose()
    out = runner.invoke(app, ["--config", str(cfg), "add", "https://trade.hoshizora-sec.co.jp/login"])
    assert out.exit_code == 1 and "追加しませんでした" in out.output and "ours" in out.output  # the reason as recorded


def test_a_config_error_is_one_line_and_exit_2(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[dns]\nport = 'x'\n")
    out = runner.invoke(app, ["--config", str(p), "status"])
    assert out.exit_code == 2
    assert "設定エラー" in out.output and "dns.port" in out.output  # the config cannot say its language: Japanese
    out = runner.invoke(app, ["--config", str(p), "--lang", "en", "status"])
    assert out.exit_code == 2 and "config error" in out.output


def test_an_unknown_job_is_named(tmp_path):
    cfg = config_file(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    out = runner.invoke(app, ["--config", str(cfg), "job", "nope"])
    assert out.exit_code == 2 and "ジョブ 'nope' はありません" in out.output
    out = runner.invoke(app, ["--config", str(cfg), "--lang", "en", "job", "nope"])
    assert out.exit_code == 2 and "no job 'nope'" in out.output
    out = runner.invoke(app, ["--config", str(cfg), "--lang", "fr", "job", "nope"])
    assert out.exit_code == 2 and "use ja or en" in out.output


def test_db_upgrade_is_repeatable(tmp_path):
    cfg = config_file(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    first = runner.invoke(app, ["--config", str(cfg), "--lang", "en", "db", "upgrade"])
    again = runner.invoke(app, ["--config", str(cfg), "--lang", "en", "db", "upgrade"])
    head = head_revision()
    assert first.exit_code == 0 and f"empty -> {head}" in first.output
    assert again.exit_code == 0 and f"{head} -> {head}" in again.output
