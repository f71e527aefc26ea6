"""The lab's mail server (aiosmtpd): accepts mail, keeps every message, and can play an abuse desk.

- STARTTLS is offered with a lab-CA certificate (optional for clients).
- Every message is kept (envelope + raw bytes): `messages()` in Python, and over HTTP at `api_url`:
  `GET /messages`, `GET /messages/<id>`, `GET /messages/<id>/raw`, `DELETE /messages`.
- Failures on demand: 4xx for the next N messages, 5xx for given recipients (to test retries).
- An abuse desk: a message to a desk address that names one of the desk's domains (subject or body,
  defanged `[.]` too) triggers `on_report(domain)` after a delay — the World wires that to suspend the
  domain (DNS NXDOMAIN, RDAP `client hold`, the suspension page).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import itertools
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from lab.net import LOOPBACK, HTTPService, Request, Response, free_port, json_response
from lab.pki import LabPKI


@dataclass
class StoredMessage:
    id: int
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    received_at: dt.datetime
    tls: bool = False

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    def text(self) -> str:
        """Subject and every text part, for searching."""
        msg = self.message
        parts = [self.subject]
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                try:
                    parts.append(str(part.get_content()))
                except (LookupError, UnicodeError):
                    continue
        return "\n".join(parts)

    def summary(self) -> dict[str, Any]:
        msg = self.message
        return {"id": self.id, "mail_from": self.mail_from, "rcpt_tos": self.rcpt_tos, "subject": self.subject,
                "from": str(msg.get("From", "")), "to": str(msg.get("To", "")),
                "message_id": str(msg.get("Message-ID", "")), "size": len(self.raw), "tls": self.tls,
                "received_at": self.received_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "attachments": [a.get_filename() for a in msg.iter_attachments()]}


@dataclass
class AbuseDesk:
    address: str
    delay: float
    on_report: Callable[[str], None]
    domains: Callable[[], Iterable[str]]
    reports: list[dict[str, Any]] = field(default_factory=list)


def _defang(text: str) -> str:
    return text.replace("[.]", ".").replace("(.)", ".").replace("[dot]", ".").replace("hxxp", "http").lower()


class _Handler:
    def __init__(self, owner: LabSMTP) -> None:
        self.owner = owner

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        code = self.owner._rejected.get(address.lower())
        if code:
            return f"{code} 5.1.1 <{address}>: recipient rejected by the lab"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return self.owner._receive(envelope, session)


class _API(HTTPService):
    def __init__(self, owner: LabSMTP, host: str) -> None:
        super().__init__(host, 0)
        self.owner = owner

    def app(self, request: Request) -> Response:
        parts = [p for p in request.path.split("/") if p]
        if parts == ["messages"]:
            if request.method == "DELETE":
                self.owner.clear()
                return json_response({"deleted": True})
            return json_response([m.summary() for m in self.owner.messages()])
        if len(parts) >= 2 and parts[0] == "messages" and parts[1].isdigit():
            msg = self.owner.get(int(parts[1]))
            if msg is None:
                return json_response({"error": "no such message"}, 404)
            if parts[2:] == ["raw"]:
                return Response(200, msg.raw, "message/rfc822")
            return json_response({**msg.summary(), "text": msg.text()})
        if parts == ["desks"]:
            return json_response([{"address": d.address, "delay": d.delay, "reports": d.reports}
                                  for d in self.owner.desks.values()])
        return json_response({"error": "not found"}, 404)


class LabSMTP:
    """SMTP on `host`:`port` (a free port is picked first: aiosmtpd cannot bind port 0); API at `api_url`."""

    def __init__(self, pki: LabPKI | None = None, host: str = LOOPBACK, port: int = 0, starttls: bool = True) -> None:
        self.host = host
        self.port = port
        self._requested_port = port
        self.pki = pki or LabPKI()
        self._own_pki = pki is None
        self.starttls = starttls
        self._messages: list[StoredMessage] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._fail_next: list[int] = []
        self._rejected: dict[str, int] = {}
        self.desks: dict[str, AbuseDesk] = {}
        # Called with every accepted message (the World's mail responder: auto-replies, bounces).
        self.listeners: list[Callable[[StoredMessage], None]] = []
        self._timers: list[threading.Timer] = []
        self._controller: Controller | None = None
        self._api = _API(self, host)

    @property
    def api_url(self) -> str:
        return self._api.url

    # --- behaviour ----------------------------------------------------------------------------

    def fail_next(self, n: int = 1, code: int = 451) -> None:
        """The next `n` messages get a temporary (4xx) or permanent (5xx) failure at DATA."""
        with self._lock:
            self._fail_next.extend([code] * n)

    def reject_recipient(self, address: str, code: int = 550) -> None:
        self._rejected[address.lower()] = code

    def accept_recipient(self, address: str) -> None:
        """Undo reject_recipient: the mailbox exists again."""
        self._rejected.pop(address.lower(), None)

    def abuse_desk(self, address: str, on_report: Callable[[str], None], domains: Callable[[], Iterable[str]],
                   delay: float = 5.0) -> AbuseDesk:
        """Play a registrar's abuse desk at `address`: reports naming one of `domains()` lead to
        `on_report(domain)` after `delay` seconds."""
        desk = AbuseDesk(address.lower(), delay, on_report, domains)
        self.desks[desk.address] = desk
        return desk

    def _receive(self, envelope: Envelope, session: Session) -> str:
        with self._lock:
            if self._fail_next:
                code = self._fail_next.pop(0)
                return f"{code} {'4.3.0' if code < 500 else '5.7.1'} lab fault injection, try again later"
            raw = envelope.original_content or envelope.content or b""
            if isinstance(raw, str):
                raw = raw.encode()
            msg = StoredMessage(next(self._ids), str(envelope.mail_from), list(envelope.rcpt_tos), bytes(raw),
                                dt.datetime.now(dt.UTC), bool(getattr(session, "ssl", None)))
            self._messages.append(msg)
        for rcpt in msg.rcpt_tos:
            desk = self.desks.get(rcpt.lower())
            if desk:
                self._desk_reads(desk, msg)
        for listener in list(self.listeners):
            try:
                listener(msg)
            except Exception:  # a responder's fault must not fail the SMTP transaction
                pass
        return f"250 2.0.0 Message accepted as {msg.id}"

    def _desk_reads(self, desk: AbuseDesk, msg: StoredMessage) -> None:
        text = _defang(msg.text())
        for domain in sorted(set(desk.domains())):
            d = domain.lower()
            if not re.search(rf"(?<![a-z0-9-]){re.escape(d)}(?![a-z0-9-])", text):
                continue
            report = {"domain": d, "message_id": msg.id, "received_at": msg.received_at.isoformat(),
                      "acted_at": None}
            desk.reports.append(report)

            def act(domain: str = d, report: dict[str, Any] = report) -> None:
                # Stamped once the desk has done it: a test waiting on acted_at sees the suspension in place.
                try:
                    desk.on_report(domain)
                finally:
                    report["acted_at"] = dt.datetime.now(dt.UTC).isoformat()

            timer = threading.Timer(desk.delay, act)
            timer.daemon = True
            self._timers.append(timer)
            timer.start()

    def desks_idle(self) -> bool:
        """Every report a desk read has been acted on (no suspension or removal still to come)."""
        with self._lock:
            desks = list(self.desks.values())
        return all(r["acted_at"] for desk in desks for r in list(desk.reports))

    # --- reading ------------------------------------------------------------------------------

    def messages(self) -> list[StoredMessage]:
        with self._lock:
            return list(self._messages)

    def get(self, message_id: int) -> StoredMessage | None:
        with self._lock:
            return next((m for m in self._messages if m.id == message_id), None)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def export_eml(self, folder: str | Path) -> list[Path]:
        """Write every message as `<id>.eml` into `folder` (what an IMAP client would have saved)."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for m in self.messages():
            p = out / f"{m.id:06d}.eml"
            p.write_bytes(m.raw)
            paths.append(p)
        return paths

    # --- life cycle ---------------------------------------------------------------------------

    def start(self) -> LabSMTP:
        if self._controller is not None:
            return self
        kwargs: dict[str, Any] = {}
        if self.starttls:
            kwargs["tls_context"] = self.pki.tls_context_for("smtp.lab.test", ("localhost", self.host))
            kwargs["require_starttls"] = False
        for _attempt in range(10):
            port = self._requested_port or free_port()
            controller = Controller(_Handler(self), hostname=self.host, port=port, server_hostname="smtp.lab.test",
                                    decode_data=False, ready_timeout=5, **kwargs)
            try:
                controller.start()
            except (OSError, RuntimeError):  # someone took the port between our probe and the bind
                if self._requested_port:
                    raise
                continue
            break
        else:
            raise OSError("no free port for SMTP")
        self.port = port
        self._controller = controller
        self._api.start()
        return self

    def stop(self) -> None:
        for t in self._timers:
            t.cancel()
        self._timers.clear()
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()
        self._api.stop()
        if self._own_pki:
            self.pki.close()

    def __enter__(self) -> LabSMTP:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
