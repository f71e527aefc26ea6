"""Who decides and what follows: the auto rule, reminders, escalation, web forms, replies, withdrawal."""

from __future__ import annotations

from sqlmodel import Session, select

from dashboard.ui import UI
from dashboard.widgets import event_row
from lab.testing import wait_for
from takedown import policy
from tests.takedown.tdlab import JPCERT, add_candidate, take_snapshot
from watcher.capture.triage import transition
from watcher.core.config import UserSettings
from watcher.core.models import (
    Candidate,
    CandidateStatus,
    Channel,
    Event,
    Finding,
    RequestStatus,
    TakedownRequest,
)
from watcher.takedowns import followup, outbox, requests


def _auto_ctx(make_ctx, **sections):
    ctx = make_ctx(**sections)
    ctx.brands = [b.model_copy(update={"auto_takedown": b.slug == "hoshizora"}) for b in ctx.brands]
    return ctx


def test_auto_rule_confirms_and_sends_when_evidence_is_overwhelming(make_ctx, world):
    ctx = _auto_ctx(make_ctx)
    cand = add_candidate(ctx)
    take_snapshot(ctx, world, cand)
    out = followup.run(ctx)
    assert out["auto_confirmed"] == 1 and out["sent"] == 3
    with Session(ctx.engine) as s:
        c = s.get(Candidate, cand.id)
        assert c.status == CandidateStatus.REPORTED
        reqs = s.exec(select(TakedownRequest)).all()
        assert all(r.auto and r.created_by == "auto-rule" for r in reqs)
        events = s.exec(select(Event).where(Event.actor == "auto-rule")).all()
        actions = {e.action for e in events}
        assert {"candidate.status", "takedown.drafted", "takedown.approved"} <= actions
        change = next(e for e in events if e.action == "candidate.status")
        assert "password form: yes" in change.detail["reason"] and "lookalike name: yes" in change.detail["reason"]
        # The timeline shows the service's reasons in the reader's language, not the English of the log.
        ja = UI(ctx=ctx, settings=ctx.settings, user=UserSettings(name="analyst", role="analyst"), lang="ja")
        said = event_row(ja, {"action": change.action, "actor": change.actor, "detail": change.detail})["said"]
        assert "自動ルール" in said and "パスワード入力欄 はい" in said and "password" not in said
        sent = next(e for e in s.exec(select(Event).where(Event.action == "candidate.status")).all()
                    if e.detail["to"] == "reported")
        assert "通報を送信済み" in event_row(ja, {"action": sent.action, "actor": sent.actor,
                                                     "detail": sent.detail})["said"]
    texts = [m.text() for m in world.smtp.messages()]
    assert all("automatic rule" in t or "自動判定ルール" in t for t in texts)


def test_auto_rule_leaves_a_partial_match_to_a_person(make_ctx, world):
    ctx = _auto_ctx(make_ctx)
    cand = add_candidate(ctx)
    take_snapshot(ctx, world, cand, password=False,
                  reasons=[{"kind": "visual_clone", "detail": "looks like the login page"}])
    assert followup.run(ctx)["auto_confirmed"] == 0
    assert world.smtp.messages() == []
    # Off by default: the same overwhelming evidence under a brand without the rule waits for a person.
    ctx2 = make_ctx()
    assert followup.run(ctx2)["auto_confirmed"] == 0


def test_auto_rule_table():
    ok, why = policy.auto_rule(verdict="phishing", snapshot_reasons=[{"kind": "logo_match"}],
                               capture={"forms": [{"fields": [{"type": "password"}]}]},
                               candidate_reasons=[{"kind": "flattened"}])
    assert ok, why
    ok, _ = policy.auto_rule(verdict="phishing", snapshot_reasons=[{"kind": "logo_match"}],
                             capture={"forms": [{"fields": [{"type": "password"}]}]},
                             candidate_reasons=[{"kind": "report"}])
    assert not ok  # an unrelated name: a person decides
    # What the real scorer says about the demo's clone before any reference capture exists.
    scored = [{"kind": k} for k in ("brand_name", "login_words", "credential_form", "fresh_registration",
                                    "lookalike_name")]
    ok, why = policy.auto_rule(verdict="phishing", snapshot_reasons=scored, capture={}, candidate_reasons=[])
    assert ok, why
    ok, _ = policy.auto_rule(verdict="suspicious", snapshot_reasons=scored, capture={}, candidate_reasons=[])
    assert not ok
    ok, _ = policy.auto_rule(verdict="phishing", snapshot_reasons=[{"kind": "login_words"}, {"kind": "lookalike_name"}],
                             capture={"forms": [{"has_password": True}]}, candidate_reasons=[])
    assert not ok  # nothing on the page ties it to the brand


