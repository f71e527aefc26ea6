"""Reports from people (the third discovery source): the abuse mailbox, .eml folders, feeds, ``omamori add``.

Many phishing sites sit on shared hosting or random domains that neither CT matching nor permutations
can see; customers and partners report them (guideline IV.7(2)⑤). Every report is kept whole as a
``Report`` row (deduplicated by the sha256 of its raw bytes, the raw message in the evidence store),
and each URL in it goes through ``discover`` with the report as source and reason, the full URL kept
in ``Candidate.urls`` for capture. The firm's own URLs are ignored. Shortener URLs (bit.ly...) are
followed through the egress proxy (``crawl.proxy``) and the target becomes the candidate, the chain
kept in the report; without a proxy they are recorded, not followed (the shortener itself is not the
phishing site). Redirector and Google Translate proxy URLs become candidates of the host they carry.
A malformed message is recorded with ``Report.error`` and never stops the batch.
"""

from __future__ import annotations

import csv
import hashlib
import imaplib
import io
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from sqlmodel import Session, select

from watcher.clients import imap
from watcher.context import Context
from watcher.core.events import record
from watcher.core.inputs import decode, read_file
from watcher.core.models import Report, Source
from watcher.core.reasons import Reason
from watcher.core.texts import text as say
from watcher.discovery.discover import Outcome, OwnedIndex, Sighting, discover
from watcher.discovery.mailparse import SHORTENERS, FoundUrl, classify_url, parse_message, refang

log = logging.getLogger("omamori.intake")

POINTS_REPORT = 20  # a person saw it and took the trouble: worth a look
POINTS_FEED = 15


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def guess_brand(ctx: Context, *texts: str) -> str | None:
    """The brand whose keyword or name appears in the report, if any (the first brand wins)."""
    blob = " ".join(texts).lower()
    for b in ctx.brands:
        words = [*b.keywords, b.name, b.name_ja, *b.official_domains]
        if any(w and w.lower() in blob for w in words):
            return b.slug
    return None


def _existing(session: Session, fp: str) -> Report | None:
    return session.exec(select(Report).where(Report.fingerprint == fp)).first()


def _feed_url(ctx: Context, session: Session, found: FoundUrl, owned: OwnedIndex, *, source: Source,
              reason: Reason, brand: str | None, facts: dict[str, Any], actor: str) -> tuple[Outcome, dict[str, Any]]:
    """One URL of a report -> discover (or a recorded reason why not)."""
    entry = found.as_dict()
    owner = owned.owner_of(found.host)
    if owner:
        entry["ignored"] = f"ours ({owner})"
        return Outcome(None, skipped=entry["ignored"]), entry
    if found.kind == "shortener":
        target, chain, error = expand_shortener(ctx, found.url)
        entry["chain"] = chain
        inner = classify_url(target, found.where) if target else None
        if inner is None or inner.kind == "shortener":
            entry["ignored"] = ("shortener: not followed (" + (error or "no egress proxy configured") + ")")
            return Outcome(None, skipped=entry["ignored"]), entry
        entry.update(host=inner.host, target=inner.target)
        owner = owned.owner_of(inner.host)
        if owner:
            entry["ignored"] = f"ours ({owner}), behind a shortener"
            return Outcome(None, skipped=entry["ignored"]), entry
        found = FoundUrl(url=found.url, host=inner.host, kind="shortener", target=inner.target, where=found.where)
    f = dict(facts)
    if found.kind != "url":
        f["via"] = {"kind": found.kind, "url": found.url}
    out = discover(session, Sighting(found.target, source, brand=brand, reasons=[reason], facts=f),
                   owned, now=ctx.now(), actor=actor)
    if out.candidate is not None:
        entry["candidate_id"] = out.candidate.id
        entry["created"] = out.created
    else:
        entry["ignored"] = out.skipped
    return out, entry


MAX_HOPS = 5


