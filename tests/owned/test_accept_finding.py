"""A person accepts a finding's risk: it stays accepted while its check sees the same facts, opens again
when they change, and the audit log says who accepted it and why (`omamori findings`, the dashboard)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

import watcher.cli as cli
from tests.owned.conftest import finding
from watcher.commands import invocation
from watcher.core.findings import FindingDecisionError, accept_finding, reopen_finding
from watcher.core.models import Event, FindingStatus
from watcher.owned import registration
from watcher.owned.checks import run_checks

CHECKS = (registration.check_expiry,)


@pytest.fixture
def expiring(make_ctx: Any, lab_rdap: Any, lab_whois: Any) -> Any:
    """hzsec.com expires in 20 days: the expiry check opens a finding on it."""
    ctx = make_ctx(rdap=lab_rdap, whois=lab_whois)
    lab_rdap.set_domain("hzsec.com", created=ctx.now() - dt.timedelta(days=3000),
                        expires=ctx.now() + dt.timedelta(days=20))
    run_checks(ctx, CHECKS)
    assert finding(ctx, "expiry", "hzsec.com").status == FindingStatus.OPEN
    return ctx


def _events(ctx: Any, action: str) -> list[Event]:
    with Session(ctx.engine) as s:
        return list(s.exec(select(Event).where(Event.action == action)))


def test_an_accepted_finding_stays_accepted_until_the_facts_change(expiring: Any, lab_rdap: Any) -> None:
    ctx = expiring
    fid = finding(ctx, "expiry", "hzsec.com").id
    with Session(ctx.engine) as s:
        accept_finding(s, fid, actor="cli:tanaka", reason="移管予定のため更新しない", now=ctx.now())
        s.commit()
    [ev] = _events(ctx, "finding.accepted")
    assert ev.actor == "cli:tanaka" and ev.object_id == fid and ev.detail["reason"] == "移管予定のため更新しない"

    run_checks(ctx, CHECKS)  # the same facts: the registry still says 20 days
    assert finding(ctx, "expiry", "hzsec.com").status == FindingStatus.ACCEPTED

    # The facts change: someone moved the expiry date (still inside the 30-day band).
    lab_rdap.update_domain("hzsec.com", expires=ctx.now() + dt.timedelta(days=12))
    run_checks(ctx, CHECKS)
    f = finding(ctx, "expiry", "hzsec.com")
    assert f.status == FindingStatus.OPEN and f.times_opened == 2


def test_a_person_reopens_an_accepted_finding(expiring: Any) -> None:
    ctx = expiring
    fid = finding(ctx, "expiry", "hzsec.com").id
    with Session(ctx.engine) as s:
        accept_finding(s, fid, actor="dashboard:sato", reason="担当部署で対応中", now=ctx.now())
        reopen_finding(s, fid, actor="dashboard:suzuki", reason="期限が近い", now=ctx.now())
        s.commit()
    assert finding(ctx, "expiry", "hzsec.com").status == FindingStatus.OPEN
    [ev] = _events(ctx, "finding.reopened")
    assert ev.actor == "dashboard:suzuki" and ev.detail["reason"] == "期限が近い"


def test_decisions_a_finding_does_not_allow_are_refused(expiring: Any, lab_rdap: Any) -> None:
    ctx = expiring
    fid = finding(ctx, "expiry", "hzsec.com").id
    with Session(ctx.engine) as s:
        with pytest.raises(FindingDecisionError, match=f"accepting finding {fid} needs a reason"):
            accept_finding(s, fid, actor="cli:tanaka", reason="  ")
        with pytest.raises(FindingDecisionError, match=f"finding {fid} is not accepted"):
            reopen_finding(s, fid, actor="cli:tanaka")
        with pytest.raises(FindingDecisionError, match="no finding 999999"):
            accept_finding(s, 999999, actor="cli:tanaka", reason="x")
    lab_rdap.update_domain("hzsec.com", expires=ctx.now() + dt.timedelta(days=400))  # renewed
    run_checks(ctx, CHECKS)
    with Session(ctx.engine) as s, pytest.raises(FindingDecisionError, match=f"finding {fid} is already resolved"):
        accept_finding(s, fid, actor="cli:tanaka", reason="x")
    assert _events(ctx, "finding.accepted") == []


def test_the_cli_lists_accepts_and_reopens_in_japanese_and_english(expiring: Any, monkeypatch: Any) -> None:
    ctx = expiring
    monkeypatch.setattr(invocation._Invocation, "pinned", ctx)
    monkeypatch.setattr(invocation, "user", lambda: "tanaka")
    monkeypatch.setattr(invocation.console, "_width", 240)  # the table whole, not cut to 80 columns
    fid = finding(ctx, "expiry", "hzsec.com").id
    run = CliRunner().invoke

    out = run(cli.app, ["--lang", "en", "findings", "accept", str(fid)])
    assert out.exit_code == 1 and f"accepting finding {fid} needs a reason" in out.output
    assert len(out.output.strip().splitlines()) == 1, out.output

    out = run(cli.app, ["--lang", "ja", "findings", "accept", str(fid), "--reason", "移管予定のため更新しない"])
    assert out.exit_code == 0, out.output
    assert f"指摘 {fid}" in out.output and "受容しました" in out.output
    [ev] = _events(ctx, "finding.accepted")
    assert ev.actor == "cli:tanaka" and ev.detail["reason"] == "移管予定のため更新しない"

    out = run(cli.app, ["--lang", "en", "findings", "accept", str(fid), "--reason", "again"])
    assert out.exit_code == 1 and f"finding {fid} is already accepted (cli:tanaka" in out.output

    out = run(cli.app, ["--lang", "en", "findings", "list", "--group", "owned", "--json"])
    rows = {r["id"]: r for r in json.loads(out.output)}
    assert rows[fid]["status"] == "accepted" and rows[fid]["accepted"]["by"] == "cli:tanaka"
    assert rows[fid]["accepted"]["reason"] == "移管予定のため更新しない"
    out = run(cli.app, ["--lang", "en", "findings", "list", "--group", "mail", "--json"])
    assert fid not in {r["id"] for r in json.loads(out.output)}
    out = run(cli.app, ["--lang", "ja", "findings", "list", "--severity", "high"])
    assert out.exit_code == 0 and "リスク受容" in out.output and "hzsec.com" in out.output
    out = run(cli.app, ["--lang", "en", "findings", "list", "--group", "nosuch"])
    assert out.exit_code == 2 and "unknown group 'nosuch'; use one of: `self`" in out.output

    out = run(cli.app, ["--lang", "en", "findings", "reopen", str(fid)])
    assert out.exit_code == 0 and f"finding {fid} (expiry hzsec.com) reopened" in out.output
    out = run(cli.app, ["--lang", "ja", "findings", "reopen", "999999"])
    assert out.exit_code == 1 and "指摘 999999 はありません" in out.output
