"""Where the team's tools listen: incoming webhooks (Slack, Microsoft Teams, any JSON) and a syslog
collector (a SIEM), as real servers on loopback that keep everything they receive.

Webhook receiver (HTTP): a POST to any path is kept with its headers and body and classified by its
documented shape — ``slack`` (``{"text", "blocks"}``), ``teams`` (``{"type": "message",
"attachments": [Adaptive Card]}``) or ``json``. Slack's endpoint answers ``200 ok`` (text/plain),
Teams/Workflows ``202``, anything else ``200 {"ok": true}``. ``fail_next(n, status)`` makes the next
N posts fail (a webhook that is down). ``GET /received`` lists what came in; ``DELETE /received``
forgets it.

Syslog collector: RFC 5424 over UDP (one datagram, one message) and TCP (RFC 6587 octet counting,
or newline-terminated), on the same port number.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from typing import Any

from lab.net import LOOPBACK, HTTPService, Request, Response, free_port, json_response, text_response


@dataclass
class Received:
    id: int
    path: str
    kind: str  # slack | teams | json | other
    headers: dict[str, str]
    body: bytes
    received_at: dt.datetime

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "path": self.path, "kind": self.kind, "headers": self.headers,
                "json": self.json(), "received_at": self.received_at.isoformat()}


def classify(payload: Any) -> str:
    if not isinstance(payload, dict):
        return "other"
    atts = payload.get("attachments")
    if payload.get("type") == "message" and isinstance(atts, list) and any(
            isinstance(a, dict) and a.get("contentType") == "application/vnd.microsoft.card.adaptive" for a in atts):
        return "teams"
    if isinstance(payload.get("text"), str) and ("blocks" in payload or len(payload) == 1):
        return "slack"
    return "json"


class LabWebhooks(HTTPService):
    def __init__(self, host: str = LOOPBACK, port: int = 0) -> None:
        super().__init__(host, port)
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._fail: list[int] = []

    def url_for(self, kind: str) -> str:
        """A receiving URL: ``/slack/T000/B000/XXX``, ``/teams/workflow``, ``/json/siem``."""
        paths = {"slack": "services/T0LAB/B0LAB/labsecret", "teams": "workflows/lab/triggers/manual",
                 "json": "hooks/omamori"}
        return f"{self.url}{kind}/{paths.get(kind, kind)}"

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        with self._lock:
            self._fail.extend([status] * n)

    def received(self, kind: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self._received if kind in (None, r.kind)]

    def clear(self) -> None:
        with self._lock:
            self._received.clear()

    def app(self, request: Request) -> Response:
        if request.path.rstrip("/") == "/received":
            if request.method == "DELETE":
                self.clear()
                return json_response({"ok": True})
            return json_response([r.as_dict() for r in self.received(request.query.get("kind"))])
        if request.method != "POST":
            return json_response({"error": "POST only"}, 405)
        with self._lock:
            status = self._fail.pop(0) if self._fail else 0
        if status:
            return text_response("lab: webhook unavailable", status)
        try:
            payload = json.loads(request.body)
        except ValueError:
            return text_response("invalid_payload", 400)
        kind = classify(payload)
        with self._lock:
            rec = Received(len(self._received) + 1, request.path, kind, dict(request.headers.items()), request.body,
                           dt.datetime.now(dt.UTC))
            self._received.append(rec)
        if kind == "slack":
            return text_response("ok")
        if kind == "teams":
            return Response(202, b"", "text/plain")
        return json_response({"ok": True, "id": rec.id})


_OCTETS = re.compile(rb"^(\d+) ")


class _UDP(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, _sock = self.request
        self.server.owner.keep(data, "udp")  # type: ignore[attr-defined]


class _TCP(socketserver.StreamRequestHandler):
    timeout = 10

    def handle(self) -> None:
        buf = b""
        while True:
            try:
                chunk = self.rfile.read1(65536)
            except OSError:
                return
            if not chunk:
                break
            buf += chunk
            while buf:
                m = _OCTETS.match(buf)
                if m:  # RFC 6587 octet counting
                    n, start = int(m.group(1)), m.end()
                    if len(buf) < start + n:
                        break
                    self.server.owner.keep(buf[start:start + n], "tcp")  # type: ignore[attr-defined]
                    buf = buf[start + n:]
                elif b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    self.server.owner.keep(line, "tcp")  # type: ignore[attr-defined]
                else:
                    break
        if buf.strip():
            self.server.owner.keep(buf, "tcp")  # type: ignore[attr-defined]


@dataclass
class SyslogMessage:
    raw: bytes
    transport: str
    pri: int = 0
    app: str = ""
    msgid: str = ""
    msg: str = ""
    fields: dict[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        try:
            return json.loads(self.msg.lstrip("\ufeff"))
        except ValueError:
            return None


_5424 = re.compile(r"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\]) ?(.*)$", re.S)


class LabSyslog:
    """A syslog collector on one port number, UDP and TCP."""

    def __init__(self, host: str = LOOPBACK, port: int = 0) -> None:
        self.host = host
        self._chosen = not port  # a port picked here may be taken by another process before bind
        self.port = port or free_port()
        self._lock = threading.Lock()
        self._messages: list[SyslogMessage] = []
        self._servers: list[socketserver.BaseServer] = []

    def keep(self, data: bytes, transport: str) -> None:
        text = data.decode("utf-8", "replace").rstrip("\r\n")
        m = _5424.match(text)
        msg = SyslogMessage(data, transport)
        if m:
            msg.pri, msg.app, msg.msgid, msg.msg = int(m.group(1)), m.group(4), m.group(6), m.group(8)
        with self._lock:
            self._messages.append(msg)

    def messages(self) -> list[SyslogMessage]:
        with self._lock:
            return list(self._messages)

    def _bind(self) -> list[Any]:
        udp = socketserver.ThreadingUDPServer((self.host, self.port), _UDP)
        tcp = socketserver.ThreadingTCPServer((self.host, self.port), _TCP, bind_and_activate=False)
        try:
            tcp.allow_reuse_address = True
            tcp.daemon_threads = True
            tcp.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.server_bind()
            tcp.server_activate()
        except OSError:
            udp.server_close()
            tcp.server_close()
            raise
        return [udp, tcp]

    def start(self) -> LabSyslog:
        # One number for UDP and TCP: a number free for TCP a moment ago may be in use for UDP (or
        # taken since, on a machine where many test runs start servers), so a chosen one is re-chosen.
        for attempt in range(20):
            try:
                servers = self._bind()
                break
            except OSError:
                if not self._chosen or attempt == 19:
                    raise
                self.port = free_port(socket.SOCK_DGRAM)
        for srv in servers:
            srv.owner = self
            srv.daemon_threads = True
            threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                             name=f"lab-syslog-{type(srv).__name__}").start()
            self._servers.append(srv)
        return self

    def stop(self) -> None:
        for srv in self._servers:
            srv.shutdown()
            srv.server_close()
        self._servers.clear()

    def __enter__(self) -> LabSyslog:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