def expand_shortener(ctx: Context, url: str) -> tuple[str, list[str], str]:
    """Follow a shortener's redirects (no page body read) through the egress proxy: (target, chain, error).

    Only with ``crawl.proxy`` set: the request must leave from the network the crawler uses, never
    from the firm's own address. A shortener that does not redirect, or a failure, gives "".
    """
    if not ctx.settings.crawl.proxy:
        return "", [url], ""
    chain = [url]
    current = url
    try:
        with ctx.http(follow_redirects=False, timeout=10.0) as client:
            for _hop in range(MAX_HOPS):
                with client.stream("GET", current) as r:
                    location = r.headers.get("location")
                    if r.status_code not in (301, 302, 303, 307, 308) or not location:
                        break
                current = urljoin(current, location)
                chain.append(current)
                host = urlsplit(current).hostname or ""
                if host not in SHORTENERS:
                    return current, chain, ""
    except Exception as e:  # httpx errors, refused proxy, bad URL: the report keeps the shortener
        return "", chain, f"{type(e).__name__}: {e}"[:200]
    return (current if current != url else ""), chain, ("no redirect" if current == url else "")


# ---------------------------------------------------------------- one URL (CLI, dashboard)


def submit_url(ctx: Context, session: Session, url: str, *, reporter: str, note: str = "", channel: str = "cli",
               brand: str | None = None) -> Outcome:
    """One URL reported by a person: a Report row (deduplicated) and a candidate via ``discover``.

    The same URL from the same reporter twice is one report; the caller commits the session.
    """
    text = url.strip()[:4000]
    fp = fingerprint(f"{channel}\n{reporter}\n{text}".encode())
    found = classify_url(refang(text), "submitted")  # people paste defanged URLs too
    report = _existing(session, fp)
    duplicate = report is not None
    if report is None:
        report = Report(channel=channel, fingerprint=fp, reporter=reporter[:300], subject=note[:500],
                        received_at=ctx.now(), urls=[])
        session.add(report)
        session.flush()
    if found is None:
        report.error = f"not a URL or host name: {text[:200]!r}"
        session.add(report)
        return Outcome(None, skipped=report.error)
    owned = OwnedIndex.from_brands(ctx.brands, session)
    said = (say("discovery.reported_note", reporter=reporter, note=note, channel=channel) if note
            else say("discovery.reported", reporter=reporter, channel=channel))
    out, entry = _feed_url(ctx, session, found, owned, source=Source.REPORT,
                           reason=Reason.said("report", said, POINTS_REPORT, "report"),
                           brand=brand or guess_brand(ctx, text, note),
                           facts={"reporter": reporter, "report_id": report.id, "channel": channel},
                           actor=f"{channel}:{reporter}")
    if not duplicate:
        report.urls = [entry]
        session.add(report)
        record(session, f"{channel}:{reporter}", "report.received", report,
               {"channel": channel, "url": text, "candidate": entry.get("candidate_id")}, at=ctx.now())
    return out


# ---------------------------------------------------------------- mail


@dataclass
class MailResult:
    report: Report | None
    duplicate: bool = False
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(1 for o in self.outcomes if o.created)


def ingest_mail(ctx: Context, session: Session, data: bytes, *, channel: str = "eml", name: str = "") -> MailResult:
    """One raw message (a forwarded phishing mail) -> Report + candidates. Never raises for bad mail."""
    fp = fingerprint(data)
    old = _existing(session, fp)
    if old is not None:
        return MailResult(old, duplicate=True)
    parsed = parse_message(data)
    try:
        raw_sha = ctx.evidence.put(data)
    except OSError as e:
        raw_sha = ""
        parsed.errors.append(f"raw message not stored: {e}")
    report = Report(channel=channel, fingerprint=fp, reporter=parsed.sender[:300], subject=parsed.subject[:500],
                    received_at=ctx.now(), raw_sha256=raw_sha, urls=[])
    if not parsed.urls and not parsed.errors:
        parsed.errors.append("no URL found in the message")
    report.error = "; ".join(parsed.errors)[:2000]
    session.add(report)
    session.flush()
    owned = OwnedIndex.from_brands(ctx.brands, session)
    who = parsed.sender or say("discovery.unknown_sender")
    reason = Reason.said("report", say("discovery.reported_mail_subject", who=who, subject=parsed.subject)
                         if parsed.subject else say("discovery.reported_mail", who=who), POINTS_REPORT, "report")
    brand = guess_brand(ctx, parsed.subject, *parsed.texts)
    result = MailResult(report)
    entries: list[dict[str, Any]] = []
    cap = ctx.settings.imap.max_urls_per_mail
    checked, kept = parsed.urls[:cap], parsed.urls[cap:]
    if kept:
        # Recorded, not queued: the report keeps every URL (and the raw mail is evidence), but one
        # mail cannot queue hundreds of crawls.
        note = (f"of the {len(parsed.urls)} URLs read, the first {cap} are checked and "
                f"{len(kept)} kept in the report only (imap.max_urls_per_mail)")
        report.error = "; ".join(filter(None, [report.error, note]))[:2000]
        entries.extend({**f.as_dict(), "ignored": "over the per-mail cap (imap.max_urls_per_mail)"} for f in kept)
    for found in checked:
        out, entry = _feed_url(ctx, session, found, owned, source=Source.REPORT, reason=reason, brand=brand,
                               facts={"reporter": who, "report_id": report.id, "channel": channel},
                               actor=f"{channel}:{name or 'mail'}")
        result.outcomes.append(out)
        entries.insert(len(result.outcomes) - 1, entry)
    report.urls = entries
    session.add(report)
    record(session, f"{channel}:{name or 'mail'}", "report.received", report,
           {"channel": channel, "subject": parsed.subject, "urls": len(entries), "error": report.error,
            "file": name}, at=ctx.now())
    return result


