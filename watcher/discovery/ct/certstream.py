"""certstream client: the websocket feed of a certstream-compatible server (certstream-server-go).

Our own small client on ``websockets`` (sync API, in a thread) rather than the PyPI ``certstream``
package, whose ``listen_for_events`` loops forever and cannot be stopped cleanly. It reconnects with
exponential backoff, records liveness (``JobState(name="certstream").last_ok_at``, throttled) for the
health check, opens a ``feed_silent`` Finding itself when no frame came for
``ct.certstream_silence_minutes`` and resolves it when frames flow again. Matches go through the same
matcher and ``Ingest`` as direct log reading (``Source.CERTSTREAM``).

A certstream server drops messages for a client that falls behind, so this feed is for speed; the
direct log reader is the one that never misses an entry.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from watcher.context import Context
from watcher.core.events import record
from watcher.core.findings import open_finding, resolve_finding
from watcher.core.models import FindingKind, JobState, Severity, Source
from watcher.core.texts import text
from watcher.discovery.ct.ingest import Hit, Ingest
from watcher.discovery.ct.matcher import Matcher, matcher_for

log = logging.getLogger("omamori.certstream")

LIVENESS_EVERY = 10.0  # seconds between JobState writes while frames flow
MAX_BACKOFF = 60.0


def _iso(epoch: Any) -> str:
    try:
        return datetime.fromtimestamp(float(epoch), UTC).isoformat()
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


def facts_of(data: dict[str, Any], names: list[str]) -> dict[str, Any]:
    leaf = data.get("leaf_cert") or {}
    issuer = leaf.get("issuer") or {}
    source = data.get("source") or {}
    return {
        "issuer": issuer.get("CN") or issuer.get("aggregated") or "",
        "issuer_org": issuer.get("O") or "",
        "not_before": _iso(leaf.get("not_before")),
        "not_after": _iso(leaf.get("not_after")),
        "serial": str(leaf.get("serial_number", "")).lower(),
        "log": source.get("name") or source.get("url") or "",
        "log_url": source.get("url") or "",
        "index": data.get("cert_index"),
        "precert": data.get("update_type") == "PrecertLogEntry",
        "names": names[:100],
        "cert_link": data.get("cert_link", ""),
    }


class CertstreamClient:
    def __init__(self, ctx: Context, url: str, *, matcher: Matcher | None = None,
                 liveness_every: float = LIVENESS_EVERY, backoff: float = 1.0) -> None:
        self.ctx = ctx
        self.url = url
        self.ingest = Ingest(matcher or matcher_for(ctx), Source.CERTSTREAM, actor="certstream",
                             engine=ctx.engine)
        self.liveness_every = liveness_every
        self.backoff = backoff
        self.silence = timedelta(minutes=ctx.settings.ct.certstream_silence_minutes)
        self.started_at = ctx.now()
        self.last_frame_at: datetime | None = None
        self.frames = 0
        self.updates = 0
        self.matched = 0
        self.errors = 0
        self.connections = 0
        self.last_error = ""
        self._last_write = 0.0
        self._silent: bool | None = None
        self._dirty = False

    # --- the loop ---------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        delay = self.backoff
        while not stop.is_set():
            try:
                with connect(self.url, open_timeout=10, close_timeout=2, max_size=2**24,
                             ping_interval=20, ping_timeout=20) as ws:
                    self.connections += 1
                    delay = self.backoff
                    log.info("certstream connected to %s", self.url)
                    while not stop.is_set():
                        try:
                            msg = ws.recv(timeout=1.0)
                        except TimeoutError:
                            self.tick()
                            continue
                        self.on_frame(msg)
                        self.tick()
            except (WebSocketException, OSError, TimeoutError) as e:
                self.last_error = f"{type(e).__name__}: {e}"
                log.warning("certstream %s: %s; reconnecting in %.0f s", self.url, self.last_error, delay)
            self.tick()
            if stop.wait(delay):
                break
            delay = min(delay * 2, MAX_BACKOFF)
        self.tick(force=True)

    def on_frame(self, msg: str | bytes) -> None:
        self.frames += 1
        self.last_frame_at = self.ctx.now()
        self._dirty = True
        try:
            frame = json.loads(msg)
        except ValueError:
            self.errors += 1
            return
        if not isinstance(frame, dict) or frame.get("message_type") != "certificate_update":
            return  # heartbeats keep us alive; nothing else to do
        self.updates += 1
        try:
            data = frame["data"]
            names = [str(n) for n in data["leaf_cert"]["all_domains"]][:1000]
        except (KeyError, TypeError):
            self.errors += 1
            return
        matches = self.ingest.match_names(names)
        if not matches:
            return
        try:
            with Session(self.ctx.engine, expire_on_commit=False) as s:
                counts = self.ingest.apply(s, [Hit(matches, facts_of(data, names))], self.ctx.now())
                s.commit()
            self.ctx.nudge.candidates(counts["created_ids"])
            self.matched += counts["matched"]
        except Exception as e:  # one bad frame or a DB hiccup must not end the feed
            self.errors += 1
            log.exception("certstream: could not record a match: %s", e)

    # --- liveness and the silence alarm -------------------------------------------------------

    def tick(self, force: bool = False) -> None:
        now = self.ctx.now()
        since = self.last_frame_at or self.started_at
        silent = now - since > self.silence
        mono = time.monotonic()
        if not force and silent == self._silent and not (self._dirty and mono - self._last_write >= self.liveness_every):
            return
        try:
            with Session(self.ctx.engine, expire_on_commit=False) as s:
                state = s.get(JobState, "certstream") or JobState(name="certstream")
                if self.last_frame_at is not None:
                    state.last_ok_at = self.last_frame_at
                state.last_error = "" if not silent else (self.last_error or "no frames")[:2000]
                state.last_summary = {"url": self.url, "frames": self.frames, "updates": self.updates,
                                      "matched": self.matched, "connections": self.connections,
                                      "errors": self.errors}
                s.add(state)
                if silent and self._silent is not True:
                    title = (text("self.feed_silent_since", feed="certstream", since=f"{self.last_frame_at:%Y-%m-%d %H:%M}")
                             if self.last_frame_at else text("self.feed_silent_start", feed="certstream"))
                    open_finding(s, FindingKind.FEED_SILENT, "certstream", title,
                                 severity=Severity.HIGH, now=now, actor="certstream",
                                 detail=self.last_error, data={"url": self.url})
                elif not silent and self._silent is not False:
                    resolve_finding(s, FindingKind.FEED_SILENT, "certstream", now=now, actor="certstream")
                if silent != self._silent and self._silent is not None:
                    record(s, "certstream", "certstream.silent" if silent else "certstream.flowing", None,
                           {"url": self.url}, at=now)
                s.commit()
            self._silent, self._dirty, self._last_write = silent, False, mono
        except Exception as e:  # the database being away must not kill the feed thread
            log.warning("certstream: could not record liveness: %s", e)


def service(ctx: Context, stop: threading.Event) -> None:
    """Run one client per configured URL until ``stop`` is set (a SERVICE of ``omamori run``)."""
    urls = ctx.settings.ct.certstream_urls
    if not urls:
        log.info("certstream: no ct.certstream_urls configured")
        return
    matcher = matcher_for(ctx)
    threads = []
    for url in urls:
        client = CertstreamClient(ctx, url, matcher=matcher)
        t = threading.Thread(target=client.run, args=(stop,), name=f"certstream-{url}", daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