def _sent(ctx, world, **kw):
    cand = add_candidate(ctx)
    take_snapshot(ctx, world, cand)
    with Session(ctx.engine, expire_on_commit=False) as s:
        c = s.get(Candidate, cand.id)
        requests.confirm(ctx, s, c, actor="analyst")
        requests.approve_all(ctx, s, c, actor="approver")
        s.commit()
    followup.run(ctx)
    return cand


def test_reminder_then_escalation_then_a_finding(make_ctx, world, clock):
    ctx = make_ctx(takedown={"always_inform": [JPCERT], "remind_after_hours": 48, "escalate_after_hours": 96,
                             "escalate_to": [{"name": "Lab Registry", "email": "abuse@registry.test",
                                              "language": "en"}]})
    cand = _sent(ctx, world)
    first = {m.message["Message-ID"]: m for m in world.smtp.messages()}
    assert len(first) == 3
    clock.advance(hours=47)
    assert followup.run(ctx)["reminded"] == 0
    clock.advance(hours=1)
    out = followup.run(ctx)
    assert out["reminded"] == 3 and out["escalated"] == 0
    reminders = world.smtp.messages()[3:]
    assert all(m.message["In-Reply-To"] in first for m in reminders)
    ja = next(m for m in reminders if m.rcpt_tos == ["phishing@jpcert.test"])
    assert ja.subject.startswith("【再送】") and "引き続き稼働" in ja.text()
    assert followup.run(ctx)["reminded"] == 0  # one reminder each
    clock.advance(hours=48)
    out = followup.run(ctx)
    assert out["escalated"] == 1 and out["sent"] == 1
    assert world.smtp.messages()[-1].rcpt_tos == ["abuse@registry.test"]
    with Session(ctx.engine) as s:
        lvl = s.exec(select(TakedownRequest).where(TakedownRequest.recipient == "abuse@registry.test")).one()
        assert lvl.escalation_level == 1 and lvl.created_by == "takedown-policy"
    clock.advance(hours=96)
    out = followup.run(ctx)
    assert out["escalation_exhausted"] == 1
    assert followup.run(ctx)["escalation_exhausted"] == 0  # one finding, not one per run
    with Session(ctx.engine) as s:
        f = s.exec(select(Finding).where(Finding.kind == "takedown_stalled")).one()
        assert f.subject == cand.domain


def test_webform_recipient_is_drafted_with_fields_and_tracked(make_ctx, world):
    form = {"name": "フィッシング対策協議会", "form_url": "https://antiphishing.test/report", "language": "ja"}
    ctx = make_ctx(takedown={"always_inform": [form], "cert_parties": []})
    cand = add_candidate(ctx)
    take_snapshot(ctx, world, cand)
    with Session(ctx.engine, expire_on_commit=False) as s:
        c = s.get(Candidate, cand.id)
        drafts = requests.confirm(ctx, s, c, actor="analyst")
        web = next(d for d in drafts if d.channel == Channel.WEBFORM)
        fields = requests.webform_fields(web)
        assert fields["form"] == "https://antiphishing.test/report"
        assert "https://hoshizora-sec-login.top/login" in fields["url"]
        assert "フィッシングサイト" in fields["description"] and "screenshot." in fields["evidence_sha256"]
        requests.approve_all(ctx, s, c, actor="approver")
        s.commit()
    out = outbox.send_due(ctx)
    assert out["sent"] == 2  # the emails; the form waits for a person
    assert all(m.rcpt_tos != ["https://antiphishing.test/report"] for m in world.smtp.messages())
    with Session(ctx.engine) as s:
        req = s.get(TakedownRequest, web.id)
        assert req.status == RequestStatus.QUEUED
        requests.mark_submitted(ctx, s, req, actor="analyst")
        requests.attach_reply(s, req, "受け付けました。", actor="analyst", now=ctx.now())
        s.commit()
        assert req.status == RequestStatus.ANSWERED and req.replies[0]["text"] == "受け付けました。"


