"""Direct CT log reading, certspotter-style: verified tree heads, a saved position, nothing missed.

For each log: fetch and verify the tree head (signature; consistency with the last verified head),
then read entries from the saved position in the log's own batch size, match every name, and commit
the matches *together with* the new position after every batch. A crash between batches repeats
nothing and loses nothing: the next run starts at exactly the first entry not yet committed.

Every entry is processed in isolation: whatever one entry raises (our ``EntryError`` or anything a
parser or the matcher throws at a hostile certificate) makes it a bad entry, recorded with its log,
index and reason (``LogPosition.entries_failed`` and a ``ct.entry_failed`` Event) and its bytes kept
in the evidence store; the reader goes on with the next entry. A tree head that does not verify opens
a ``ct_log_invalid`` Finding and the log is not read further until it verifies again; a log that does
not answer is recorded on its position and retried next run.

RFC 6962 entries are verified against the signed tree head batch by batch before anything of the
batch is committed: the position carries the compact range of [0, next_index) (certspotter's
collapsed tree), each entry's leaf hash is appended, and the new prefix root must be the head's root
or be proven consistent with it (get-sth-consistency). The static-ct-api checks every leaf against the
hash tiles instead. Either way a log cannot hand us entries that are not in the tree it signed.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from watcher.clients.http import Guard, GuardedTransport
from watcher.context import Context
from watcher.core import lease
from watcher.core.config import Settings
from watcher.core.events import record
from watcher.core.findings import open_finding, resolve_finding
from watcher.core.models import FindingKind, LogPosition, Severity, Source
from watcher.core.texts import text
from watcher.discovery.ct.client import LogClient, LogUnavailable
from watcher.discovery.ct.entries import Entry, EntryError, details, lenient_dns_names, names
from watcher.discovery.ct.ingest import Hit, Ingest
from watcher.discovery.ct.loglist import LogInfo
from watcher.discovery.ct.matcher import Matcher, matcher_for
from watcher.discovery.ct.merkle import CompactRange, TreeHead, VerificationError, verify_consistency
from watcher.discovery.ct.rfc6962 import Rfc6962Log
from watcher.discovery.ct.static import StaticLog

log = logging.getLogger("omamori.ct")


class StopFlag(Protocol):
    def is_set(self) -> bool: ...


class LogApi(Protocol):
    api: str
    batch: int

    def head(self) -> TreeHead: ...
    def check_consistency(self, old_size: int, old_root: bytes, head: TreeHead) -> None: ...
    def fetch(self, start: int, end: int, *, want_hash: bool = False) -> list[Entry | EntryError]: ...
    def timestamp_at(self, index: int) -> int: ...


def open_api(info: LogInfo, *, max_batch: int = 256, sleep: Callable[[float], None] = time.sleep,
             timeout: float = 30.0, settings: Settings | None = None) -> LogApi:
    """The log's API. With ``settings``, every request passes the fetch guard (the log's host judged
    as a configured endpoint: never a metadata, link-local or unspecified address)."""
    transport = None
    if settings is not None:
        host = httpx.URL(info.url).host
        transport = GuardedTransport(Guard(settings, proxy=False, endpoints=(host,)))
    client = LogClient(info.url, sleep=sleep, timeout=timeout, transport=transport)
    if info.api == "static":
        return StaticLog(client, info.key_der, info.origin)
    return Rfc6962Log(client, info.key_der, batch=max_batch)


@dataclass
class RunResult:
    log: str
    read: int = 0
    failed: int = 0
    matched: int = 0
    candidates: int = 0
    tree_size: int = 0
    next_index: int = 0
    error: str = ""
    retries: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def process(items: list[Entry | EntryError], ingest: Ingest, info: LogInfo) -> tuple[list[Hit], list[EntryError]]:
    """Names -> matcher for one batch (pure CPU, no database): the hot loop. One entry's failure,
    whatever it raises, is that entry's alone."""
    hits: list[Hit] = []
    bad: list[EntryError] = []
    match_names = ingest.match_names
    for item in items:
        if isinstance(item, EntryError):
            bad.append(item)
            continue
        try:
            try:
                ns = names(item)
            except EntryError as e:
                # Recorded as bad, and still screened: a lookalike is not let through because its CA
                # also got an unrelated extension wrong (certspotter's lenient-parser lesson).
                bad.append(_bad(item.index, e, item.cert_der))
                ns = lenient_dns_names(item.cert_der) or []
            matches = match_names(ns)
            if matches:
                facts = details(item)
                facts.update({"log": info.description, "log_url": info.url, "index": item.index, "names": ns[:100]})
                hits.append(Hit(matches, facts, item.cert_der))
        except Exception as e:  # hostile input: a bad entry, never the end of the log
            if not (bad and bad[-1].index == item.index):
                bad.append(_bad(item.index, e, item.cert_der))
    return hits, bad


