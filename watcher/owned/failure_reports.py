"""DMARC failure (forensic) reports: one failing message each (RFC 6591 AFRF over RFC 5965 ARF).

Aggregate reports count; a failure report shows one message that failed DMARC as the receiver saw it:
the source IP, the From: and envelope domains, the subject line of a phishing run. Receivers send
them as ``multipart/report; report-type=feedback-report`` with a ``message/feedback-report`` part
(``Feedback-Type: auth-failure``, ``Reported-Domain``, ``Source-IP``, ``Arrival-Date``...) and the
message or its headers; Exim sends the same facts as plain text (``Sender Domain:``, ``Sender IP
Address:``), which is read too. The whole report is kept as received in the evidence store; the row
keeps the facts, and a short subject (a sample may carry a customer's data).
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime
from typing import Any

from watcher.owned.reportfiles import Refused

MAX_FIELDS = 60


@dataclass
class FailureReport:
    domain: str
    reporter: str = ""
    arrival_at: datetime | None = None
    source_ip: str = ""
    feedback_type: str = ""
    auth_failure: str = ""
    delivery_result: str = ""
    header_from: str = ""
    envelope_from: str = ""
    subject: str = ""
    fields: dict[str, Any] = field(default_factory=dict)


def _date(value: str) -> datetime | None:
    try:
        d = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return d.astimezone(UTC) if d.tzinfo else d.replace(tzinfo=UTC)


def _feedback_fields(part: Message) -> dict[str, str]:
    """The ``name: value`` fields of a message/feedback-report part (the email module nests them)."""
    payload = part.get_payload()
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    items: list[tuple[str, Any]] = []
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        inner = payload[0]
        if cte == "base64":  # some receivers (Netease) base64 the fields: the module leaves them encoded
            body = inner.get_payload()
            try:
                decoded = base64.b64decode(str(body), validate=False).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                decoded = ""
            items = _lines(decoded)
        else:  # parsed as a message: its headers are the fields
            items = list(inner.items())
    else:
        raw = part.get_payload(decode=True)
        items = _lines(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload))
    out: dict[str, str] = {}
    for k, v in items[:MAX_FIELDS]:
        out.setdefault(k.strip().lower(), re.sub(r"\s+", " ", str(v)).strip()[:500])
    return out


def _lines(text_: str) -> list[tuple[str, Any]]:
    return [(k, v) for k, _, v in (line.partition(":") for line in text_.splitlines()) if v]


def _sample(msg: Message) -> Message | None:
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
        if ctype == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                return email.message_from_bytes(raw, policy=email.policy.default)
    return None


_EXIM = {"sender domain": "reported-domain", "sender ip address": "source-ip", "received date": "arrival-date"}


def _exim_fields(msg: Message) -> dict[str, str]:
    """Exim's plain-text failure report (no ARF part)."""
    for part in msg.walk():
        if part.get_content_type() != "text/plain":
            continue
        raw = part.get_payload(decode=True)
        body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
        out = {}
        for line in body.splitlines()[:200]:
            k, sep, v = line.strip().partition(":")
            if sep and k.strip().lower() in _EXIM:
                out[_EXIM[k.strip().lower()]] = v.strip()[:500]
        if "reported-domain" in out:
            out.setdefault("auth-failure", "dmarc")
            out.setdefault("feedback-type", "auth-failure")
            return out
    return {}


def parse(raw: bytes) -> FailureReport:
    """The facts of a failure report mail. Raises Refused when it is not one."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    part = next((p for p in msg.walk() if p.get_content_type() == "message/feedback-report"), None)
    fields = _feedback_fields(part) if part is not None else _exim_fields(msg)
    if not fields:
        raise Refused("a report mail without a feedback-report part")
    sample = _sample(msg)
    domain = fields.get("reported-domain", "").lower().strip().rstrip(".")
    header_from = ""
    if sample is not None:
        header_from = parseaddr(str(sample.get("From", "")))[1].lower()
    if not domain and header_from:
        domain = header_from.rsplit("@", 1)[-1]
    if not domain:
        raise Refused("failure report without Reported-Domain")
    envelope = parseaddr(fields.get("original-mail-from", ""))[1].lower()
    ip = fields.get("source-ip", "").strip("[] ")[:64]
    rep = FailureReport(
        domain=domain[:253], reporter=parseaddr(str(msg.get("From", "")))[1].lower()[:200],
        arrival_at=_date(fields.get("arrival-date", "") or str(msg.get("Date", ""))), source_ip=ip,
        feedback_type=fields.get("feedback-type", "").lower()[:40],
        # Required by RFC 6591, yet some receivers (Netease) leave it out of reports sent to ruf=.
        auth_failure=(fields.get("auth-failure") or "dmarc").lower()[:40],
        delivery_result=fields.get("delivery-result", "").lower()[:40],
        header_from=header_from[:253], envelope_from=envelope[:253],
        subject=str(sample.get("Subject", "") if sample is not None else "")[:120],
        fields=dict(fields))
    if sample is not None:
        rep.fields["sample_headers"] = {k.lower(): str(v)[:300] for k, v in list(sample.items())[:40]}
    return rep
