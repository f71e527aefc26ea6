"""The whole loop on the lab: confirm -> requests to the registrar, the hosting network and JPCERT/CC
with the evidence attached -> the lab registrar suspends the domain -> seen gone twice -> closed with
the time-to-down."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from lab.testing import wait_for
from tests.takedown.tdlab import PHISH, add_candidate, check_gone, sha, take_snapshot
from tests.takedown.xarf import validate
from watcher.core.models import (
    Candidate,
    CandidateStatus,
    Event,
    RecipientKind,
    RequestStatus,
    TakedownRequest,
)
from watcher.takedowns import followup, requests


def test_confirmed_lookalike_is_reported_suspended_and_closed(ctx, world, clock):
    cand = add_candidate(ctx)
    snap = take_snapshot(ctx, world, cand)
    with Session(ctx.engine, expire_on_commit=False) as s:
        c = s.get(Candidate, cand.id)
        drafts = requests.confirm(ctx, s, c, actor="analyst:sato", reason="clone of our login page")
        s.commit()
        assert c.status == CandidateStatus.CONFIRMED
    by = {d.recipient: d for d in drafts}
    assert set(by) == {"abuse@cheapnames.test", "abuse@lab-hosting.test", "phishing@jpcert.test"}
    assert by["abuse@cheapnames.test"].recipient_kind == RecipientKind.REGISTRAR
    assert by["abuse@lab-hosting.test"].recipient_kind == RecipientKind.HOSTING
    assert by["phishing@jpcert.test"].language == "ja"
    assert all(d.status == RequestStatus.DRAFT and d.message_id for d in drafts)

    # Idempotent: drafting again adds nothing.
    with Session(ctx.engine, expire_on_commit=False) as s:
        assert requests.draft_requests(ctx, s, s.get(Candidate, cand.id), actor="analyst:sato") == []
        requests.approve_all(ctx, s, s.get(Candidate, cand.id), actor="approver:tanaka")
        s.commit()

    summary = followup.run(ctx)
    assert summary["sent"] == 3 and summary["reported"] == 1
    sent_at = ctx.now()

    msgs = {m.rcpt_tos[0]: m for m in world.smtp.messages()}
    assert set(msgs) == set(by)
    shot = ctx.evidence.get(snap.screenshot_sha256)
    for rcpt, m in msgs.items():
        msg = m.message
        assert msg["Message-ID"] == by[rcpt].message_id
        files = {a.get_filename().split(".", 1)[0]: a.get_payload(decode=True) for a in msg.iter_attachments()}
        assert files["screenshot"] == shot  # the evidence file itself, byte for byte
        assert files["side_by_side"][:8] == b"\x89PNG\r\n\x1a\n"
        report = json.loads(files["xarf"])
        validate(report)
        assert report["source_identifier"] == PHISH and report["dns_records"] == {"a": ["203.0.113.10"]}
        hashes = {e["role"]: e["sha256"] for e in report["omamori"]["evidence_files"]}
        assert hashes["screenshot"] == sha(shot) and hashes["html"] == snap.html_sha256
        assert hashes["side_by_side"] == sha(files["side_by_side"])
        assert report["omamori"]["times_jst"]["evidence_captured"].endswith("+09:00")

    ja = msgs["phishing@jpcert.test"].message
    assert ja["Subject"].startswith("【フィッシングサイト停止のお願い】hoshizora-sec-login.top（ほしぞら証券株式会社を装うサイト）")
    assert b"=?utf-8?" in msgs["phishing@jpcert.test"].raw.split(b"\r\n\r\n")[0].lower()  # RFC 2047 on the wire
    text = ja.get_body(("plain",)).get_content()
    assert "hxxps://hoshizora-sec-login[.]top/login" in text
    assert "パスワードを入力させるフォームがあります" in text  # the snapshot's reason, in the letter's language
    assert "ブランド保護チーム 山田" in text
    en = msgs["abuse@cheapnames.test"].message.get_body(("plain",)).get_content()
    assert "Please suspend the domain name" in en and "the page looks like the official login page" in en

    # The lab registrar (Cheap Names' abuse desk) suspends the domain a moment after the report.
    wait_for(lambda: "client hold" in (world.rdap.domain(PHISH).statuses if world.rdap.domain(PHISH) else []))
    clock.advance(hours=4)
    assert check_gone(ctx, world, cand.id).status == CandidateStatus.REPORTED  # gone once: not yet
    clock.advance(hours=4)
    assert check_gone(ctx, world, cand.id).status == CandidateStatus.DOWN  # gone twice in a row

    summary = followup.run(ctx)
    assert summary["closed"] == 3
    with Session(ctx.engine) as s:
        reqs = s.exec(select(TakedownRequest)).all()
        assert {r.status for r in reqs} == {RequestStatus.CLOSED}
        assert {r.time_to_down_seconds for r in reqs} == {8 * 3600.0}
        assert all(r.sent_at == sent_at for r in reqs)
        stats = followup.time_to_down(s)
        assert stats["abuse@cheapnames.test"] == {"count": 1, "median_hours": 8.0, "fastest_hours": 8.0}
        actions = [(e.actor, e.action) for e in s.exec(select(Event).order_by(Event.id)).all()]
    assert ("analyst:sato", "candidate.status") in actions
    assert ("analyst:sato", "takedown.drafted") in actions
    assert ("approver:tanaka", "takedown.approved") in actions
    assert ("outbox", "takedown.sent") in actions
    assert ("takedown-policy", "takedown.closed") in actions
    # One message per Message-ID, nothing sent after the close.
    ids = [m.message["Message-ID"] for m in world.smtp.messages()]
    assert len(ids) == len(set(ids)) == 3



@pytest.mark.slow
@pytest.mark.browser
def test_the_loop_with_the_real_snapshot_job(make_ctx, world, clock):
    """The same story with the capture engineer's snapshot job taking the evidence (Chromium)."""
    ctx = make_ctx()
    ctx.brands = [b.model_copy(update={"auto_takedown": b.slug == "hoshizora"}) for b in ctx.brands]
    from watcher.capture import references, snapshot
    references.capture_references(ctx, "hoshizora")  # the official pages, captured from the lab
    cand = add_candidate(ctx, status=CandidateStatus.NEW)
    snap = snapshot.check_candidate(ctx, cand.id)
    assert snap.screenshot_sha256, snap.error
    # The demo's brand has the auto rule on: the real scorer's reasons must be enough for it.
    out = followup.run(ctx)
    assert out["auto_confirmed"] == 1, [r["kind"] for r in snap.reasons]
    assert out["sent"] >= 2
    shot = ctx.evidence.get(snap.screenshot_sha256)
    for m in world.smtp.messages():
        files = {a.get_filename().split(".", 1)[0]: a.get_payload(decode=True) for a in m.message.iter_attachments()}
        assert files["screenshot"] == shot
    wait_for(lambda: "client hold" in (world.rdap.domain(PHISH).statuses if world.rdap.domain(PHISH) else []))
    for _ in range(2):
        clock.advance(hours=4)
        check_gone(ctx, world, cand.id)
    assert followup.run(ctx)["closed"] >= 2


