"""What comes back to a sender: abuse desks' auto-replies with ticket numbers, bounces, people's replies.

The lab's SMTP server keeps every message; a ``MailResponder`` watches what it accepts and, by rule,
puts the answer a real desk would send into the sender's mailbox on the lab IMAP server:

- ``autoreply(address, prefix)``: an RFC 3834 auto-reply (``Auto-Submitted: auto-replied``) that
  threads to the request (``In-Reply-To``) and carries a ticket number in the subject and body;
- ``bounce(address, status, diagnostic)``: a delivery status notification (RFC 3464,
  ``multipart/report; report-type=delivery-status``) from the remote MTA: the relay accepted the
  message, the desk's server refused it later;
- ``reply(address, text)``: a person's answer.

Builders are plain functions of the original message; nothing here imports the product.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from lab.smtp import StoredMessage


def _original(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _reply_to(orig: EmailMessage) -> str:
    return str(orig.get("Reply-To") or orig.get("From") or "")


def _answer(raw: bytes, desk: str, subject_prefix: str, now: Any) -> EmailMessage:
    """A desk's answer to ``raw``: to its Reply-To (or From), threaded to its Message-ID."""
    orig = _original(raw)
    msg = EmailMessage()
    msg["From"] = desk
    msg["To"] = _reply_to(orig)
    msg["Subject"] = f"{subject_prefix}Re: {orig.get('Subject', '')}"
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=desk.partition("@")[2] or "desk.test")
    msg["In-Reply-To"] = str(orig.get("Message-ID", ""))
    msg["References"] = str(orig.get("Message-ID", ""))
    return msg


def build_autoreply(raw: bytes, desk: str, ticket: str, now: Any) -> bytes:
    msg = _answer(raw, desk, f"[Ticket#{ticket}] ", now)
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Ticket-ID"] = ticket
    msg.set_content(f"Thank you for your report. It has been received and assigned ticket number {ticket}.\n"
                    f"Please keep [Ticket#{ticket}] in the subject of any further mail about it.\n")
    return msg.as_bytes(policy=email.policy.SMTP)


def build_dsn(raw: bytes, recipient: str, status: str, diagnostic: str, now: Any,
              mta: str = "mx.lab.test") -> bytes:
    """An RFC 3464 report: explanation, the machine-readable status, the returned headers."""
    orig = _original(raw)
    boundary = "=_lab_dsn_" + make_msgid().strip("<>").split("@")[0].replace(".", "_")
    head = (f"From: Mail Delivery System <MAILER-DAEMON@{mta}>\r\nTo: {_reply_to(orig)}\r\n"
            f"Subject: Undelivered Mail Returned to Sender\r\nDate: {format_datetime(now)}\r\n"
            f"Message-ID: {make_msgid(domain=mta)}\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n')
    explanation = (f"This is the mail system at host {mta}.\r\n\r\nI'm sorry to have to inform you that your "
                   f"message could not be delivered to one or more recipients.\r\n\r\n<{recipient}>: {diagnostic}\r\n")
    per_message = f"Reporting-MTA: dns; {mta}\r\nArrival-Date: {format_datetime(now)}\r\n"
    per_recipient = (f"Final-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822; {recipient}\r\n"
                     f"Action: failed\r\nStatus: {status}\r\nRemote-MTA: dns; {recipient.partition('@')[2]}\r\n"
                     f"Diagnostic-Code: smtp; {diagnostic}\r\n")
    headers = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].replace(b"\n", b"\r\n")
    parts = [
        b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + explanation.encode(),
        b"Content-Type: message/delivery-status\r\n\r\n" + (per_message + "\r\n" + per_recipient).encode(),
        b"Content-Type: text/rfc822-headers\r\n\r\n" + headers + b"\r\n",
    ]
    sep = f"--{boundary}\r\n".encode()
    return head.encode() + b"".join(sep + p + b"\r\n" for p in parts) + f"--{boundary}--\r\n".encode()


def build_reply(raw: bytes, desk: str, text: str, now: Any) -> bytes:
    msg = _answer(raw, desk, "", now)
    msg.set_content(text)
    return msg.as_bytes(policy=email.policy.SMTP)


@dataclass
class Rule:
    kind: str  # autoreply | bounce | reply
    params: dict[str, Any]


class MailResponder:
    """Rules per recipient address; answers go to ``deliver(raw_bytes)`` (the World: the IMAP folder)."""

    def __init__(self, deliver: Callable[[bytes], None]) -> None:
        self.deliver = deliver
        self.rules: dict[str, Rule] = {}
        self.sent: list[dict[str, Any]] = []
        self._tickets = itertools.count(1001)
        self._lock = threading.Lock()

    def autoreply(self, address: str, prefix: str = "LAB") -> None:
        self.rules[address.lower()] = Rule("autoreply", {"prefix": prefix})

    def bounce(self, address: str, status: str = "5.1.1",
               diagnostic: str = "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown") -> None:
        self.rules[address.lower()] = Rule("bounce", {"status": status, "diagnostic": diagnostic})

    def reply(self, address: str, text: str) -> None:
        self.rules[address.lower()] = Rule("reply", {"text": text})

    def __call__(self, message: StoredMessage) -> None:
        import datetime as dt

        now = dt.datetime.now(dt.UTC)
        # Reminders and other answers to the same thread get no second auto-reply, as real desks do.
        is_reply = b"\nIn-Reply-To:" in message.raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
        for rcpt in message.rcpt_tos:
            rule = self.rules.get(rcpt.lower())
            if rule is None:
                continue
            if rule.kind == "autoreply" and not is_reply:
                with self._lock:
                    ticket = f"{rule.params['prefix']}-{next(self._tickets)}"
                out = build_autoreply(message.raw, rcpt, ticket, now)
            elif rule.kind == "bounce":
                ticket = ""
                out = build_dsn(message.raw, rcpt, rule.params["status"],
                                rule.params["diagnostic"].format(rcpt=rcpt), now)
            elif rule.kind == "reply" and not is_reply:
                ticket = ""
                out = build_reply(message.raw, rcpt, rule.params["text"], now)
            else:
                continue
            self.sent.append({"kind": rule.kind, "to": rcpt, "ticket": ticket, "message_id": message.id})
            self.deliver(out)
