"""Phishing URL feeds pulled on a schedule (the ``feeds`` job): the half of phishing that names no brand
in its hostname is found by the people and services that saw it.

Each ``[[feeds]]`` entry of the config is fetched through the egress proxy (``crawl.proxy``) with
``If-None-Match`` / ``If-Modified-Since`` from the last answer (kept in ``FeedState``), at most
``max_bytes`` read. Its rows are read by the intake's row reader (``intake.feed_rows``, after each
publisher's file is put into the shape it reads) and each row becomes a candidate when it names one of
our brands (the description, the URL), when its host matches a brand, or when the brand is in its
path; ``all_rows`` takes every row (a private feed about us). Rows already seen are recognised by the
same fingerprint ``omamori intake feed`` uses. A feed that brings nothing new for
``silent_after_hours`` — no answer, or the same content — opens a ``feed_silent`` Finding, resolved by
the next new content.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlmodel import Session, select

from watcher.clients.http import make_client
from watcher.context import Context
from watcher.core.config import FeedSettings
from watcher.core.events import record
from watcher.core.findings import open_finding, resolve_finding
from watcher.core.models import FeedState, FindingKind, Report, Severity, Source
from watcher.core.names import InvalidName
from watcher.core.reasons import Reason
from watcher.core.texts import text
from watcher.discovery import intake
from watcher.discovery.ct.matcher import matcher_for
from watcher.discovery.discover import OwnedIndex, Sighting, discover
from watcher.discovery.mailparse import classify_url

log = logging.getLogger("omamori.feeds")

MAX_ROWS = 200_000  # rows read from one pull; the rest waits for the next (the file is kept whole)


class FeedTooLarge(ValueError):
    pass


@dataclass
class Pulled:
    status: int  # 200, 304, or 0 (no answer)
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""
    error: str = ""


# ---------------------------------------------------------------- fetching


def fetch(ctx: Context, feed: FeedSettings, state: FeedState) -> Pulled:
    """One conditional GET through the egress proxy, the body capped at ``feed.max_bytes``."""
    headers = {}
    if state.url == feed.url:  # validators belong to the URL they came from
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
    try:
        with make_client(ctx.settings, timeout=feed.timeout) as client, \
                client.stream("GET", feed.url, headers=headers) as r:
            if r.status_code == 304:
                return Pulled(304, etag=r.headers.get("ETag", state.etag),
                              last_modified=r.headers.get("Last-Modified", state.last_modified))
            if r.status_code != 200:
                return Pulled(0, error=f"HTTP {r.status_code} from {feed.url}")
            declared = int(r.headers.get("Content-Length") or 0)
            if declared > feed.max_bytes:
                raise FeedTooLarge(f"{feed.name}: {declared:,} bytes announced, over max_bytes {feed.max_bytes:,}")
            chunks, size = [], 0
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > feed.max_bytes:
                    raise FeedTooLarge(f"{feed.name}: more than max_bytes {feed.max_bytes:,} bytes; raise "
                                       f"[[feeds]] max_bytes if the feed really is that large")
                chunks.append(chunk)
            return Pulled(200, b"".join(chunks), r.headers.get("ETag", ""), r.headers.get("Last-Modified", ""))
    except FeedTooLarge as e:
        return Pulled(0, error=str(e))
    except (httpx.HTTPError, OSError, ValueError) as e:
        return Pulled(0, error=f"{feed.name}: {type(e).__name__}: {e}"[:500])


# ---------------------------------------------------------------- each publisher's file -> rows


def _dig(obj: Any, path: str) -> Any:
    for key in filter(None, path.split(".")):
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def _as_json_lines(records: Any, feed: FeedSettings, fields: tuple[str, str, str]) -> str:
    if not isinstance(records, list):
        raise ValueError(f"{feed.name}: no list of records at {feed.records or 'the top level'!r}")
    url_f, date_f, desc_f = fields
    lines = []
    for rec in records[:MAX_ROWS]:
        if isinstance(rec, dict):
            lines.append(json.dumps({"url": str(rec.get(url_f) or ""), "date": str(rec.get(date_f) or ""),
                                     "description": str(rec.get(desc_f) or "")}, ensure_ascii=False))
        else:
            lines.append(json.dumps({"url": "", "error": f"a record that is not an object: {str(rec)[:60]}"}))
    return "\n".join(lines)


def _renamed_csv(data: str, feed: FeedSettings) -> str:
    """A CSV with its own column names, its header renamed to the ones the row reader knows."""
    lines = data.splitlines()
    if not lines:
        return ""
    header = next(csv.reader([lines[0]]), [])
    names = {feed.url_field.lower(): "url", feed.date_field.lower(): "date",
             feed.description_field.lower(): "description"}
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([names.get(h.strip().lower(), h) for h in header])
    return out.getvalue() + "\n".join(lines[1:])


def _urlhaus(data: str) -> str:
    """URLhaus: comment lines, the header itself commented (``# id,dateadded,url,...``)."""
    out, header = [], ""
    for line in data.splitlines():
        if line.startswith("#"):
            body = line.lstrip("#").strip()
            if body.startswith("id,") and ",url," in body:
                header = body
            continue
        out.append(line)
    return (header.replace("dateadded", "date_added").replace(",tags,", ",description,") + "\n" if header else "") \
        + "\n".join(out)


def rows(feed: FeedSettings, data: bytes) -> list[dict[str, str]]:
    """The rows of one pulled file (``intake.feed_rows`` reads them; this only puts each publisher's
    file in the shape it reads)."""
    textual = data.decode("utf-8", "replace").lstrip("\ufeff")
    fmt = feed.format
    if fmt == "phishtank" and textual.lstrip().startswith("["):
        textual = _as_json_lines(json.loads(textual), feed, ("url", "submission_time", "target"))
    elif fmt == "json":
        textual = _as_json_lines(_dig(json.loads(textual), feed.records), feed,
                                 (feed.url_field or "url", feed.date_field or "date",
                                  feed.description_field or "description"))
    elif fmt == "csv" and feed.url_field:
        textual = _renamed_csv(textual, feed)
    elif fmt == "urlhaus":
        textual = _urlhaus(textual)
    out = []
    for i, row in enumerate(intake.feed_rows(textual)):
        if i >= MAX_ROWS:
            break
        out.append(row)
    return out


# ---------------------------------------------------------------- rows -> candidates


def _brand(ctx: Context, url: str, host: str, description: str) -> tuple[str | None, list[Reason]]:
    """The brand a row is about, and why: the feed names it, or its host matches it."""
    named = intake.guess_brand(ctx, description) if description else None
    if named:
        return named, []
    m = matcher_for(ctx).match(host)
    if m is not None and not m.owned:
        return m.brand, list(m.reasons)
    return intake.guess_brand(ctx, url), []


def ingest(ctx: Context, feed: FeedSettings, found_rows: list[dict[str, str]]) -> dict[str, Any]:
    """Every row that is about one of our brands becomes (or refreshes) a candidate, once."""
    summary = {"rows": len(found_rows), "about_us": 0, "new_rows": 0, "candidates_created": 0,
               "other_brands": 0, "errors": 0}
    actor = f"feed:{feed.name}"
    with Session(ctx.engine, expire_on_commit=False) as s:
        owned = OwnedIndex.from_brands(ctx.brands, s)
        for row in found_rows:
            url, date, desc = row.get("url", ""), row.get("date", ""), row.get("description", "")
            found = classify_url(url, "feed") if url else None
            if found is None:
                summary["errors"] += 1
                continue
            brand, match_reasons = _brand(ctx, url, found.host, desc)
            path_named = brand is None and owned.brands and _path_brand(url, owned)
            if brand is None and not path_named and not feed.all_rows:
                summary["other_brands"] += 1
                continue
            summary["about_us"] += 1
            fp = intake.fingerprint(f"feed\n{url}\n{date}".encode())
            if s.exec(select(Report.id).where(Report.fingerprint == fp)).first() is not None:
                continue
            summary["new_rows"] += 1
            report = Report(channel="feed", fingerprint=fp, reporter=feed.name, subject=desc[:500],
                            received_at=ctx.now(), urls=[])
            s.add(report)
            s.flush()
            reasons = [Reason.said("feed", text("discovery.feed_row", feed=feed.name, date=date or "-"),
                                   intake.POINTS_FEED, "feed")]
            if desc and brand and intake.guess_brand(ctx, desc) == brand:
                reasons.append(Reason.said("feed_brand", text("discovery.feed_brand", feed=feed.name, said=desc[:80]),
                                           10, "feed"))
            facts = {"feed": feed.name, "feed_date": date, "report_id": report.id}
            try:
                out, entry = intake._feed_url(ctx, s, found, owned, source=Source.FEED, reason=reasons[0],
                                              brand=brand, facts=facts, actor=actor)
            except InvalidName as e:
                report.error = str(e)[:500]
                summary["errors"] += 1
                continue
            more = reasons[1:] + match_reasons
            if out.candidate is not None and more:
                discover(s, Sighting(found.target, Source.FEED, brand=brand, reasons=more, facts=facts), owned,
                         now=ctx.now(), actor=actor)
            report.urls = [entry]
            summary["candidates_created"] += int(out.created)
        record(s, actor, "feed.pulled", ("feed", None), {"feed": feed.name, **summary}, at=ctx.now())
        s.commit()
    return summary


def _path_brand(url: str, owned: OwnedIndex) -> bool:
    from watcher.discovery.urlpath import brand_in_path

    return brand_in_path(url, owned.brands) is not None


# ---------------------------------------------------------------- the job


def _state(s: Session, feed: FeedSettings, now: datetime) -> FeedState:
    st = s.exec(select(FeedState).where(FeedState.name == feed.name)).first()
    if st is None:
        st = FeedState(name=feed.name, url=feed.url, created_at=now)
        s.add(st)
        s.flush()
    return st


def pull(ctx: Context, feed: FeedSettings) -> dict[str, Any]:
    """Pull one feed now: fetch, read its rows if it changed, remember the validators, watch silence."""
    now = ctx.now()
    with Session(ctx.engine, expire_on_commit=False) as s:
        st = _state(s, feed, now)
        s.commit()
    got = fetch(ctx, feed, st)
    result: dict[str, Any] = {"status": got.status}
    changed = False
    if got.status == 200:
        sha = hashlib.sha256(got.body).hexdigest()
        changed = sha != st.body_sha256 or st.url != feed.url
        if changed:
            try:
                found = rows(feed, got.body)
            except ValueError as e:  # unreadable JSON, no list where the config says: that feed's error
                got = Pulled(0, error=f"{feed.name}: {e}"[:500])
                changed = False
            else:
                result.update(ingest(ctx, feed, found))
                st.body_sha256 = sha
    with Session(ctx.engine, expire_on_commit=False) as s:
        row = s.get(FeedState, st.id)
        assert row is not None
        row.url, row.last_fetch_at, row.last_status = feed.url, now, got.status
        if got.status in (200, 304):
            row.last_ok_at, row.last_error = now, ""
            row.etag, row.last_modified = got.etag, got.last_modified
            if got.status == 200:
                row.body_sha256 = st.body_sha256
        else:
            row.last_error = got.error
            result["error"] = got.error
        if changed:
            row.last_change_at = now
            row.rows_total += int(result.get("rows", 0))
        _watch_silence(s, feed, row, now)
        s.add(row)
        s.commit()
    return result


def _watch_silence(s: Session, feed: FeedSettings, st: FeedState, now: datetime) -> None:
    """Nothing new for ``silent_after_hours`` (no answer, or the same content) opens feed_silent."""
    subject = f"feed:{feed.name}"
    since = st.last_change_at or st.created_at
    if now - since < timedelta(hours=feed.silent_after_hours):
        resolve_finding(s, FindingKind.FEED_SILENT, subject, now=now, actor="feeds")
        return
    title = (text("self.feed_silent_since", feed=feed.name, since=f"{st.last_change_at:%Y-%m-%d %H:%M}")
             if st.last_change_at else text("self.feed_silent_start", feed=feed.name))
    open_finding(s, FindingKind.FEED_SILENT, subject, title, severity=Severity.MEDIUM, now=now, actor="feeds",
                 detail=st.last_error or f"no new content for {feed.silent_after_hours:g} hours",
                 data={"feed": feed.name, "url": feed.url, "last_status": st.last_status})


def run(ctx: Context) -> dict[str, Any]:
    """The ``feeds`` job: every enabled feed, one after the other; one broken feed never stops the rest."""
    out: dict[str, Any] = {}
    for feed in ctx.settings.feeds:
        if not feed.enabled:
            continue
        try:
            out[feed.name] = pull(ctx, feed)
        except Exception as e:  # a feed is data: its failure is recorded, the others still run
            log.exception("feed %s failed", feed.name)
            out[feed.name] = {"error": f"{type(e).__name__}: {e}"[:300]}
    return out
