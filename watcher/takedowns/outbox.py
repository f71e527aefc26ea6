"""The outbox: the message exactly as sent, and the at-most-once send of every queued request.

Sending claims the row first (QUEUED -> SENDING, a compare-and-set UPDATE, committed, with a lease),
then talks SMTP, then records SENT; a row left SENDING by a crash is never re-sent by itself (see
``watcher.takedowns.requests`` for why) but opens a ``takedown_send_uncertain`` Finding.
"""

from __future__ import annotations

import email
import email.policy
import logging
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import sqlalchemy as sa
from sqlmodel import col, select

from takedown import policy
from watcher.capture.triage import transition
from watcher.clients.records import parse_date
from watcher.clients.smtp import PermanentFailure, TemporaryFailure
from watcher.context import Context
from watcher.core.events import record
from watcher.core.findings import open_finding, resolve_finding
from watcher.core.models import (
    Candidate,
    CandidateStatus,
    Channel,
    FindingKind,
    Severity,
    TakedownRequest,
)
from watcher.core.texts import text
from watcher.takedowns.requests import OUTBOX_ACTOR, POLICY_ACTOR, SEND_LEASE, R

log = logging.getLogger("omamori.takedowns")


def render_message(ctx: Context, req: TakedownRequest, *, reminder: bool = False,
                   body: str | None = None, subject: str | None = None, message_id: str = "") -> EmailMessage:
    """Exactly what will be sent for ``req`` (the mailer adds an S/MIME signature when configured).

    A reminder is a new message: its own ``Date`` (now) and ``Message-ID`` (``message_id``), a reply
    (``In-Reply-To``) to the desk's ticket when its auto-reply gave one, else to the request, and
    ``References`` to both, so the desk's system files it in the same ticket."""
    smtp = ctx.settings.smtp
    msg = EmailMessage()
    msg["From"] = formataddr((smtp.from_name, smtp.from_address))
    msg["To"] = formataddr((req.recipient_name, req.recipient)) if req.recipient_name else req.recipient
    if smtp.reply_to:
        msg["Reply-To"] = smtp.reply_to
    msg["Subject"] = subject or req.subject
    sent_at = parse_date(req.sent_at) if isinstance(req.sent_at, str) else req.sent_at  # a dict from a UI cache
    if reminder:
        msg["Date"] = format_datetime(ctx.now())
        msg["Message-ID"] = message_id or reminder_id(req.message_id, req.reminders_sent)
        msg["In-Reply-To"] = req.ticket_message_id or req.message_id
        msg["References"] = " ".join(dict.fromkeys(i for i in (req.message_id, req.ticket_message_id) if i))
    else:
        msg["Date"] = format_datetime(sent_at or ctx.now())
        msg["Message-ID"] = req.message_id
    msg["X-Omamori-Reference"] = f"TD-{req.id}"
    text = body if body is not None else req.body
    # Non-ASCII text goes base64: intact through any relay, and safe inside an S/MIME signature.
    msg.set_content(text, charset="utf-8", cte=None if text.isascii() else "base64")
    for a in req.attachments:
        data = ctx.evidence.get(a["sha256"])
        maintype, _, subtype = str(a.get("content_type", "application/octet-stream")).partition("/")
        if (maintype, subtype) == ("message", "rfc822"):  # the lure, as a message a desk's tools can open
            msg.add_attachment(email.message_from_bytes(data, policy=email.policy.default),
                               filename=a["filename"])
        else:
            msg.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=a["filename"])
    return msg


def reminder_id(message_id: str, n: int) -> str:
    local, _, domain = message_id.strip("<>").partition("@")
    return f"<{local}.reminder{n}@{domain}>"


# ---------------------------------------------------------------- the outbox


def _recover_uncertain(ctx: Context) -> int:
    now = ctx.now()
    n = 0
    with ctx.session() as s:
        stale = s.exec(select(TakedownRequest).where(TakedownRequest.status == R.SENDING,
                                                     col(TakedownRequest.next_attempt_at).is_not(None),
                                                     col(TakedownRequest.next_attempt_at) < now)).all()
        for req in stale:
            req.next_attempt_at = None  # flagged: waits for a person (mark_submitted or resend)
            req.last_error = "uncertain: the sender stopped between claiming and confirming the send"
            s.add(req)
            open_finding(s, FindingKind.TAKEDOWN_SEND_UNCERTAIN, f"request:{req.id}",
                         f"takedown request TD-{req.id} to {req.recipient} may or may not have been sent",
                         severity=Severity.MEDIUM, now=now,
                         detail=f"Message-ID {req.message_id}. Check the sent folder or ask the recipient; then "
                                f"mark it sent, or re-send it (same Message-ID).",
                         data={"request_id": req.id, "message_id": req.message_id})
            record(s, OUTBOX_ACTOR, "takedown.send_uncertain", req, {"message_id": req.message_id}, at=now)
            n += 1
        s.commit()
    return n


