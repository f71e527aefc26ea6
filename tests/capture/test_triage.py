"""Snapshot triage without a browser: names that do not exist (lab DNS answers NXDOMAIN, so there is
nothing to fetch) and the status rules applied to real Snapshot rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from tests.capture.conftest import BROWSER, needs_browser
from tests.conftest import make_settings
from watcher.capture.snapshot import check_candidate, run_due
from watcher.capture.triage import after_snapshot
from watcher.context import Context, build_context
from watcher.core.models import Candidate, CandidateStatus, Event, Snapshot, Verdict

S = CandidateStatus


@pytest.fixture
def dns_ctx(tmp_path: Path, lab_dns: Any, clock: Any) -> Any:
    lab_dns.set_rcode("gone-phish.top", "NXDOMAIN")
    settings = make_settings(tmp_path, dns={"nameservers": [lab_dns.host], "port": lab_dns.port, "timeout": 1.0,
                                            "retries": 0})
    ctx = build_context(settings, clock=clock)
    yield ctx
    ctx.engine.dispose()


def _cand(ctx: Context, status: CandidateStatus, down_count: int = 0) -> int:
    with ctx.transaction() as s:
        c = Candidate(domain="gone-phish.top", registrable="gone-phish.top", status=status, down_count=down_count,
                      next_check_at=ctx.now())
        s.add(c)
        s.flush()
        assert c.id is not None
        return c.id


def test_a_new_name_that_does_not_exist_is_watched(dns_ctx: Context) -> None:
    cid = _cand(dns_ctx, S.NEW)
    summary = run_due(dns_ctx)
    assert summary["checked"] == 1 and summary["verdicts"] == {"unreachable": 1}
    with dns_ctx.session() as s:
        c = s.get(Candidate, cid)
        sn = s.get(Snapshot, c.last_snapshot_id)
    assert c.status == S.WATCHING and c.verdict == Verdict.UNREACHABLE and c.last_checked_at == dns_ctx.now()
    assert sn.gone and not sn.reachable and sn.dns["statuses"]["A"] == "nxdomain"
    assert any("NXDOMAIN" in r["detail"] for r in sn.reasons)


def test_a_confirmed_site_gone_counts_towards_down(dns_ctx: Context) -> None:
    cid = _cand(dns_ctx, S.CONFIRMED)
    sn = check_candidate(dns_ctx, cid, actor="analyst")
    with dns_ctx.session() as s:
        c = s.get(Candidate, cid)
        assert sn.gone and c.status == S.CONFIRMED and c.down_count == 1  # down_confirmations = 2
    check_candidate(dns_ctx, cid)
    with dns_ctx.session() as s:
        c = s.get(Candidate, cid)
        assert c.status == S.DOWN and c.down_count == 2 and c.down_at == dns_ctx.now()
        assert len(list(s.exec(select(Event).where(Event.action == "snapshot.taken")))) == 2


def test_a_dismissed_candidate_keeps_its_decision(dns_ctx: Context) -> None:
    cid = _cand(dns_ctx, S.DISMISSED)
    check_candidate(dns_ctx, cid)
    with dns_ctx.session() as s:
        c = s.get(Candidate, cid)
        assert c.status == S.DISMISSED and c.next_check_at is None


@pytest.mark.parametrize(("status", "verdict", "gone", "expected"), [
    (S.CHECKED, Verdict.PHISHING, False, S.CHECKED),
    (S.WATCHING, Verdict.SUSPICIOUS, False, S.CHECKED),  # a parked name came alive
    (S.CHECKED, Verdict.PARKED, False, S.WATCHING),
    (S.REPORTED, Verdict.PHISHING, False, S.REPORTED),  # still up: re-checked in a few hours
    (S.DOWN, Verdict.PHISHING, False, S.CHECKED),  # back up
    (S.DOWN, Verdict.UNREACHABLE, True, S.DOWN),
])
def test_status_rules(ctx: Context, status: CandidateStatus, verdict: Verdict, gone: bool,
                      expected: CandidateStatus) -> None:
    with ctx.transaction() as s:
        c = Candidate(domain="x.top", registrable="x.top", status=status)
        s.add(c)
        s.flush()
        sn = Snapshot(candidate_id=c.id, verdict=verdict, gone=gone, reachable=not gone, capture={})
        s.add(sn)
        s.flush()
        after_snapshot(s, c, sn, actor="system", now=ctx.now(), recheck_hours=ctx.settings.takedown.recheck_hours,
                       down_confirmations=ctx.settings.takedown.down_confirmations)
        assert c.status == expected
        assert c.next_check_at is not None and c.next_check_at > ctx.now()


@pytest.mark.browser
@needs_browser
def test_run_due_captures_missing_references_first(tmp_path: Path, lab_dns: Any, lab_web: Any, clock: Any) -> None:
    from watcher.core.brands import sync_brands
    from watcher.core.models import Brand

    lab_web.publish("trade.hoshizora-sec.co.jp", "official")
    lab_web.publish("www.hoshizora-sec.co.jp", "official")
    lab_dns.set_rcode("gone-phish.top", "NXDOMAIN")
    settings = make_settings(tmp_path, dns={"nameservers": [lab_dns.host], "port": lab_dns.port, "timeout": 1.0,
                                            "retries": 0},
                             crawl={"proxy": lab_web.proxy_url, "browser_executable": str(BROWSER),
                                    "settle_seconds": 0.3, "page_timeout_seconds": 10})
    ctx = build_context(settings, clock=clock)
    with ctx.transaction() as s:
        sync_brands(s, ctx.brands)
    _cand(ctx, S.NEW)
    summary = run_due(ctx)
    assert summary["references"]["hoshizora"]["references"] == 2
    assert "errors" in summary["references"]["kaede"]  # its site is not in this lab: recorded, not raised
    with ctx.session() as s:
        refs = s.exec(select(Brand).where(Brand.slug == "hoshizora")).one().references
    assert refs[0]["logo_sha256"] and ctx.evidence.verify(refs[0]["logo_sha256"])
    assert refs[0]["logo_box"] == {"x": 32, "y": 8, "w": 210, "h": 56}
    assert run_due(ctx).get("references") is None  # nothing due now, nothing captured again
    ctx.engine.dispose()
