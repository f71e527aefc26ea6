"""The ``takedowns`` job: the auto rule, closing when down, escalations, the outbox, reminders.

What to do and when comes from ``takedown.policy`` (pure); this module finds the rows it applies
to and records every step as an Event.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from takedown import notice, policy
from watcher.clients.smtp import PermanentFailure, TemporaryFailure
from watcher.context import Context
from watcher.core.events import record
from watcher.core.findings import finding_key, open_finding
from watcher.core.models import (
    Brand,
    Candidate,
    CandidateStatus,
    Channel,
    Finding,
    FindingKind,
    FindingStatus,
    Severity,
    Snapshot,
    TakedownRequest,
)
from watcher.core.texts import text
from watcher.takedowns.facts import facts_for, latest_snapshot
from watcher.takedowns.outbox import render_message, send_due
from watcher.takedowns.requests import (
    AUTO_ACTOR,
    OPEN,
    POLICY_ACTOR,
    R,
    TakedownError,
    _requests,
    approve,
    approve_all,
    confirm,
    draft_requests,
)

log = logging.getLogger("omamori.takedowns")


def _auto_candidates(ctx: Context) -> int:
    """The per-brand auto rule (see takedown.policy): confirm, draft and queue, as "auto-rule"."""
    slugs = {b.slug for b in ctx.brands if b.auto_takedown}
    if not slugs:
        return 0
    n = 0
    with ctx.session() as s:
        ids = s.exec(select(Candidate.id).join(Brand, col(Brand.id) == col(Candidate.brand_id)).where(
            Candidate.status == CandidateStatus.CHECKED, col(Brand.slug).in_(slugs))).all()
    for cid in ids:
        with ctx.session() as s:
            cand = s.get(Candidate, cid)
            snap = latest_snapshot(s, cand) if cand else None
            if cand is None or snap is None:
                continue
            ok, why = policy.auto_rule(verdict=str(snap.verdict), snapshot_reasons=snap.reasons,
                                       capture=snap.capture or {}, candidate_reasons=cand.reasons)
            if not ok:
                continue
            try:
                confirm(ctx, s, cand, actor=AUTO_ACTOR, auto=True, reason=text(
                    "takedown.reason.auto_rule", **{k: text("cli.yes" if met else "cli.no") for k, met in why.items()}))
                approve_all(ctx, s, cand, actor=AUTO_ACTOR)
                s.commit()
                n += 1
            except (TakedownError, ValueError) as e:
                s.rollback()
                record(s, AUTO_ACTOR, "takedown.auto_failed", cand, {"error": str(e)[:500]}, at=ctx.now())
                s.commit()
    return n


def _close_down(ctx: Context) -> int:
    """Requests of DOWN candidates close; sent ones record time-to-down (sent_at -> down_at)."""
    now, n = ctx.now(), 0
    with ctx.session() as s:
        rows = s.exec(select(TakedownRequest, Candidate)
                      .join(Candidate, col(Candidate.id) == col(TakedownRequest.candidate_id))
                      .where(Candidate.status == CandidateStatus.DOWN,
                             col(TakedownRequest.status).in_([R.DRAFT, R.QUEUED, R.SENT, R.ANSWERED]))).all()
        for req, cand in rows:
            down_at = cand.down_at or now
            detail: dict[str, Any] = {"candidate": cand.domain, "down_at": down_at.isoformat(), "from": req.status.value}
            if req.sent_at is not None:
                req.time_to_down_seconds = max(0.0, (down_at - req.sent_at).total_seconds())
                detail["time_to_down_seconds"] = req.time_to_down_seconds
            else:
                detail["reason"] = "the site went down before this request was sent"
            req.status, req.closed_at, req.next_attempt_at = R.CLOSED, now, None
            s.add(req)
            record(s, POLICY_ACTOR, "takedown.closed", req, detail, at=now)
            n += 1
        s.commit()
    return n


def _remind(ctx: Context) -> dict[str, int]:
    ts, now = ctx.settings.takedown, ctx.now()
    counts = {"reminded": 0, "remind_failed": 0}
    with ctx.session() as s:
        rows = s.exec(select(TakedownRequest)
                      .join(Candidate, col(Candidate.id) == col(TakedownRequest.candidate_id))
                      .where(TakedownRequest.status == R.SENT, TakedownRequest.channel == Channel.EMAIL,
                             Candidate.status == CandidateStatus.REPORTED)).all()
        due = [r.id for r in rows if policy.reminder_due(
            sent_at=r.sent_at, last_reminder_at=r.last_reminder_at, reminders_sent=r.reminders_sent, now=now,
            remind_after_hours=ts.remind_after_hours)]
    for rid in due:
        with ctx.session() as s:
            req = s.get(TakedownRequest, rid)
            cand = s.get(Candidate, req.candidate_id) if req else None
            snap = s.get(Snapshot, req.snapshot_id) if req and req.snapshot_id else None
            if req is None or cand is None or snap is None or req.sent_at is None:
                continue
            # Claim first (at-most-once, as for requests): count the reminder with a compare-and-set,
            # commit, then send; a second sender running at the same time loses the claim.
            previous, n = req.last_reminder_at, req.reminders_sent
            claimed = s.exec(sa.update(TakedownRequest).where(
                col(TakedownRequest.id) == rid, col(TakedownRequest.reminders_sent) == n
            ).values(reminders_sent=n + 1, last_reminder_at=now))
            s.commit()
            if claimed.rowcount != 1:
                continue
            s.refresh(req)
            facts = facts_for(ctx, s, cand, snap, reference=f"TD-{req.id}", auto=req.auto,
                              mode=req.mode.value, kind=req.recipient_kind.value)
            text = notice.reminder_body(facts, req.language, req.recipient_name, sent_at=req.sent_at, checked_at=now,
                                        ticket=req.ticket)
            message_id = ctx.mailer.new_message_id()
            try:
                ctx.mailer.send(render_message(ctx, req, reminder=True, body=text, message_id=message_id,
                                               subject=notice.subject(facts, req.language, reminder=True,
                                                                      ticket=req.ticket)))
            except (TemporaryFailure, PermanentFailure, OSError, KeyError) as e:
                if isinstance(e, TemporaryFailure):  # not sent: the next run tries again
                    req.reminders_sent -= 1
                    req.last_reminder_at = previous
                record(s, POLICY_ACTOR, "takedown.remind_failed", req, {"error": str(e)[:500]}, at=now)
                counts["remind_failed"] += 1
            else:
                record(s, POLICY_ACTOR, "takedown.reminded", req,
                       {"n": req.reminders_sent, "message_id": message_id, "in_reply_to":
                        req.ticket_message_id or req.message_id, "ticket": req.ticket}, at=now)
                counts["reminded"] += 1
            s.add(req)
            s.commit()
    return counts


def _escalate(ctx: Context) -> dict[str, int]:
    """After ``escalate_after_hours`` without the site going down, ask the next level."""
    ts, now = ctx.settings.takedown, ctx.now()
    counts = {"escalated": 0, "escalation_exhausted": 0}
    with ctx.session() as s:
        cands = s.exec(select(Candidate).where(Candidate.status == CandidateStatus.REPORTED)).all()
        for cand in cands:
            reqs = [r for r in _requests(s, cand) if r.status in OPEN]
            level = max((r.escalation_level for r in reqs), default=0)
            first = min((r.sent_at for r in reqs if r.escalation_level == level and r.sent_at), default=None)
            if not policy.escalation_due(first_sent_at=first, now=now, escalate_after_hours=ts.escalate_after_hours):
                continue
            try:
                drafts = draft_requests(ctx, s, cand, actor=POLICY_ACTOR, level=level + 1,
                                        auto=any(r.auto for r in reqs))
            except TakedownError:
                drafts = []
            if drafts:
                for d in drafts:
                    approve(ctx, s, d, actor=POLICY_ACTOR)
                record(s, POLICY_ACTOR, "takedown.escalated", cand,
                       {"to_level": level + 1, "recipients": [d.recipient for d in drafts]}, at=now)
                counts["escalated"] += 1
            else:
                known = s.exec(select(Finding).where(Finding.key == finding_key(FindingKind.TAKEDOWN_STALLED, cand.domain))).first()
                if known is not None and known.status == FindingStatus.OPEN:
                    continue
                open_finding(
                    s, FindingKind.TAKEDOWN_STALLED, cand.domain,
                    f"{cand.domain} is still up {ts.escalate_after_hours:g} h after the takedown requests",
                    severity=Severity.HIGH, now=now, data={"candidate_id": cand.id, "level": level},
                    detail="No further recipient is configured (takedown.escalate_to). Call the registrar or "
                           "the hosting provider, or report to JPCERT/CC by phone.")
                record(s, POLICY_ACTOR, "takedown.escalation_exhausted", cand, {"level": level}, at=now)
                counts["escalation_exhausted"] += 1
        s.commit()
    return counts


def run(ctx: Context) -> dict[str, Any]:
    """The ``takedowns`` job: auto rule, close when down, escalations, outbox (and REPORTED), reminders.

    Closing comes before sending, so a site that went down is not reported; escalations come before
    the outbox, so the next level is asked in the same run."""
    summary: dict[str, Any] = {"auto_confirmed": _auto_candidates(ctx)}
    summary["closed"] = _close_down(ctx)
    summary.update(_escalate(ctx))
    summary.update(send_due(ctx))
    summary.update(_remind(ctx))
    return summary


def time_to_down(session: Session) -> dict[str, dict[str, float]]:
    """Per recipient: how many closed requests, and the median / fastest time-to-down in hours."""
    rows = session.exec(select(TakedownRequest.recipient, TakedownRequest.time_to_down_seconds).where(
        col(TakedownRequest.time_to_down_seconds).is_not(None))).all()
    by: dict[str, list[float]] = {}
    for recipient, secs in rows:
        if secs is not None:  # excluded by the query; narrows the type
            by.setdefault(recipient, []).append(float(secs))
    out = {}
    for recipient, values in by.items():
        values.sort()
        mid = len(values) // 2
        median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
        out[recipient] = {"count": len(values), "median_hours": round(median / 3600, 2),
                          "fastest_hours": round(values[0] / 3600, 2)}
    return out
