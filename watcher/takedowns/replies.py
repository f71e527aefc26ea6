"""The ``takedown_replies`` job: answers to takedown requests, read from the mailbox and attached.

The requests' Reply-To is a mailbox (``imap.takedown_folder``, read over IMAPS); every unseen message
there is classified (``classify``, pure) and attached to the request it answers, found by the
Message-IDs it refers to (``In-Reply-To``, ``References``, the returned headers of a bounce) or the
``[TD-n]`` reference in its subject:

- a delivery status notification (RFC 3464) whose action is ``failed``: the request is FAILED with
  the status and the diagnostic, and a ``takedown_bounced`` Finding tells a person to ask elsewhere;
  ``delayed`` is only recorded;
- an automatic reply (RFC 3834 ``Auto-Submitted``, or the usual auto-responder headers): the desk's
  ticket number is kept on the request (reminders then thread to that ticket and quote it);
- anything else is a person's reply: attached, the request ANSWERED and flagged for a person.

A message is marked \\Seen only after what it said is committed; one that matches no request is
recorded (sender, subject) and marked seen, so the job does not read it again.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import logging
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from typing import Any

from sqlmodel import Session, col, select

from watcher.clients import imap
from watcher.context import Context
from watcher.core.events import record
from watcher.core.findings import open_finding
from watcher.core.models import FindingKind, RequestStatus, Severity, TakedownRequest
from watcher.core.texts import text

log = logging.getLogger("omamori.takedowns")

ACTOR = "mailbox"
R = RequestStatus
MAX_TEXT = 20000

_MSGID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
_REF = re.compile(r"\[TD-(\d+)\]")
_TICKET_SUBJECT = re.compile(r"\[(?:ticket|case|incident|request|sr)\s*(?:#|id|no\.?|number)?\s*:?\s*"
                             r"([A-Za-z0-9][A-Za-z0-9._-]{2,40})\]", re.I)
_TICKET_BODY = re.compile(r"(?:ticket|case|incident)\s*(?:number|no\.?|id|#)\s*(?:is\s*)?[:#]?\s*"
                          r"([A-Za-z0-9][A-Za-z0-9._-]{2,40})|(?:受付番号|チケット番号|問い?合わせ番号|管理番号)\s*[:：は]?\s*"
                          r"([A-Za-z0-9][A-Za-z0-9._-]{2,40})", re.I)
_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")


@dataclass
class Answer:
    kind: str  # bounce | delayed | autoreply | reply
    message_id: str = ""
    refers_to: list[str] = field(default_factory=list)  # Message-IDs this answer refers to
    references: list[int] = field(default_factory=list)  # request ids named as [TD-n]
    sender: str = ""
    subject: str = ""
    text: str = ""
    recipient: str = ""  # a bounce's final recipient
    status: str = ""  # a bounce's status code (5.1.1)
    diagnostic: str = ""
    ticket: str = ""


def _text_of(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain" and part.get_content_disposition() != "attachment":
            try:
                return str(part.get_content()) if isinstance(part, EmailMessage) else str(part.get_payload())
            except (LookupError, UnicodeError, KeyError):
                continue
    return ""


def _ids(value: Any) -> list[str]:
    return _MSGID.findall(str(value or ""))


def _is_report(msg: Message) -> bool:
    return (msg.get_content_type() == "multipart/report"
            and str(msg.get_param("report-type") or "").lower() == "delivery-status")


def _dsn_fields(msg: Message) -> dict[str, str]:
    """The first per-recipient block of the message/delivery-status part (RFC 3464 section 2.3)."""
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        blocks = payload if isinstance(payload, list) else []
        for block in blocks:
            if isinstance(block, Message) and (block.get("Action") or block.get("Final-Recipient")):
                return {k.lower(): str(v) for k, v in block.items()}
        raw = str(payload if isinstance(payload, str) else "")
        fields: dict[str, str] = {}
        for line in raw.splitlines():
            k, sep, v = line.partition(":")
            if sep and k.strip():
                fields.setdefault(k.strip().lower(), v.strip())
        return fields
    return {}


def _returned_headers(msg: Message) -> Message | None:
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "text/rfc822-headers":
            data = part.get_payload(decode=True)
            raw = data if isinstance(data, bytes) else str(part.get_payload()).encode()
            return email.message_from_bytes(raw + b"\r\n\r\n", policy=email.policy.default)
        if ctype == "message/rfc822":
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(first, Message):
                return first
    return None


def _ticket(subject: str, body: str, msg: Message) -> str:
    for header in ("X-Ticket-ID", "X-Ticket", "X-Case-ID"):
        if msg.get(header):
            return str(msg[header]).strip()[:200]
    m = _TICKET_SUBJECT.search(subject)
    if m and not m.group(1).upper().startswith("TD-"):
        return m.group(1)
    for m in _TICKET_BODY.finditer(body):
        value = m.group(1) or m.group(2)
        if value and not value.upper().startswith("TD-"):
            return value
    return ""


def classify(raw: bytes) -> Answer:
    """What an incoming message is, and what it refers to (pure; never raises on hostile mail)."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        subject = str(msg.get("Subject", ""))[:500]
        body = _text_of(msg)[:MAX_TEXT]
    except (ValueError, TypeError, LookupError, IndexError) as e:
        return Answer("reply", text=f"(unreadable message: {type(e).__name__})")
    answer = Answer("reply", message_id=(_ids(msg.get("Message-ID")) or [""])[0], sender=str(msg.get("From", ""))[:300],
                    subject=subject, text=body,
                    refers_to=[*_ids(msg.get("In-Reply-To")), *_ids(msg.get("References"))],
                    references=[int(n) for n in _REF.findall(subject + " " + str(msg.get("X-Omamori-Reference", "")))])
    if _is_report(msg):
        fields = _dsn_fields(msg)
        action = fields.get("action", "").lower()
        answer.kind = "delayed" if action in ("delayed", "relayed", "delivered", "expanded") else "bounce"
        answer.recipient = fields.get("final-recipient", "").partition(";")[2].strip() or fields.get(
            "final-recipient", "")
        answer.status = fields.get("status", "")
        answer.diagnostic = fields.get("diagnostic-code", "").partition(";")[2].strip() or fields.get(
            "diagnostic-code", "") or body.strip()[:500]
        original = _returned_headers(msg)
        if original is not None:
            answer.refers_to += _ids(original.get("Message-ID"))
            answer.references += [int(n) for n in _REF.findall(
                str(original.get("Subject", "")) + " " + str(original.get("X-Omamori-Reference", "")))]
        return answer
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(msg.get("Precedence", "")).strip().lower()
    if (auto and auto != "no") or any(msg.get(h) for h in _AUTO_HEADERS) or precedence in ("auto_reply", "bulk"):
        answer.kind = "autoreply"
        answer.ticket = _ticket(subject, body, msg)
    return answer


