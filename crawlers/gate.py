"""The gate: a forward proxy inside the crawler process through which Chromium and the fallback connect.

Chromium follows main-frame redirects before any request hook sees them, and resolves names itself,
after (and apart from) any check of ours. So the crawler puts this proxy between the browser and the
network: every connection Chromium makes — navigations, each redirect hop, sub-resources — is a
CONNECT (https) or an absolute-URI request (http) to the gate, which judges the host with the batch's
``Policy`` and then either connects to the very addresses it judged (no proxy configured: pinned, so
DNS rebinding cannot swap them) or hands the request to the configured egress proxy (which resolves
on the far side). A refused connection gets a 403 with the reason, and the refusal is kept
(``refused``) so the target's record says "refused", not "the page said 403".

One request per client connection for plain http (``Connection: close`` is forced both ways), so each
absolute URI is judged; an https tunnel is judged once, for its one host.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from urllib.parse import urlsplit

from crawlers.netguard import Policy

log = logging.getLogger("crawlers.gate")

MAX_HEAD = 64 * 1024
HEAD_TIMEOUT = 30.0
HOP_HEADERS = {"proxy-connection", "connection", "keep-alive", "proxy-authorization", "te", "trailer", "upgrade"}


class Gate:
    def __init__(self, policy: Policy, upstream: str = "") -> None:
        self.policy = policy
        self.upstream = urlsplit(upstream) if upstream else None
        self.refused: dict[str, str] = {}  # host -> reason, for the records
        self.allowed: set[str] = set()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="crawler-gate", daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Gate:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        fut.result(timeout=10)
        return self

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, limit=MAX_HEAD)
        self.port = int(self._server.sockets[0].getsockname()[1])

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
        try:
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=5)
        except Exception:  # stopping must never fail the batch
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def refusal_for(self, *urls: str) -> str:
        """The gate's refusal of any of these URLs' hosts ('' when none was refused)."""
        for u in urls:
            host = (urlsplit(u).hostname or "").lower().rstrip(".") if u else ""
            if host in self.refused:
                return self.refused[host]
        return ""

    # --- the proxy ------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            writer.close()
            return
        try:
            await self._serve(head, reader, writer)
        except (ConnectionError, OSError, TimeoutError) as e:
            log.debug("gate: %s", e)
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def _serve(self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            await _answer(writer, 400, "bad request line")
            return
        if method.upper() == "CONNECT":
            host, _, port_s = target.rpartition(":")
            host = host.strip("[]")
            port = int(port_s) if port_s.isdigit() else 443
        else:
            parts = urlsplit(target)
            if parts.scheme != "http" or not parts.hostname:
                await _answer(writer, 400, "only absolute http URIs and CONNECT are proxied")
                return
            host, port = parts.hostname, parts.port or 80
        checked = await asyncio.get_running_loop().run_in_executor(None, self.policy.check_host, host)
        key = host.lower().rstrip(".")
        if checked.refusal:
            self.refused[key] = checked.refusal
            log.warning("gate refused %s: %s", target[:200], checked.refusal)
            await _answer(writer, 403, checked.refusal)
            return
        self.allowed.add(key)
        upstream = await self._open(host, port, checked.addresses)
        if upstream is None:
            await _answer(writer, 502, f"cannot connect to {host}:{port}")
            return
        up_reader, up_writer = upstream
        try:
            if method.upper() == "CONNECT":
                if self.upstream is not None:  # the egress proxy opens the tunnel and answers
                    up_writer.write(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode("latin-1"))
                else:
                    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                path = target if self.upstream is not None else _origin_form(target)
                headers = [h for h in lines[1:] if h and h.split(":", 1)[0].strip().lower() not in HOP_HEADERS]
                up_writer.write((f"{method} {path} {version}\r\n" + "\r\n".join([*headers, "Connection: close"])
                                 + "\r\n\r\n").encode("latin-1"))
            await up_writer.drain()
            await _pipe_both(reader, writer, up_reader, up_writer)
        finally:
            up_writer.close()

    async def _open(self, host: str, port: int, addresses: tuple[str, ...]
                    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        if self.upstream is not None:
            targets = [(self.upstream.hostname or "127.0.0.1", self.upstream.port or 8080)]
        else:  # the addresses judged, never the name again
            targets = [(a, port) for a in addresses] or [(host, port)]
        for h, p in targets:
            try:
                return await asyncio.wait_for(asyncio.open_connection(h, p, limit=MAX_HEAD), 15)
            except (OSError, TimeoutError):
                continue
        return None


def _origin_form(target: str) -> str:
    parts = urlsplit(target)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


async def _answer(writer: asyncio.StreamWriter, status: int, reason: str) -> None:
    body = f"omamori fetch guard: {reason}\n".encode()
    writer.write(f"HTTP/1.1 {status} {'Forbidden' if status == 403 else 'Bad Gateway'}\r\n"
                 f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
                 "X-Omamori-Guard: refused\r\nConnection: close\r\n\r\n".encode() + body)
    await writer.drain()


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while chunk := await src.read(65536):
            dst.write(chunk)
            await dst.drain()
    finally:
        try:
            if dst.can_write_eof():
                dst.write_eof()
        except (OSError, RuntimeError):
            pass


async def _pipe_both(r1: asyncio.StreamReader, w1: asyncio.StreamWriter, r2: asyncio.StreamReader,
                     w2: asyncio.StreamWriter) -> None:
    tasks = [asyncio.ensure_future(_pipe(r1, w2)), asyncio.ensure_future(_pipe(r2, w1))]
    # The origin (or the egress proxy) closing ends the exchange; the client may keep its side open.
    await asyncio.wait([tasks[1]], return_when=asyncio.FIRST_COMPLETED)
    await asyncio.sleep(0)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