def _bad(index: int | None, e: BaseException, der: bytes) -> EntryError:
    if isinstance(e, EntryError) and e.index is not None:
        return e
    message = str(e)
    if not (isinstance(e, EntryError) and message.startswith("entry ")):
        message = f"entry {index}: {type(e).__name__}: {message}"
    return EntryError(message[:1000], index=index, der=der)


class PositionMoved(Exception):
    """Another reader committed this log's position first: stop reading it (its lease was lost)."""


class LogReader:
    def __init__(self, ctx: Context, info: LogInfo, *, matcher: Matcher | None = None,
                 api: LogApi | None = None, sleep: Callable[[float], None] = time.sleep,
                 source: Source = Source.CT) -> None:
        self.ctx = ctx
        self.info = info
        self.api = api or open_api(info, max_batch=ctx.settings.ct.max_batch, sleep=sleep,
                                     settings=ctx.settings)
        self.ingest = Ingest(matcher or matcher_for(ctx), source, actor="ct", engine=ctx.engine)
        self.on_batch: Callable[[], None] | None = None  # after each committed batch (the lease renews)

    # --- position --------------------------------------------------------------------------

    def position(self, s: Session) -> LogPosition:
        pos = s.exec(select(LogPosition).where(LogPosition.log_id == self.info.log_id)).first()
        if pos is None:
            pos = LogPosition(log_id=self.info.log_id, url=self.info.url, description=self.info.description,
                              api=self.info.api, next_index=-1, updated_at=self.ctx.now())
            s.add(pos)
            s.flush()
        return pos

    def _fail(self, s: Session, pos: LogPosition, error: str, *, invalid: bool) -> None:
        now = self.ctx.now()
        pos.last_error = error[:2000]
        pos.state = "failing"
        pos.updated_at = now
        s.add(pos)
        if invalid:
            open_finding(s, FindingKind.CT_LOG_INVALID, self.info.url, text("self.ct_log_invalid", log=self.info.description),
                         severity=Severity.HIGH, detail=error[:2000], now=now, actor="ct",
                         data={"log_id": self.info.log_id, "tree_size": pos.tree_size})
            record(s, "ct", "ct.log_invalid", pos, {"log": self.info.description, "error": error[:500]}, at=now)
        s.commit()

    def verify_head(self, s: Session, pos: LogPosition) -> TreeHead | None:
        """Fetch, verify and store the log's tree head; None when it cannot be trusted or fetched."""
        try:
            head = self.api.head()
            if pos.tree_size and pos.root_hash:
                self.api.check_consistency(pos.tree_size, base64.b64decode(pos.root_hash), head)
        except VerificationError as e:
            self._fail(s, pos, f"verification: {e}", invalid=True)
            return None
        except LogUnavailable as e:
            self._fail(s, pos, f"unavailable: {e}", invalid=False)
            return None
        now = self.ctx.now()
        if head.size > pos.tree_size or pos.last_growth_at is None:
            pos.last_growth_at = now
        if pos.next_index < 0:
            start_at = self.ctx.settings.ct.start_at
            pos.next_index = 0 if start_at == "beginning" else head.size
        if head.size >= pos.tree_size:
            pos.tree_size = head.size
            pos.root_hash = head.root_b64
            pos.sth_timestamp = datetime.fromtimestamp(head.timestamp / 1000, now.tzinfo)
        pos.verified_at = now
        pos.updated_at = now
        pos.state, pos.last_error = "active", ""
        self._mark_lag(pos, now)
        s.add(pos)
        resolve_finding(s, FindingKind.CT_LOG_INVALID, self.info.url, now=now, actor="ct")
        s.commit()
        return head

    def _target(self, pos: LogPosition) -> int:
        """Where the position should be: the verified size, or a read-only log's final size."""
        if self.info.final_size is not None:
            return min(pos.tree_size, self.info.final_size)
        return pos.tree_size

    def _mark_lag(self, pos: LogPosition, now: datetime) -> None:
        if pos.next_index >= self._target(pos):
            pos.behind_since = None
        elif pos.behind_since is None:
            pos.behind_since = now

    # --- the compact range (RFC 6962) --------------------------------------------------------

    def _verifies_entries(self) -> bool:
        return isinstance(self.api, Rfc6962Log)

    def compact_range(self, s: Session, pos: LogPosition, head: TreeHead) -> CompactRange:
        """The compact range of [0, next_index): as stored, or rebuilt from the inclusion proof of
        entry next_index - 1 (a new log started at "now", or a position from before the range)."""
        if pos.range_size == pos.next_index:
            return CompactRange.from_json(pos.range_size, pos.compact_range)
        if pos.next_index == 0:
            rng = CompactRange()
        else:
            assert isinstance(self.api, Rfc6962Log)
            last = pos.next_index - 1
            item = self.api.fetch(last, pos.next_index)[0]
            if not item.leaf_hash:
                raise VerificationError(f"entry {last}: no leaf hash to rebuild the compact range from")
            proof = self.api.leaf_proof(last, head.size, item.leaf_hash)
            rng = CompactRange.from_inclusion_proof(last, head.size, item.leaf_hash, proof, head.root)
        pos.compact_range, pos.range_size = rng.to_json(), rng.size
        s.add(pos)
        s.commit()
        return rng

    def _fetch(self, start: int, end: int, head: TreeHead) -> tuple[list[Entry | EntryError], list[bytes] | None]:
        """One batch, and (RFC 6962) the consistency proof from its end to the head, fetched together in
        the prefetch thread so the extra request overlaps the previous batch's processing."""
        items = self.api.fetch(start, end)
        proof = None
        if isinstance(self.api, Rfc6962Log) and self._verifies_entries() and start + len(items) < head.size:
            proof = self.api.consistency(start + len(items), head.size)
        return items, proof

    def _verify_batch(self, items: list[Entry | EntryError], rng: CompactRange, head: TreeHead,
                      proof: list[bytes] | None = None) -> CompactRange:
        """``rng`` extended by the batch's leaves; raises VerificationError unless the new prefix is the
        signed tree (the same root at the head's size, or a consistency proof up to it)."""
        assert isinstance(self.api, Rfc6962Log)
        out = rng.copy()
        for item in items:
            if not item.leaf_hash:
                raise VerificationError(f"entry {out.size}: no leaf hash")
            out.append(item.leaf_hash)
        root = out.root()
        if out.size == head.size:
            if root != head.root:
                raise VerificationError(f"the entries up to {out.size} do not hash to the signed tree head's root")
        else:
            if proof is None:
                proof = self.api.consistency(out.size, head.size)
            verify_consistency(out.size, head.size, root, head.root, proof)
        return out

    # --- reading ---------------------------------------------------------------------------

    def run(self, *, max_entries: int | None = None, max_batches: int | None = None,
            stop: StopFlag | None = None, progress: Callable[[int, int], None] | None = None) -> RunResult:
        t0 = time.monotonic()
        res = RunResult(self.info.description)
        with Session(self.ctx.engine, expire_on_commit=False) as s:
            pos = self.position(s)
            s.commit()
            head = self.verify_head(s, pos)
            if head is None:
                res.error = pos.last_error
                res.next_index, res.tree_size = pos.next_index, pos.tree_size
                return res
            end = head.size if max_entries is None else min(head.size, pos.next_index + max_entries)
            if self.info.final_size is not None:
                end = min(end, self.info.final_size)  # a read-only log's last tree size is final
            rng: CompactRange | None = None
            if self._verifies_entries() and pos.next_index < end:
                try:
                    rng = self.compact_range(s, pos, head)
                except VerificationError as e:
                    self._fail(s, pos, f"verification: {e}", invalid=True)
                    res.error = pos.last_error
                except LogUnavailable as e:
                    self._fail(s, pos, f"unavailable: {e}", invalid=False)
                    res.error = pos.last_error
                if res.error:
                    res.next_index, res.tree_size = pos.next_index, pos.tree_size
                    return res
            batches = 0
            # The next batch is fetched while this one is parsed and committed (the log's latency
            # overlaps our CPU); a prefetched batch that is never committed is simply dropped.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ct-fetch") as pool:
                nxt = pos.next_index
                fut = pool.submit(self._fetch, nxt, min(end, nxt + self.api.batch), head) if nxt < end else None
                while fut is not None:
                    if (stop is not None and stop.is_set()) or (max_batches is not None and batches >= max_batches):
                        fut.cancel()
                        break
                    try:
                        items, proof = fut.result()
                        following = nxt + len(items)
                        more = following < end and (max_batches is None or batches + 1 < max_batches)
                        fut = pool.submit(self._fetch, following, min(end, following + self.api.batch),
                                          head) if more else None
                        if rng is not None:
                            rng = self._verify_batch(items, rng, head, proof)
                    except LogUnavailable as e:
                        self._fail(s, pos, f"unavailable: {e}", invalid=False)
                        res.error = pos.last_error
                        break
                    except VerificationError as e:
                        self._fail(s, pos, f"verification: {e}", invalid=True)
                        res.error = pos.last_error
                        break
                    self._commit_batch(s, pos, items, res, rng)
                    nxt = following
                    batches += 1
                    if progress is not None:
                        progress(len(items), end)
                if fut is not None:
                    fut.cancel()
            res.next_index, res.tree_size = pos.next_index, pos.tree_size
        res.retries = getattr(getattr(self.api, "client", None), "retries", 0)
        res.seconds = round(time.monotonic() - t0, 3)
        return res

    def _commit_batch(self, s: Session, pos: LogPosition, items: list[Entry | EntryError], res: RunResult,
                      rng: CompactRange | None = None) -> None:
        hits, bad = process(items, self.ingest, self.info)
        now = self.ctx.now()
        try:
            counts = self.ingest.apply(s, hits, now)
        except Exception as exc:
            # One hit the database refuses must not hold the log back: write them one by one. A name
            # another reader (certstream, another log) created in the same instant is the usual cause
            # and no fault: one by one, the second writer adds its source to the first's candidate.
            if isinstance(exc, IntegrityError):
                log.info("%s: a match was written by another reader at the same time; writing the batch one by "
                         "one", self.info.description)
            else:
                log.exception("%s: writing a batch of matches failed; writing them one by one", self.info.description)
            s.rollback()
            counts, refused = self._apply_one_by_one(s, hits, now)
            bad.extend(refused)
        for e in bad:
            self._record_bad(s, pos, e, now)
        # Compare-and-set on the position: a reader that lost its lease (paused past the ttl while
        # another host took the log over) finds the position moved and commits nothing, so no entry
        # is ever read twice, whatever the leases did.
        table = LogPosition.__table__  # type: ignore[attr-defined]
        old = pos.next_index
        moved = s.execute(table.update().where(table.c.id == pos.id, table.c.next_index == old)
                          .values(next_index=old + len(items))).rowcount  # type: ignore[attr-defined]
        if moved != 1:
            s.rollback()
            raise PositionMoved(f"{self.info.description}: another reader moved the position past {old}")
        pos.next_index += len(items)
        pos.entries_processed += len(items) - len(bad)
        pos.entries_failed += len(bad)
        if rng is not None:
            pos.compact_range, pos.range_size = rng.to_json(), rng.size
        self._mark_lag(pos, now)
        pos.updated_at = now
        s.add(pos)
        s.commit()  # the matches, the bad entries and the position move together
        self.ctx.nudge.candidates(counts["created_ids"])
        if self.on_batch is not None:
            self.on_batch()
        res.read += len(items)
        res.failed += len(bad)
        res.matched += counts["matched"]
        res.candidates += counts["candidates"]

    def _apply_one_by_one(self, s: Session, hits: list[Hit], now: datetime) -> tuple[dict[str, Any], list[EntryError]]:
        counts: dict[str, Any] = {"matched": 0, "candidates": 0, "created_ids": []}
        refused: list[EntryError] = []
        for hit in hits:
            try:
                with s.begin_nested():
                    c = self.ingest.apply(s, [hit], now)
            except Exception as e:
                refused.append(_bad(hit.facts.get("index"), e, hit.der))
                continue
            counts["matched"] += c["matched"]
            counts["candidates"] += c["candidates"]
            counts["created_ids"] += c["created_ids"]
        return counts, refused

    def _record_bad(self, s: Session, pos: LogPosition, e: EntryError, now: datetime) -> None:
        evidence = ""
        if e.der:
            try:
                evidence = self.ctx.evidence.put(e.der)
            except OSError as oe:  # a full disk must not stop the log either; the event still says why
                log.error("%s: could not keep entry %s as evidence: %s", self.info.description, e.index, oe)
        record(s, "ct", "ct.entry_failed", pos,
               {"log": self.info.description, "log_id": self.info.log_id, "url": self.info.url,
                "index": e.index, "error": str(e)[:500], "der_sha256": evidence, "der_bytes": len(e.der)}, at=now)
        log.warning("%s: %s", self.info.description, e)

    def backfill(self, start: int, end: int, *, progress: Callable[[int, int], None] | None = None) -> RunResult:
        """Read [start, end) again for a brand added late; the saved position is not touched."""
        res = RunResult(self.info.description)
        with Session(self.ctx.engine, expire_on_commit=False) as s:
            pos = self.position(s)
            s.commit()
            head = self.verify_head(s, pos)
            if head is None:
                res.error = pos.last_error
                return res
            i, end = max(0, start), min(end, head.size)
            while i < end:
                items = self.api.fetch(i, min(end, i + self.api.batch))
                hits, bad = process(items, self.ingest, self.info)
                counts = self.ingest.apply(s, hits, self.ctx.now())
                s.commit()
                i += len(items)
                res.read += len(items)
                res.failed += len(bad)
                res.matched += counts["matched"]
                res.candidates += counts["candidates"]
                if progress is not None:
                    progress(len(items), end)
            res.next_index, res.tree_size = i, head.size
        return res

    def index_at(self, when: datetime) -> int:
        """The first entry logged at or after ``when`` (binary search on entry timestamps)."""
        head = self.api.head()
        target = int(when.timestamp() * 1000)
        lo, hi = 0, head.size
        while lo < hi:
            mid = (lo + hi) // 2
            try:
                ts = self.api.timestamp_at(mid)
            except EntryError:
                ts = self.api.timestamp_at(mid + 1) if mid + 1 < head.size else target
            if ts < target:
                lo = mid + 1
            else:
                hi = mid
        return lo