def test_one_site_under_two_hostnames_gets_one_set_of_requests(ctx, world):
    """www. and the bare name of one phishing site: one case, three requests (not six), naming both."""
    from watcher.core.models import Source
    from watcher.discovery.discover import OwnedIndex, Sighting, discover

    owned = OwnedIndex.from_brands(ctx.brands)
    with Session(ctx.engine, expire_on_commit=False) as s:
        bare = discover(s, Sighting(f"https://{PHISH}/login", Source.CT, brand="hoshizora"), owned).candidate
        www = discover(s, Sighting(f"https://www.{PHISH}/login", Source.CT, brand="hoshizora"), owned).candidate
        s.commit()
    assert bare.case_id == www.case_id
    for c in (bare, www):
        take_snapshot(ctx, world, c)
    with Session(ctx.engine, expire_on_commit=False) as s:
        first = requests.confirm(ctx, s, s.get(Candidate, bare.id), actor="analyst:sato", reason="clone")
        second = requests.confirm(ctx, s, s.get(Candidate, www.id), actor="analyst:sato", reason="clone")
        s.commit()
    assert len(first) == 3 and second == []
    assert {d.recipient for d in first} == {"abuse@cheapnames.test", "abuse@lab-hosting.test", "phishing@jpcert.test"}
    body = first[0].body
    assert f"{PHISH}" in body.replace("[.]", ".") and f"www.{PHISH}" in body.replace("[.]", ".")