def test_withdraw_needs_a_reason_and_closes(ctx, world):
    cand = add_candidate(ctx)
    take_snapshot(ctx, world, cand)
    with Session(ctx.engine, expire_on_commit=False) as s:
        drafts = requests.confirm(ctx, s, s.get(Candidate, cand.id), actor="analyst")
        try:
            requests.withdraw(s, drafts[0], actor="analyst", reason=" ")
        except requests.TakedownError:
            pass
        else:
            raise AssertionError("a withdrawal without a reason was accepted")
        requests.withdraw(s, drafts[0], actor="analyst", reason="our own test page", now=ctx.now())
        s.commit()
        assert drafts[0].status == RequestStatus.CLOSED


def test_confirm_without_evidence_records_the_decision_and_waits(ctx, world):
    cand = add_candidate(ctx)
    with Session(ctx.engine, expire_on_commit=False) as s:
        c = s.get(Candidate, cand.id)
        assert requests.confirm(ctx, s, c, actor="analyst") == []
        s.commit()
        assert c.status == CandidateStatus.CONFIRMED
        assert s.exec(select(Event).where(Event.action == "takedown.no_evidence")).one().actor == "analyst"


def test_nobody_to_ask_opens_a_finding(make_ctx, world):
    ctx = make_ctx(takedown={"always_inform": [], "cert_parties": []})
    name = "hoshizora-nobody.xyz"
    world.apply("register_lookalike", name=name, address="192.0.2.98", site="clone-exact")
    world.rdap.set_domain(name, registrar="Shady Registrar", abuse_email=f"abuse@{name}", statuses=[])
    cand = add_candidate(ctx, name)
    take_snapshot(ctx, world, cand)
    with Session(ctx.engine, expire_on_commit=False) as s:
        assert requests.confirm(ctx, s, s.get(Candidate, cand.id), actor="analyst") == []
        s.commit()
        f = s.exec(select(Finding).where(Finding.kind == "takedown_no_recipient")).one()
        assert f.subject == name and "tip off" in f.detail


def test_a_site_that_comes_back_gets_new_requests(ctx, world, clock):
    cand = _sent(ctx, world)
    with Session(ctx.engine, expire_on_commit=False) as s:
        c = s.get(Candidate, cand.id)
        transition(s, c, CandidateStatus.DOWN, actor="snapshot", now=ctx.now())
        s.commit()
    assert followup.run(ctx)["closed"] == 3
    # The registrar's desk suspends the name a moment after the report (a lab timer): the site can
    # only come back after that, or the suspension would land on the comeback and hide its address.
    wait_for(world.smtp.desks_idle, timeout=30)
    clock.advance(days=3)
    world.dns.set_rcode(cand.domain, None)  # the site comes back (its name resolves again)
    take_snapshot(ctx, world, cand)
    with Session(ctx.engine, expire_on_commit=False) as s:
        c = s.get(Candidate, cand.id)
        transition(s, c, CandidateStatus.CHECKED, actor="snapshot", now=ctx.now(), reason="back up")
        again = requests.confirm(ctx, s, c, actor="analyst", reason="back up")
        s.commit()
    assert len(again) == 3 and all(r.status == RequestStatus.DRAFT for r in again), [r.recipient for r in again]


def test_the_job_runs_under_the_scheduler(ctx, world):
    from watcher.schedule import run_job

    _sent(ctx, world)
    result = run_job(ctx, "takedowns")
    assert result["ok"], result["error"]
    assert {"auto_confirmed", "sent", "closed", "reminded", "escalated"} <= set(result)


def test_a_bounce_marks_the_request_failed(ctx, world):
    _sent(ctx, world)
    with Session(ctx.engine, expire_on_commit=False) as s:
        req = s.exec(select(TakedownRequest).where(TakedownRequest.recipient == "abuse@cheapnames.test")).one()
        requests.attach_reply(s, req, "550 5.1.1 mailbox unavailable", actor="analyst", now=ctx.now(), bounce=True)
        s.commit()
        assert req.status == RequestStatus.FAILED and "550 5.1.1" in req.last_error
        assert s.exec(select(Event).where(Event.action == "takedown.bounce")).one().actor == "analyst"