def _claim(ctx: Context, req_id: int) -> bool:
    """QUEUED -> SENDING, atomically: only one sender (thread, process, host) wins a row."""
    now = ctx.now()
    with ctx.session() as s:
        result = s.exec(sa.update(TakedownRequest).where(
            col(TakedownRequest.id) == req_id, col(TakedownRequest.status) == R.QUEUED
        ).values(status=R.SENDING.value, next_attempt_at=now + SEND_LEASE))
        s.commit()
        return result.rowcount == 1


def _send_one(ctx: Context, req_id: int) -> str:
    if not _claim(ctx, req_id):
        return "skipped"
    with ctx.session() as s:
        req = s.get(TakedownRequest, req_id)
        assert req is not None
        outcome, error = "sent", ""
        try:
            msg = render_message(ctx, req)
            ctx.mailer.send(msg)
        except TemporaryFailure as e:
            outcome, error = "retry", str(e)
        except PermanentFailure as e:
            outcome, error = "failed", str(e)
        except (OSError, ValueError, KeyError) as e:  # e.g. an evidence file missing: a person must look
            outcome, error = "failed", f"{type(e).__name__}: {e}"
        now = ctx.now()
        req.attempts += 1
        if outcome == "sent":
            req.status, req.sent_at, req.next_attempt_at, req.last_error = R.SENT, now, None, ""
            resolve_finding(s, FindingKind.TAKEDOWN_SEND_FAILED, f"request:{req.id}", now=now)
            record(s, OUTBOX_ACTOR, "takedown.sent", req,
                   {"message_id": req.message_id, "recipient": req.recipient, "attempt": req.attempts,
                    "auto": req.auto, "signed": bool(ctx.mailer.signs)}, at=now)
        elif outcome == "retry" and req.attempts < ctx.settings.takedown.max_send_attempts:
            req.status, req.last_error = R.QUEUED, error[:2000]
            req.next_attempt_at = now + policy.backoff(req.attempts)
            record(s, OUTBOX_ACTOR, "takedown.send_retry", req,
                   {"error": error[:500], "attempt": req.attempts, "next_attempt_at": req.next_attempt_at.isoformat()},
                   at=now)
        else:
            outcome = "failed"
            req.status, req.next_attempt_at, req.last_error = R.FAILED, None, error[:2000]
            record(s, OUTBOX_ACTOR, "takedown.failed", req, {"error": error[:500], "attempt": req.attempts}, at=now)
            # A request that will not go out by itself needs a person: say so where people look.
            open_finding(s, FindingKind.TAKEDOWN_SEND_FAILED, f"request:{req.id}",
                         text("takedown.send_failed", id=req.id, recipient=req.recipient),
                         severity=Severity.HIGH, now=now,
                         detail=text("takedown.send_failed_detail", error=error[:300], attempts=req.attempts),
                         data={"request_id": req.id, "recipient": req.recipient, "error": error[:500],
                               "attempts": req.attempts})
        s.add(req)
        s.commit()
    return outcome


def send_due(ctx: Context) -> dict[str, int]:
    """The outbox: send every QUEUED email request that is due. Returns counts."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0, "uncertain": _recover_uncertain(ctx)}
    now = ctx.now()
    with ctx.session() as s:
        due = s.exec(select(TakedownRequest.id).where(
            TakedownRequest.status == R.QUEUED, TakedownRequest.channel == Channel.EMAIL,
            sa.or_(col(TakedownRequest.next_attempt_at).is_(None),
                   col(TakedownRequest.next_attempt_at) <= now),
        ).order_by(col(TakedownRequest.id))).all()
    for req_id in due:
        assert req_id is not None
        counts[_send_one(ctx, req_id)] += 1
    counts["reported"] = _mark_reported(ctx)
    return counts


def _mark_reported(ctx: Context) -> int:
    """CONFIRMED candidates with a sent request are now REPORTED (re-checked every few hours)."""
    now, n = ctx.now(), 0
    with ctx.session() as s:
        sent = select(TakedownRequest.candidate_id).where(
            col(TakedownRequest.status).in_([R.SENT, R.ANSWERED]))
        for cand in s.exec(select(Candidate).where(Candidate.status == CandidateStatus.CONFIRMED,
                                                   col(Candidate.id).in_(sent))).all():
            transition(s, cand, CandidateStatus.REPORTED, actor=POLICY_ACTOR, reason=text("takedown.reason.sent"),
                       now=now, recheck_hours=ctx.settings.takedown.recheck_hours)
            n += 1
        s.commit()
    return n