def find_request(session: Session, answer: Answer) -> TakedownRequest | None:
    """The request an answer is about: by the Message-IDs it refers to, else by its [TD-n]."""
    ids = [i for i in dict.fromkeys(answer.refers_to) if i]
    if ids:
        hit = session.exec(select(TakedownRequest).where(col(TakedownRequest.message_id).in_(ids))).first()
        if hit is None:  # a reply to a reminder or to the desk's ticket mail: threaded by its ticket
            hit = session.exec(select(TakedownRequest).where(col(TakedownRequest.ticket_message_id).in_(ids))).first()
        if hit is not None:
            return hit
    for n in answer.references:
        hit = session.get(TakedownRequest, n)
        if hit is not None:
            return hit
    return None


def attach(ctx: Context, session: Session, req: TakedownRequest, answer: Answer) -> str:
    """Attach ``answer`` to ``req`` and do what it means (see the module docstring); returns its kind."""
    now = ctx.now()
    entry: dict[str, Any] = {"at": now.isoformat(), "by": ACTOR, "kind": answer.kind, "from": answer.sender,
             "subject": answer.subject, "message_id": answer.message_id, "text": answer.text[:MAX_TEXT]}
    if answer.kind == "bounce":
        entry.update(status=answer.status, diagnostic=answer.diagnostic, bounce=True)
        req.replies = [*req.replies, entry]
        if req.status in (R.SENT, R.ANSWERED, R.SENDING):
            req.status, req.next_attempt_at = R.FAILED, None
        req.last_error = f"bounced: {answer.status} {answer.diagnostic}"[:2000]
        open_finding(session, FindingKind.TAKEDOWN_BOUNCED, f"request:{req.id}",
                     text("takedown.bounced_title", id=req.id, recipient=req.recipient), severity=Severity.HIGH,
                     detail=text("takedown.bounced_detail", status=answer.status or "?",
                                 diagnostic=answer.diagnostic or "-"),
                     data={"request_id": req.id, "candidate_id": req.candidate_id, "recipient": req.recipient,
                           "status": answer.status}, now=now, actor=ACTOR)
        record(session, ACTOR, "takedown.bounce", req, {"status": answer.status, "diagnostic": answer.diagnostic,
                                                         "recipient": answer.recipient}, at=now)
    elif answer.kind == "delayed":
        req.replies = [*req.replies, {**entry, "status": answer.status, "diagnostic": answer.diagnostic}]
        record(session, ACTOR, "takedown.delivery_delayed", req, {"status": answer.status}, at=now)
    elif answer.kind == "autoreply":
        req.replies = [*req.replies, {**entry, "ticket": answer.ticket}]
        if answer.ticket and not req.ticket:
            req.ticket, req.ticket_message_id = answer.ticket, answer.message_id
        record(session, ACTOR, "takedown.ticket" if answer.ticket else "takedown.autoreply", req,
               {"ticket": answer.ticket, "message_id": answer.message_id}, at=now)
    else:
        req.replies = [*req.replies, entry]
        req.needs_person = True
        if req.status == R.SENT:
            req.status = R.ANSWERED
        record(session, ACTOR, "takedown.reply", req, {"from": answer.sender, "chars": len(answer.text),
                                                        "needs_person": True}, at=now)
    session.add(req)
    return answer.kind


