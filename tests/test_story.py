"""The story: the demo scenario end to end, on the lab, without the dashboard UI.

Every server is real (DNS, CT log, RDAP, WHOIS, web through the proxy, SMTP with an abuse desk that
suspends what it is told about); omamori's jobs run in the order the scheduler would run them, with
omamori's clock moved forward instead of waiting hours between re-checks. The lab's own timeline is
fired at once, and its registrar suspends a reported domain after half a second of real time.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from lab.demo import DEMO_BRANDS, DEMO_SCENARIO, ROOT, mail_samples, omamori_config
from watcher.context import build_context
from watcher.core.brands import sync_brands
from watcher.core.casefacts import live_evidence
from watcher.core.clock import FrozenClock
from watcher.core.config import load_settings
from watcher.core.models import (
    BlocklistStatus,
    BlocklistSubmission,
    Candidate,
    CandidateStatus,
    Finding,
    FindingStatus,
    OwnedDomain,
    OwnedSource,
    RequestStatus,
    Severity,
    Source,
    TakedownMode,
    TakedownRequest,
    Verdict,
)
from watcher.schedule import run_job
from watcher.takedowns import blocklists, requests

pytestmark = [pytest.mark.browser]

CLONE = "hoshizora-sec-login.top"
HACKED = "yamada-koumuten.com"  # a customer's mail points at a kit in a path of this old site
LURE_TARGET = "k3v9q.xyz"  # behind the bit.ly link of a customer's forwarded mail
JP_NAME = "hoshizora-login.jp"


def _ok(ctx, name: str) -> dict:
    result = run_job(ctx, name, actor="story")
    assert result["ok"], result
    return result


def _snapshot_until_quiet(ctx, rounds: int = 4) -> None:
    for _ in range(rounds):
        if not _ok(ctx, "snapshot").get("checked"):
            break


def test_the_demo_story(lab_world, tmp_path):
    world = lab_world(DEMO_SCENARIO, run_events=False, suspend_delay=0.5, noise_rate=0)
    world.fire_pending()  # the whole three-minute timeline, now
    world.act_blocklist_delay(1.5)  # the blocklists list a URL 1.5 s (real time) after its submission
    state = tmp_path / "state"
    inbox, dmarc = state / "abuse-inbox", state / "dmarc-reports"
    config_text = omamori_config(world.endpoints(), state, brands_file=DEMO_BRANDS, eml_dir=inbox, dmarc_dir=dmarc)
    inbox.mkdir()
    dmarc.mkdir()
    for src in (ROOT / "data" / "lab" / "mail").glob("*.eml"):
        shutil.copy(src, inbox)
    mail_samples(world, state)  # yesterday's DMARC/TLS reports and the signed notices, dated from now
    cfg = state / "config.toml"
    cfg.write_text(config_text, encoding="utf-8")
    clock = FrozenClock(datetime.now(UTC))
    ctx = build_context(load_settings(cfg, environ={}), clock=clock)
    with Session(ctx.engine) as s:
        sync_brands(s, ctx.brands)

    # Discovery: CT log, permutations, the customer's forwarded mail, JPCERT/CC's URL list.
    for job in ("ct_poll", "permutations", "intake", "feeds"):
        _ok(ctx, job)
    with Session(ctx.engine) as s:
        cands = {c.domain: c for c in s.exec(select(Candidate))}
    assert CLONE in cands and cands[CLONE].source in (Source.CT, Source.CERTSTREAM)
    assert "www-hoshizora-sec-co-jp.k7x2.top" in cands or "k7x2.top" in cands
    assert any(c.source == Source.PERMUTATION for c in cands.values())
    assert "k3v9q.xyz" in cands and cands["k3v9q.xyz"].source == Source.REPORT
    assert cands["p4n7-secure.xyz"].source == Source.FEED  # no brand in the name: the feed names it
    assert "paypay-account-check.top" not in cands  # another firm's phishing

    # Capture and verdicts: the clone is phishing, permutations are parked.
    _snapshot_until_quiet(ctx)
    with Session(ctx.engine) as s:
        clone = s.exec(select(Candidate).where(Candidate.domain == CLONE)).one()
        assert clone.verdict == Verdict.PHISHING and clone.last_snapshot_id
        parked = s.exec(select(Candidate).where(Candidate.verdict == Verdict.PARKED)).all()
        assert parked, "the parked permutations were not recognised"

    # The brand's auto rule confirms the clone and sends requests with the screenshot attached.
    _ok(ctx, "takedowns")
    messages = world.smtp.messages()
    to_registrar = [m for m in messages if "abuse@cheapnames.test" in m.rcpt_tos and CLONE in str(m.message)]
    assert to_registrar, f"no request to the registrar: {[m.rcpt_tos for m in messages]}"
    attachments = list(to_registrar[0].message.iter_attachments())
    assert any(a.get_content_type() == "image/png" for a in attachments)
    with Session(ctx.engine) as s:
        clone = s.exec(select(Candidate).where(Candidate.domain == CLONE)).one()
        assert clone.status in (CandidateStatus.CONFIRMED, CandidateStatus.REPORTED)

    # The reported ones with no name like the brand wait for a person: the hacked site and the lure's
    # target behind a shortener. Confirmed, each case asks the right desks.
    with Session(ctx.engine, expire_on_commit=False) as s:
        for name in (HACKED, LURE_TARGET):
            cand = s.exec(select(Candidate).where(Candidate.domain == name)).one()
            assert cand.last_snapshot_id, name
            requests.confirm(ctx, s, cand, actor="analyst:story", reason="checked by a person")
            requests.approve_all(ctx, s, cand, actor="approver:story")
        s.commit()
    _ok(ctx, "takedowns")
    with Session(ctx.engine) as s:
        asked = {(c.domain, r.recipient, r.mode) for r, c in s.exec(
            select(TakedownRequest, Candidate).join(Candidate, Candidate.id == TakedownRequest.candidate_id))}
    assert (HACKED, "info@yamada-koumuten.com", TakedownMode.REMOVE_CONTENT) in asked, asked
    assert not any(d == HACKED and r in ("abuse@lab-registrar.test",) for d, r, _ in asked)
    assert (LURE_TARGET, "abuse@shortener.test", TakedownMode.SUSPEND) in asked, asked
    assert any(d == JP_NAME and r == "abuse@jp-registrar.test" for d, r, _ in asked), asked

    # Blocklists list every confirmed URL within (lab) seconds; the desk's ticket comes back over IMAPS.
    submitted = _ok(ctx, "blocklists")
    assert submitted["submitted"] >= 3 and submitted["services"] == ["webrisk", "netcraft", "apwg"], submitted
    time.sleep(1.6)
    clock.advance(minutes=4)
    _ok(ctx, "blocklists")
    with Session(ctx.engine) as s:
        clone = s.exec(select(Candidate).where(Candidate.domain == CLONE)).one()
        subs = s.exec(select(BlocklistSubmission).where(BlocklistSubmission.candidate_id == clone.id)).all()
        assert {(b.service, b.status) for b in subs} == {(n, BlocklistStatus.LISTED)
                                                        for n in ("webrisk", "netcraft", "apwg")}, subs
    answers = _ok(ctx, "takedown_replies")
    assert answers["autoreply"] >= 1, answers
    with Session(ctx.engine) as s:
        tickets = [r.ticket for r in s.exec(select(TakedownRequest).where(
            TakedownRequest.recipient == "abuse@cheapnames.test"))]
        assert any(t.startswith("CN-") for t in tickets), tickets

    # The desks act (the registrars suspend, the hacked site's host deletes the kit); omamori sees each
    # site gone twice and closes its case.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not world.registrations[CLONE].get("suspended"):
        time.sleep(0.2)
    assert world.registrations[CLONE].get("suspended"), "the lab registrar never suspended the clone"
    time.sleep(1.0)  # the other desks act half a second after their mail, like the clone's
    for _ in range(ctx.settings.takedown.down_confirmations + 1):
        clock.advance(hours=ctx.settings.takedown.recheck_hours * 1.5)
        _ok(ctx, "snapshot")
        _ok(ctx, "takedowns")
    with Session(ctx.engine) as s:
        clone = s.exec(select(Candidate).where(Candidate.domain == CLONE)).one()
        assert clone.status == CandidateStatus.DOWN, clone.status
        # The case keeps its evidence: the last live capture, its screenshot and score.
        evidence = live_evidence(s, clone.id)
        assert evidence is not None and evidence.screenshot_sha256 and evidence.score > 0
        assert clone.score == evidence.score and clone.verdict == Verdict.PHISHING
        assert clone.last_snapshot_id != evidence.id  # the "gone" checks went to the timeline
        reqs = s.exec(select(TakedownRequest).where(TakedownRequest.candidate_id == clone.id)).all()
        closed = [r for r in reqs if r.status == RequestStatus.CLOSED and r.time_to_down_seconds is not None]
        assert closed, [(r.recipient, r.status) for r in reqs]
        # Both clocks of each of the four cases (the frozen clock gives the lab's real seconds as 0 or
        # 4 minutes; down is counted from the first request sent).
        for name in (CLONE, JP_NAME, HACKED, LURE_TARGET):
            cand = s.exec(select(Candidate).where(Candidate.domain == name)).one()
            times = blocklists.case_times(s, cand)
            assert times["time_to_blocklisted_seconds"] in (0.0, 240.0), (name, times)
            assert cand.status == CandidateStatus.DOWN and times["time_to_down_seconds"] is not None, (
                name, cand.status, times)

    # The firm's own domains: expiring, dangling, drop-caught, DMARC not at reject.
    for job in ("inventory", "mailauth", "dmarc_reports", "message_lint"):
        _ok(ctx, job)
    with Session(ctx.engine) as s:
        open_ = {(f.kind, f.subject) for f in s.exec(select(Finding).where(Finding.status == FindingStatus.OPEN))}
        kinds = {k for k, _ in open_}
        assert ("expiry", "hoshizora.jp") in open_
        assert ("takeover_cname", "campaign.hoshizora-sec.co.jp") in open_, kinds  # unclaimed S3 bucket
        assert ("takeover_cname", "old.hoshizora-sec.co.jp") in open_, kinds  # CNAME to nowhere
        assert not any(k == "takeover_ns" for k in kinds), open_  # the lab's delegations are sound
        assert any(k == "dropcatch" and subj == "hoshizora-fx.jp" for k, subj in open_), open_
        assert any(k == "dmarc" and subj == "hoshizora-sec.co.jp" for k, subj in open_), open_
        dropped = s.exec(select(Candidate).where(Candidate.domain == "hoshizora-fx.jp")).one()
        assert dropped.source == Source.DROPCATCH
        # Every certificate for our names: the usual CA for a host nobody listed is a "new name" (low).
        new_name = s.exec(select(Finding).where(Finding.kind == "cert_new_name",
                                                Finding.subject == "nisa-campaign.hoshizora-sec.co.jp")).one()
        assert new_name.status == FindingStatus.OPEN and new_name.severity == Severity.LOW
        assert ("cert_issuer", "trade.hoshizora-sec.co.jp") in open_  # the unexpected CA: high
        # DNS hygiene: the A record on a released EC2 address, and CAA allowing a CA the firm does not use.
        dangling = s.exec(select(Finding).where(Finding.kind == "dangling_address",
                                                Finding.subject == "ir-archive.hoshizora-sec.co.jp")).one()
        assert dangling.status == FindingStatus.OPEN and dangling.data["provider"] == "Amazon Web Services"
        caa = s.exec(select(Finding).where(Finding.kind == "caa", Finding.subject == "hoshizora-sec.co.jp")).one()
        assert caa.status == FindingStatus.OPEN and caa.data["others"] == ["letsencrypt.org"]
        assert ("dangling_address", "www.hoshizora-sec.co.jp") not in open_
        # The zone transfer from the firm's own name server brought in a host no other source knew.
        vpn = s.exec(select(OwnedDomain).where(OwnedDomain.name == "vpn.hoshizora-sec.co.jp")).one()
        assert vpn.source == OwnedSource.AXFR and vpn.gone_at is None
        # Mail: BIMI proven for hzsec.com, not for hoshizora-sec.co.jp's SVG 1.1 logo; かえで証券's report
        # vendor never authorised its reports; the app store listing lost the short code; two notices are
        # not properly signed; two templates link where they must not.
        assert ("bimi_logo", "hoshizora-sec.co.jp") in open_ and ("bimi_cert", "hzsec.com") not in open_
        assert ("dmarc_report_auth", "kaede-sec.co.jp") in open_
        assert ("short_code", "hoshizora:https://apps.lab-store.test/jp/app/hoshizora-sec/id0000000001") in open_
        assert ("smime", "notice:notice-tampered.eml") in open_ and ("smime", "notice:notice-signed.eml") not in open_
        assert sum(1 for k, _ in open_ if k == "message_link") == 3
    # The road to p=reject: everything but Salesforce Marketing Cloud aligns.
    from watcher.owned.senders import ready_for_reject
    with Session(ctx.engine) as s:
        ready = {r.domain: r for r in ready_for_reject(ctx, s)}
    assert [x.name for x in ready["hoshizora-sec.co.jp"].failing_senders] == ["Salesforce Marketing Cloud"]
    assert ready["hzsec.com"].ready

    # The weekly report is written and mailed to management.
    _ok(ctx, "weekly_report")
    assert list((state / "reports").glob("*.html"))
    assert any("management@hoshizora-sec.co.jp" in m.rcpt_tos for m in world.smtp.messages())
    ctx.engine.dispose()