def _tally(summary: dict[str, Any], res: MailResult) -> None:
    """Count one ingested message into a mailbox/folder run's summary."""
    if res.duplicate:
        summary["duplicates"] += 1
    else:
        summary["reports"] += 1
        summary["candidates_created"] += res.created
        summary["errors"] += int(bool(res.report and res.report.error))


def read_eml_dir(ctx: Context, folder: Path, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Every ``*.eml`` in ``folder`` (already-seen ones are skipped by fingerprint)."""
    files = sorted(p for p in folder.glob("*.eml") if p.is_file())
    summary = {"files": len(files), "reports": 0, "duplicates": 0, "candidates_created": 0, "errors": 0}
    for i, path in enumerate(files, 1):
        try:
            data = path.read_bytes()
        except OSError as e:
            summary["errors"] += 1
            log.warning("cannot read %s: %s", path, e)
            continue
        with Session(ctx.engine, expire_on_commit=False) as s:
            res = ingest_mail(ctx, s, data, channel="eml", name=path.name)
            s.commit()
        if res.created:
            ctx.nudge.due()  # a reported site is checked now, not at the next snapshot run
        _tally(summary, res)
        if progress:
            progress(i, len(files))
    return summary


def read_imap(ctx: Context, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Unseen messages of the abuse mailbox (``[imap]``); each is marked \\Seen once recorded."""
    conf = ctx.settings.imap
    summary = {"messages": 0, "reports": 0, "duplicates": 0, "candidates_created": 0, "errors": 0}
    with imap.connect(conf, ctx.run) as client:
        client.login(conf.username, conf.password.get_secret_value())
        typ, _ = client.select(_quote_mailbox(conf.reports_folder))
        if typ != "OK":
            raise RuntimeError(f"IMAP folder {conf.reports_folder!r} cannot be selected")
        typ, data = client.uid("SEARCH", "UNSEEN")
        uids = data[0].split() if typ == "OK" and data and data[0] else []
        summary["messages"] = len(uids)
        for i, uid in enumerate(uids, 1):
            ctx.run.check()  # every message is committed and marked seen before the next one starts
            typ, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts or [] if isinstance(p, tuple) and len(p) > 1), None)
            if typ != "OK" or not isinstance(raw, bytes):
                summary["errors"] += 1
                continue
            with Session(ctx.engine, expire_on_commit=False) as s:
                res = ingest_mail(ctx, s, raw, channel="imap", name=f"uid {uid.decode()}")
                s.commit()
            if res.created:
                ctx.nudge.due()
            client.uid("STORE", uid, "+FLAGS", "(\\Seen)")  # only after the report is committed
            _tally(summary, res)
            if progress:
                progress(i, len(uids))
    return summary


def _quote_mailbox(name: str) -> str:
    return name if name.replace("/", "").replace(".", "").isalnum() else '"' + name.replace('"', '\\"') + '"'


# ---------------------------------------------------------------- feeds

URL_COLUMNS = ("url", "phish_url", "link", "uri")
DATE_COLUMNS = ("date", "submission_time", "date_added", "first_seen", "firstseen", "reported_at", "timestamp")
DESC_COLUMNS = ("description", "target", "brand", "comment", "note", "title")


MAX_ROW_CHARS = 131_072  # Python's csv field limit; a longer row is refused on its own
MAX_ROW_LINES = 20  # a quoted field may span lines, but no more than this (an unclosed quote)


