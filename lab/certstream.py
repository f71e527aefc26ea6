"""A certstream-compatible websocket server fed by a LabCTLog.

Every entry the log integrates becomes a `certificate_update` frame (the calidog / certstream-server-go
message format); heartbeats go out every `heartbeat_interval` seconds. Paths: `/` (lite, no DER),
`/full-stream` (with `as_der` and the chain), `/domains-only` (`dns_entries` frames).
The server runs its own asyncio loop in a thread; `drop_clients()` cuts every connection so clients'
reconnect logic can be tested.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import json
import threading
import time
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID
from websockets.asyncio.server import ServerConnection, serve

from lab import ctformat as F
from lab.ct import LabCTLog
from lab.net import LOOPBACK, free_port

_NAME_FIELDS = {"C": NameOID.COUNTRY_NAME, "ST": NameOID.STATE_OR_PROVINCE_NAME, "L": NameOID.LOCALITY_NAME,
                "O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
                "CN": NameOID.COMMON_NAME, "email_address": NameOID.EMAIL_ADDRESS}


def _name(name: x509.Name) -> dict[str, Any]:
    out: dict[str, Any] = {}
    agg = []
    for key, oid in _NAME_FIELDS.items():
        attrs = name.get_attributes_for_oid(oid)
        value = attrs[0].value if attrs else None
        text = value.decode(errors="replace") if isinstance(value, bytes) else value
        out[key] = text
        if text is not None:
            agg.append(f"/{key}={text}")
    out["aggregated"] = "".join(agg)
    return out


def _colon_hex(data: bytes) -> str:
    return ":".join(f"{b:02X}" for b in data)


@functools.lru_cache(maxsize=32)
def _issuer_dict(der: bytes, with_der: bool) -> str:
    """Issuers repeat in every frame: parse each once (returned as JSON so callers get a fresh copy)."""
    return json.dumps(cert_dict(der, with_der))


def cert_dict(der: bytes, with_der: bool) -> dict[str, Any]:
    """The certstream `leaf_cert` / chain element for one DER certificate."""
    cert = x509.load_der_x509_certificate(der)
    domains: list[str] = []
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if cn:
        domains.append(str(cn[0].value))
    extensions: dict[str, Any] = {}
    is_ca = False
    for ext in cert.extensions:
        if ext.oid == ExtensionOID.SUBJECT_ALTERNATIVE_NAME:
            sans = ext.value.get_values_for_type(x509.DNSName)
            extensions["subjectAltName"] = ", ".join(f"DNS:{n}" for n in sans)
            domains.extend(n for n in sans if n not in domains)
        elif ext.oid == ExtensionOID.BASIC_CONSTRAINTS:
            is_ca = ext.value.ca
            extensions["basicConstraints"] = f"CA:{'TRUE' if is_ca else 'FALSE'}"
        elif ext.oid.dotted_string == "1.3.6.1.4.1.11129.2.4.3":
            extensions["ctlPoisonByte"] = True
        elif ext.oid == ExtensionOID.EXTENDED_KEY_USAGE:
            extensions["extendedKeyUsage"] = "TLS Web server authentication"
    out = {
        "subject": _name(cert.subject),
        "issuer": _name(cert.issuer),
        "extensions": extensions,
        "not_before": int(cert.not_valid_before_utc.timestamp()),
        "not_after": int(cert.not_valid_after_utc.timestamp()),
        "serial_number": format(cert.serial_number, "X"),
        "fingerprint": _colon_hex(hashlib.sha1(der).digest()),
        "sha1": _colon_hex(hashlib.sha1(der).digest()),
        "sha256": _colon_hex(hashlib.sha256(der).digest()),
        "signature_algorithm": "ecdsa, sha256",
        "is_ca": is_ca,
        "all_domains": domains,
    }
    if with_der:
        out["as_der"] = base64.b64encode(der).decode()
    return out


class LabCertstream:
    """certstream server. `url` is `ws://127.0.0.1:PORT/`."""

    def __init__(self, log: LabCTLog, host: str = LOOPBACK, port: int = 0, heartbeat_interval: float = 15.0,
                 name: str | None = None) -> None:
        self.log = log
        self.host = host
        self.port = port
        self._requested_port = port
        self.heartbeat_interval = heartbeat_interval
        self.name = name or log.description
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._clients: dict[ServerConnection, asyncio.Queue[str | None]] = {}
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self.sent = 0

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/"

    def message(self, e: F.LogEntry, full: bool) -> dict[str, Any]:
        source_url = self.log.rfc6962_url.removeprefix("http://").removeprefix("https://")
        return {
            "message_type": "certificate_update",
            "data": {
                "update_type": "PrecertLogEntry" if e.precert else "X509LogEntry",
                "leaf_cert": cert_dict(e.cert_der, full),
                "chain": [json.loads(_issuer_dict(e.issuer_der, full))],
                "cert_index": e.index,
                "cert_link": f"{self.log.rfc6962_url}ct/v1/get-entries?start={e.index}&end={e.index}",
                "seen": time.time(),
                "source": {"url": source_url, "name": self.name, "operator": "Lab CT Operator",
                           "normalized_url": source_url},
            },
        }

    def _on_entries(self, entries: list[F.LogEntry]) -> None:
        """Called in the log's sequencer thread: build frames here, hand them to the loop."""
        if self._loop is None or not self._clients:
            return
        frames = []
        for e in entries:
            try:
                full = self.message(e, True)
            except ValueError:  # an unparsable certificate is skipped, as real servers do
                continue
            lite = json.loads(json.dumps(full))
            lite["data"]["leaf_cert"].pop("as_der", None)
            for c in lite["data"]["chain"]:
                c.pop("as_der", None)
            domains = {"message_type": "dns_entries", "data": full["data"]["leaf_cert"]["all_domains"]}
            frames.append({"/": json.dumps(lite), "/full-stream": json.dumps(full),
                           "/domains-only": json.dumps(domains)})
        self._loop.call_soon_threadsafe(self._fan_out, frames)

    def _fan_out(self, frames: list[dict[str, str]]) -> None:
        for ws, queue in list(self._clients.items()):
            path = ws.request.path.split("?")[0].rstrip("/") if ws.request else ""
            key = path if path in ("/full-stream", "/domains-only") else "/"
            for f in frames:
                queue.put_nowait(f[key])

    async def _handler(self, ws: ServerConnection) -> None:
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._clients[ws] = queue
        sender = asyncio.create_task(self._send_loop(ws, queue))
        try:
            await ws.wait_closed()  # ends when either side closes; the sender alone would never notice
        finally:
            sender.cancel()
            self._clients.pop(ws, None)

    async def _send_loop(self, ws: ServerConnection, queue: asyncio.Queue[str | None]) -> None:
        try:
            while (msg := await queue.get()) is not None:
                await ws.send(msg)
                self.sent += 1
        except Exception:  # the client went away; _handler cleans up
            pass

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            frame = json.dumps({"message_type": "heartbeat", "timestamp": time.time()})
            for queue in self._clients.values():
                queue.put_nowait(frame)

    async def _main(self) -> None:
        self._stopped = asyncio.Event()
        port = self._requested_port or free_port()
        async with serve(self._handler, self.host, port, ping_interval=20, max_queue=None,
                         close_timeout=0.5) as server:
            self.port = port
            beat = asyncio.create_task(self._heartbeats())
            self._ready.set()
            await self._stopped.wait()
            beat.cancel()
            await asyncio.gather(*(ws.close(1001, "lab stopping") for ws in list(self._clients)),
                                 return_exceptions=True)
            server.close()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()

    def drop_clients(self, code: int = 1012, reason: str = "lab drop") -> None:
        """Close every client connection now (1012 'service restart'), to test reconnection."""
        loop = self._loop
        if loop is None:
            return

        async def _drop() -> None:
            # close concurrently; a client slow to finish the closing handshake is cut after close_timeout
            await asyncio.gather(*(ws.close(code, reason) for ws in list(self._clients)), return_exceptions=True)

        asyncio.run_coroutine_threadsafe(_drop(), loop).result(timeout=5)

    def client_count(self) -> int:
        return len(self._clients)

    def start(self) -> LabCertstream:
        if self._thread is not None:
            return self
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="certstream", daemon=True)
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("certstream server did not start")
        self.log.subscribe(self._on_entries)
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self.log.unsubscribe(self._on_entries)
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None:
            loop.call_soon_threadsafe(stopped.set)
        self._thread.join(timeout=5)
        self._thread = None
        self._loop = None

    def __enter__(self) -> LabCertstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
