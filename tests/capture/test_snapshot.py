"""The snapshot job end to end on the lab: references, the clone set and the non-phishing set
(DNS -> RDAP -> capture -> score -> Snapshot -> triage), then a reported site going down and back up.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from bench.capture import CLONES, NON_PHISHING, quality
from tests.capture.conftest import needs_browser
from watcher.capture.snapshot import check_candidate, run_due
from watcher.core.models import Candidate, CandidateStatus, Event, Snapshot, Verdict

pytestmark = [pytest.mark.browser, needs_browser]
S = CandidateStatus


@pytest.fixture(scope="module")
def world(lab: tuple[Any, Any, Any, Any]) -> dict[str, Any]:
    ctx, web, dns, rdap = lab
    q = quality(ctx)
    with ctx.session() as s:
        cands = {c.domain: c for c in s.exec(select(Candidate))}
        snaps = {sn.candidate_id: sn for sn in s.exec(select(Snapshot))}
    return {"ctx": ctx, "web": web, "dns": dns, "rdap": rdap, "q": q, "cands": cands, "snaps": snaps}


def test_references_are_captured_with_a_logo(world: dict[str, Any]) -> None:
    assert world["q"]["references"]["hoshizora"]["references"] == 2
    assert world["q"]["references"]["hoshizora"]["logo"]


def test_every_clone_is_phishing(world: dict[str, Any]) -> None:
    rows = {r["host"]: r for r in world["q"]["rows"]}
    for host in CLONES:
        assert rows[host]["verdict"] == "phishing", rows[host]


def test_no_non_phishing_page_is_flagged(world: dict[str, Any]) -> None:
    rows = {r["host"]: r for r in world["q"]["rows"]}
    for host in NON_PHISHING:
        assert rows[host]["verdict"] not in ("phishing", "suspicious"), rows[host]
    assert rows["hoshizora-sec.co"]["verdict"] == "parked"
    assert rows["hoshizora-secure.top"]["verdict"] == "suspended"


def test_snapshot_carries_the_evidence(world: dict[str, Any]) -> None:
    ctx = world["ctx"]
    cand = world["cands"]["hoshizora-sec-login.top"]
    sn: Snapshot = world["snaps"][cand.id]
    assert sn.reachable and not sn.gone and sn.verdict == Verdict.PHISHING and sn.score >= 60
    for sha in (sn.screenshot_sha256, sn.fullpage_sha256, sn.html_sha256):
        assert ctx.evidence.verify(sha)
    cap = sn.capture
    assert cap["final_url"] == "https://hoshizora-sec-login.top/" and cap["status"] == 200
    assert cap["tls"]["issuer"] == "Lab Trusted CA" and cap["tls"]["not_after"]
    assert cap["forms"][0]["has_password"] and cap["profile"] == "desktop" and cap["browser_used"]
    assert {"phash", "dhash", "ssdeep", "tlsh"} <= set(sn.hashes)
    assert sn.dns["records"]["A"] and sn.rdap  # RDAP answered, or says it is not available
    kinds = {r["kind"] for r in sn.reasons}
    assert {"visual", "logo", "html", "brand_name", "credential_form"} <= kinds
    assert all(isinstance(r["detail"], str) and r["detail"] for r in sn.reasons)
    if "domain" in sn.rdap:  # the lab RDAP registered the clone four days ago
        assert sn.rdap["domain"]["registrar"] and "fresh_registration" in kinds
        assert world["cands"]["hoshizora-sec-login.top"].registered_at is not None
    assert isinstance(sn.hosting, dict)


def test_triage_after_the_first_snapshot(world: dict[str, Any]) -> None:
    c = world["cands"]
    assert c["hoshizora-sec-login.top"].status == S.CHECKED  # never confirmed automatically
    assert c["hoshizora-sec-login.top"].verdict == Verdict.PHISHING and c["hoshizora-sec-login.top"].last_snapshot_id
    assert c["hoshizora-sec.co"].status == S.WATCHING  # parked
    assert c["hoshizora-secure.top"].status == S.WATCHING  # suspended: not live
    assert c["tsubame-sec.co.jp"].status == S.CHECKED


def test_a_reported_site_goes_down_after_two_gone_checks_then_comes_back(world: dict[str, Any]) -> None:
    ctx, web, dns = world["ctx"], world["web"], world["dns"]
    host = "hoshizora-sec-login.top"
    cid = world["cands"][host].id
    with ctx.transaction() as s:
        cand = s.get(Candidate, cid)
        cand.status = S.REPORTED  # as the takedown side leaves it after sending requests
        s.add(cand)
    web.suspend(host)
    first = check_candidate(ctx, cid)
    assert first.gone and first.verdict == Verdict.SUSPENDED
    with ctx.session() as s:
        cand = s.get(Candidate, cid)
        assert cand.status == S.REPORTED and cand.down_count == 1
        cand.next_check_at = ctx.now()
        s.add(cand)
        s.commit()
    dns.set_rcode(host, "NXDOMAIN")
    summary = run_due(ctx)  # the job: due candidates only
    assert summary["checked"] >= 1
    with ctx.session() as s:
        cand = s.get(Candidate, cid)
        assert cand.status == S.DOWN and cand.down_at is not None
        last = s.get(Snapshot, cand.last_snapshot_id)
        assert last.gone and any("NXDOMAIN" in r["detail"] for r in last.reasons)
    dns.set_rcode(host, None)
    web.restore(host)
    back = check_candidate(ctx, cid, actor="analyst@example")
    assert back.reachable and not back.gone
    with ctx.session() as s:
        cand = s.get(Candidate, cid)
        assert cand.status == S.CHECKED and cand.down_count == 0
        moves = [e.detail for e in s.exec(select(Event).where(Event.object_id == cid,
                                                               Event.action == "candidate.status"))]
        assert {"from": "down", "to": "checked"} in [{k: m[k] for k in ("from", "to")} for m in moves]