def _bad_row(line: int, why: str) -> dict[str, str]:
    return {"url": "", "date": "", "description": "", "error": f"line {line}: {why}", "line": str(line)}


def feed_rows(text: str) -> Iterator[dict[str, str]]:
    """Rows of a phishing URL list: JSON lines, CSV with a header (JPCERT/CC's ``date,URL,description``,
    PhishTank's ``phish_id,url,...,target``), or one URL per line. Keys: url, date, description, line
    (its first line in the file), and ``error`` for a row that cannot be read.

    Every row is read on its own: a row over ``MAX_ROW_CHARS`` characters or a quote left open is that
    row's error (the lines after an unclosed quote are read as rows of their own), never the end of
    the file."""
    stripped = text.lstrip("\ufeff")
    lines = stripped.splitlines()
    first_at = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first_at is None:
        return
    if lines[first_at].lstrip().startswith("{"):
        for n, line in enumerate(lines, 1):
            line = line.strip()
            if not line:
                continue
            if len(line) > MAX_ROW_CHARS:
                yield _bad_row(n, f"longer than {MAX_ROW_CHARS:,} characters")
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                yield _bad_row(n, f"not JSON: {line[:80]}")
                continue
            if isinstance(obj, dict):
                yield {**_pick(obj), "line": str(n)}
            else:
                yield _bad_row(n, f"a JSON {type(obj).__name__}, not an object")
        return
    first = lines[first_at]
    header = [h.strip().lower() for h in next(csv.reader([first[:MAX_ROW_CHARS]]), [])]
    if any(h in URL_COLUMNS for h in header):
        yield from _csv_rows(lines, first_at, header)
        return
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_ROW_CHARS:
            yield _bad_row(n, f"longer than {MAX_ROW_CHARS:,} characters")
            continue
        yield {"url": line.split()[0], "date": "", "description": "", "line": str(n)}


def _csv_rows(lines: list[str], header_at: int, header: list[str]) -> Iterator[dict[str, str]]:
    i = header_at + 1
    while i < len(lines):
        n = i + 1  # 1-based line number of the row's first line
        if not lines[i].strip():
            i += 1
            continue
        if len(lines[i]) > MAX_ROW_CHARS:
            yield _bad_row(n, f"longer than {MAX_ROW_CHARS:,} characters")
            i += 1
            continue
        fields, used = _one_csv_row(lines, i)
        if fields is None:
            # A quote opened here is never closed (within MAX_ROW_LINES lines or the row cap): this line
            # is the bad row, and the lines after it are read again as rows of their own.
            yield _bad_row(n, "a quote opened on this line is not closed")
            i += 1
            continue
        i += used
        row = dict(zip(header, fields, strict=False))
        yield {**_pick({(k or "").strip().lower(): (v or "") for k, v in row.items()}), "line": str(n)}


def _one_csv_row(lines: list[str], at: int) -> tuple[list[str] | None, int]:
    """The CSV row starting at ``lines[at]`` and how many lines it took; None when its quotes do not
    close within MAX_ROW_LINES lines and MAX_ROW_CHARS characters."""
    chunk = ""
    for used in range(1, MAX_ROW_LINES + 1):
        if at + used > len(lines):
            break
        chunk = lines[at] if used == 1 else chunk + "\n" + lines[at + used - 1]
        if len(chunk) > MAX_ROW_CHARS:
            break
        try:
            rows = list(csv.reader(io.StringIO(chunk), strict=True))
        except csv.Error:
            continue  # "unexpected end of data": the quote is still open, take the next line
        if len(rows) == 1:
            return rows[0], used
        if rows:
            return None, 1
    return None, 1


def _pick(row: dict[str, Any]) -> dict[str, str]:
    low = {str(k).lower(): v for k, v in row.items()}

    def first(cols: Iterable[str]) -> str:
        return next((str(low[c]) for c in cols if low.get(c)), "")

    return {"url": first(URL_COLUMNS).strip(), "date": first(DATE_COLUMNS).strip(),
            "description": first(DESC_COLUMNS).strip()}


MAX_FEED_BYTES = 256 * 1024 * 1024
MAX_PROBLEMS_SHOWN = 20