def read_mailbox(ctx: Context) -> dict[str, Any]:
    """The ``takedown_replies`` job (a no-op while ``imap.takedown_folder`` is not set)."""
    conf = ctx.settings.imap
    counts: dict[str, Any] = {"messages": 0, "bounce": 0, "delayed": 0, "autoreply": 0, "reply": 0,
                              "unmatched": 0, "errors": 0}
    if not conf.host or not conf.takedown_folder:
        return {**counts, "skipped": "imap.host or imap.takedown_folder is not set"}
    with imap.mailbox(conf, ctx.run, conf.takedown_folder) as client:
        uids = imap.unseen(client)
        counts["messages"] = len(uids)
        for uid in uids:
            raw = imap.fetch(client, uid)
            if raw is None:
                counts["errors"] += 1
                continue
            answer = classify(raw)
            try:
                with ctx.session() as s:
                    req = find_request(s, answer)
                    if req is None:
                        record(s, ACTOR, "takedown.mail_unmatched", None,
                               {"from": answer.sender, "subject": answer.subject, "kind": answer.kind,
                                "uid": uid.decode()}, at=ctx.now())
                        kind = "unmatched"
                    else:
                        kind = attach(ctx, s, req, answer)
                    s.commit()
            except (ValueError, KeyError) as e:  # one bad message must not stop the mailbox
                log.warning("takedown mail uid %s: %s", uid, e)
                counts["errors"] += 1
                continue
            imap.mark_seen(client, uid)  # only after the answer is committed
            counts[kind] += 1
    return counts


def run(ctx: Context) -> dict[str, Any]:
    try:
        return read_mailbox(ctx)
    except (imaplib.IMAP4.error, OSError) as e:
        # The job's failure is recorded by the scheduler (and a Finding after several in a row).
        raise RuntimeError(f"takedown mailbox {ctx.settings.imap.host}:{ctx.settings.imap.port}: "
                           f"{type(e).__name__}: {e}") from e
