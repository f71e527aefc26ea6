"""`omamori match`, `omamori ct logs|read|backfill` and the ct_poll job, against the lab CT log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select
from typer.testing import CliRunner

from tests.ct.labhelp import write_log_list
from watcher.cli import app
from watcher.context import build_context
from watcher.core.config import ROOT
from watcher.core.models import Candidate, Event, LogPosition
from watcher.discovery.ct.jobs import poll
from watcher.schedule import run_job

runner = CliRunner()


def _config(tmp_path: Path, log_list: Path | None = None, start_at: str = "beginning") -> Path:
    p = tmp_path / "config.toml"
    p.write_text(f"""
[service]
state_dir = "{tmp_path / 'state'}"
brands_file = "{ROOT / 'data' / 'brands.example.toml'}"
[ct]
log_list = "{log_list or ROOT / 'data' / 'ct-log-list.json'}"
start_at = "{start_at}"
""", encoding="utf-8")
    return p


def test_match_screens_a_file_and_stdin(tmp_path: Path) -> None:
    f = tmp_path / "names.txt"
    f.write_text("# a list from a feed\nhoshizora-sec-login.top\nexample.com\nhttps://hoshizora-sec.co.jp.login-check.cn/x\n"
                 "trade.hoshizora-sec.co.jp\nnot a name\n", encoding="utf-8")
    out = runner.invoke(app, ["-c", str(_config(tmp_path)), "match", str(f), "--json"])
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    by_input = {r["input"]: r for r in rows}
    assert by_input["hoshizora-sec-login.top"]["brand"] == "hoshizora"
    assert by_input["https://hoshizora-sec.co.jp.login-check.cn/x"]["name"] == "hoshizora-sec.co.jp.login-check.cn"
    assert by_input["trade.hoshizora-sec.co.jp"]["owned"] is True
    assert "error" in by_input["not a name"] and "example.com" not in by_input
    out = runner.invoke(app, ["-c", str(_config(tmp_path)), "match"], input="www-kaede-sec-co-jp.x1.top\n")
    assert out.exit_code == 0 and "kaede" in out.stdout and "flattened" in out.stdout


def test_logs_read_and_backfill(lab_ct, tmp_path: Path) -> None:
    lab_ct.add_noise(300)
    idx = lab_ct.add_certificate("hoshizora-secure.top")
    lab_ct.add_noise(10)
    lab_ct.integrate()
    cfg = _config(tmp_path, write_log_list(lab_ct, tmp_path / "logs.json"))
    out = runner.invoke(app, ["-c", str(cfg), "ct", "logs", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout.splitlines()[0])["state"] == "not read yet"
    out = runner.invoke(app, ["-c", str(cfg), "ct", "read"])
    assert out.exit_code == 0, out.output
    row = json.loads(runner.invoke(app, ["-c", str(cfg), "ct", "logs", "--json"]).stdout.splitlines()[0])
    assert row["next_index"] == row["tree_size"] == lab_ct.sth.size and row["behind"] == 0
    out = runner.invoke(app, ["-c", str(cfg), "--lang", "en", "ct", "backfill", "--start", str(idx - 5), "--end",
                              str(idx + 5)])
    assert out.exit_code == 0, out.output
    assert "read: 10" in out.stdout and "matched: 1" in out.stdout
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    out = runner.invoke(app, ["-c", str(cfg), "--lang", "en", "ct", "backfill", "--since", since, "--log", "Lab"])
    assert out.exit_code == 0 and f"read: {lab_ct.sth.size:,}" in out.stdout, out.output
    out = runner.invoke(app, ["-c", str(cfg), "ct", "backfill"])
    assert out.exit_code == 2


def test_ct_poll_job(lab_ct, tmp_path: Path) -> None:
    from watcher.core.config import load_settings

    lab_ct.add_certificate("hzsec-login.top")
    lab_ct.integrate()
    ctx = build_context(load_settings(_config(tmp_path, write_log_list(lab_ct, tmp_path / "logs.json")), environ={}))
    summary = poll(ctx)
    assert summary["logs"] == 1 and summary["entries"] == 1 and summary["matched"] == 1
    assert run_job(ctx, "ct_poll")["ok"]
    with Session(ctx.engine) as s:
        assert s.exec(select(Candidate.domain)).all() == ["hzsec-login.top"]
        assert s.exec(select(LogPosition)).one().api == "static"
        assert len(s.exec(select(Event).where(Event.action == "ct.matched")).all()) == 1
    ctx.engine.dispose()