def import_feed(ctx: Context, path: Path, *, all_rows: bool = False, name: str = "",
                progress: Callable[[int, int], None] | None = None, max_bytes: int = MAX_FEED_BYTES) -> dict[str, Any]:
    """Import a phishing URL list. By default only rows that name one of our brands (in the URL or the
    description) become candidates: a national feed is mostly about other firms. A row that cannot be
    read is counted and listed in the summary's ``problems`` (and the feed.imported Event), whatever
    brand it might have named; the other rows are imported. Raises ``InputRefused`` for a file that
    is too large or not text."""
    text, encoding = decode(read_file(str(path), limit=max_bytes), str(path))
    rows = list(feed_rows(text))
    feed = name or path.name
    summary: dict[str, Any] = {"rows": len(rows), "matched": 0, "reports": 0, "duplicates": 0,
                               "candidates_created": 0, "skipped_other_brands": 0, "errors": 0,
                               "bad_rows": 0, "encoding": encoding, "problems": []}

    def problem(message: str) -> None:
        summary["errors"] += 1
        if len(summary["problems"]) < MAX_PROBLEMS_SHOWN:
            summary["problems"].append(message[:300])

    with Session(ctx.engine, expire_on_commit=False) as s:
        owned = OwnedIndex.from_brands(ctx.brands, s)
        for i, row in enumerate(rows, 1):
            if progress and (i % 50 == 0 or i == len(rows)):
                progress(i, len(rows))
            where = f"line {row.get('line') or i}"
            if row.get("error"):
                summary["bad_rows"] += 1
                problem(row["error"])
                continue
            url = row["url"]
            brand = guess_brand(ctx, url, row["description"])
            if brand is None and not all_rows:
                summary["skipped_other_brands"] += 1
                continue
            summary["matched"] += 1
            fp = fingerprint(f"feed\n{url}\n{row['date']}".encode())
            if _existing(s, fp) is not None:
                summary["duplicates"] += 1
                continue
            report = Report(channel="feed", fingerprint=fp, reporter=feed[:300], subject=row["description"][:500],
                            received_at=ctx.now(), urls=[])
            try:
                found = classify_url(url, "feed") if url else None
            except Exception as e:  # a hostile URL: this row only
                found = None
                report.error = f"{where}: {type(e).__name__}: {e}"[:2000]
            if found is None:
                report.error = report.error or f"{where}: no usable URL ({url[:100]!r})"
                problem(report.error)
                s.add(report)
                continue
            s.add(report)
            s.flush()
            said = say("discovery.feed_listed", feed=feed, date=f" ({row['date']})" if row["date"] else "",
                        description=f": {str(row['description'])[:200]}" if row["description"] else "")
            try:
                with s.begin_nested():
                    out, entry = _feed_url(ctx, s, found, owned, source=Source.FEED,
                                           reason=Reason.said("feed", said, POINTS_FEED, "feed"), brand=brand,
                                           facts={"feed": feed, "feed_date": row["date"], "report_id": report.id},
                                           actor=f"feed:{feed}")
            except Exception as e:  # InvalidName, or anything one row provokes: that row only
                report.error = f"{where}: {e}"[:2000]
                problem(report.error)
                continue
            report.urls = [entry]
            summary["reports"] += 1
            summary["candidates_created"] += int(out.created)
        record(s, f"feed:{feed}", "feed.imported", ("feed", None), {"feed": feed, **summary}, at=ctx.now())
        s.commit()
    if summary["candidates_created"]:
        ctx.nudge.due()
    return summary


# ---------------------------------------------------------------- the job


def poll(ctx: Context) -> dict[str, Any]:
    """The ``intake`` job: the abuse mailbox (if configured) and the .eml folder (if configured)."""
    conf = ctx.settings.imap
    summary: dict[str, Any] = {}
    failure = ""
    if conf.eml_dir:
        folder = ctx.settings.path(conf.eml_dir)
        if folder.is_dir():
            summary["eml"] = read_eml_dir(ctx, folder)
        else:
            summary["eml"] = {"error": f"{folder} is not a folder"}
    if conf.host:
        try:
            summary["imap"] = read_imap(ctx)
        except (imaplib.IMAP4.error, OSError, RuntimeError) as e:
            failure = f"IMAP {conf.host}:{conf.port}: {type(e).__name__}: {e}"
            summary["imap"] = {"error": failure}
    if failure:
        # The whole mailbox is unreachable: a job failure, so health opens a Finding after a few.
        raise RuntimeError(failure)
    return summary