def check_stale(ctx: Context, s: Session) -> int:
    """A log that has not grown for ``ct.stale_after_minutes`` opens ``ct_log_stale`` (as health does)."""
    now = ctx.now()
    limit = timedelta(minutes=ctx.settings.ct.stale_after_minutes)
    opened = 0
    for pos in s.exec(select(LogPosition).where(LogPosition.state != "retired")):
        last = pos.last_growth_at or pos.updated_at
        if last and now - last > limit:
            open_finding(s, FindingKind.CT_LOG_STALE, pos.url,
                         text("self.ct_log_stale", log=pos.description or pos.url, since=f"{last:%Y-%m-%d %H:%M}"),
                         severity=Severity.MEDIUM, now=now, actor="ct",
                         data={"log_id": pos.log_id})
            opened += 1
        else:
            resolve_finding(s, FindingKind.CT_LOG_STALE, pos.url, now=now, actor="ct")
    s.commit()
    return opened


def read_logs(ctx: Context, logs: list[LogInfo], *, max_entries: int | None = None,
              stop: threading.Event | None = None, sleep: Callable[[float], None] = time.sleep) -> list[RunResult]:
    """One pass over every log, ``ct.parallel_logs`` at a time; one log's failure never stops the others."""
    matcher = matcher_for(ctx)

    holder = lease.holder_id("ct")
    ttl = ctx.settings.ct.lease_seconds

    def one(info: LogInfo) -> RunResult:
        # One reader per log across every host: the lease ``ct:<log id>``, renewed after each batch,
        # released at the end of the pass; a reader that dies leaves it to expire after ``ttl``.
        name = f"ct:{info.log_id}"
        if lease.acquire(ctx.engine, name, holder, ttl=ttl, now=ctx.now()) is None:
            other = lease.current(ctx.engine, name, now=ctx.now())
            return RunResult(info.description, extra={"skipped": f"read by {other.holder if other else 'another host'}"})
        lost = threading.Event()

        def renew() -> None:
            if lease.renew(ctx.engine, name, holder, ttl=ttl, now=ctx.now()) is None:
                lost.set()  # taken over: stop at this batch boundary

        try:
            reader = LogReader(ctx, info, matcher=matcher, sleep=sleep)
            reader.on_batch = renew
            return reader.run(max_entries=max_entries, stop=Either(stop, lost))
        except PositionMoved as e:
            log.warning("%s", e)
            return RunResult(info.description, error=str(e))
        except Exception as e:  # a bug or a surprise in one log is data, not the end of the pass
            log.exception("reading %s failed", info.description)
            return RunResult(info.description, error=f"{type(e).__name__}: {e}")
        finally:
            lease.release(ctx.engine, name, holder)

    with ThreadPoolExecutor(max_workers=max(1, ctx.settings.ct.parallel_logs)) as pool:
        return list(pool.map(one, logs))


class Either:
    """Set when either of two events is (the job's stop, or this log's lease lost)."""

    def __init__(self, a: StopFlag | None, b: StopFlag) -> None:
        self.a, self.b = a, b

    def is_set(self) -> bool:
        return self.b.is_set() or (self.a is not None and self.a.is_set())
