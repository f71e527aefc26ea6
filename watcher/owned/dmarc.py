"""DMARC aggregate reports (RFC 7489 appendix C; DMARCbis namespace too): read safely, stored, summarised.

Guideline IV.4(1) asks the firm to move to ``p=reject`` *after reviewing DMARC reports*; these reports
show who sends mail as the brand and fails alignment (phishing, or a forgotten legitimate sender).

Reports arrive as mail from anyone on the internet, so every byte is hostile until parsed:
- XML is parsed with defusedxml with DTDs forbidden (no entity expansion: "billion laughs", XXE);
- compressed reports (zip, gzip) are decompressed in chunks with a cap on the decompressed size and on
  the compression ratio (zip bombs), at most a few members per zip, and input files are size-capped;
- a report for a domain that is not ours is refused (the rua mailbox is easy to spam).
Refused inputs are counted and logged as Events with the reason; they never stop the job.

Why not parsedmarc: it brings a large dependency tree (Elasticsearch, OpenSearch, Kafka, Splunk and
Graph clients) for what is here ~150 lines, and it decompresses and parses whole payloads without the
size and ratio caps above; the report layout (RFC 7489 appendix C) is small and stable.
"""

from __future__ import annotations

import email
import email.policy
import gzip
import hashlib
import imaplib
import io
import logging
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException
from sqlmodel import Session, col, select

from watcher.clients import imap as imap_client
from watcher.context import Context
from watcher.core.events import record
from watcher.core.models import DmarcReport
from watcher.core.names import is_within

log = logging.getLogger("omamori.dmarc")

MAX_INPUT_BYTES = 10 * 1024 * 1024  # one file or message as received
MAX_XML_BYTES = 20 * 1024 * 1024  # one report, decompressed (the largest real ones are a few MB)
MAX_RATIO = 100  # decompressed / compressed; real reports compress 10-30x, bombs 1000x+
RATIO_FLOOR = 1024 * 1024  # small files may compress extremely well; judge the ratio above this size
MAX_MEMBERS = 5
MAX_RECORDS = 100_000


class Refused(ValueError):
    """An input we will not read, with the reason."""


@dataclass
class ParsedReport:
    org_name: str
    report_id: str
    domain: str
    begin_at: datetime | None
    end_at: datetime | None
    policy: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.org_name}!{self.report_id}"[:400]


# --- unpacking -----------------------------------------------------------------------------------


def _read_capped(stream: Any, compressed_size: int) -> bytes:
    chunks, total = [], 0
    while True:
        chunk = stream.read(64 * 1024)
        if not chunk:
            break
        total += len(chunk)
        if total > MAX_XML_BYTES:
            raise Refused(f"decompresses to more than {MAX_XML_BYTES} bytes (zip bomb?)")
        if total > RATIO_FLOOR and total > MAX_RATIO * max(compressed_size, 1):
            raise Refused(f"compression ratio above {MAX_RATIO}:1 (zip bomb?)")
        chunks.append(chunk)
    return b"".join(chunks)


def unpack(data: bytes, depth: int = 0) -> list[bytes]:
    """The XML documents inside a report file (xml, gzip, zip). Raises Refused."""
    if len(data) > MAX_INPUT_BYTES:
        raise Refused(f"larger than {MAX_INPUT_BYTES} bytes")
    if depth > 1:
        raise Refused("nested archives")
    if data[:4] == b"PK\x03\x04":
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            members = [i for i in zf.infolist() if not i.is_dir()]
            if len(members) > MAX_MEMBERS:
                raise Refused(f"zip with {len(members)} members")
            out = []
            for info in members:
                with zf.open(info) as f:
                    out.extend(unpack_member(_read_capped(f, info.compress_size), depth))
            return out
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError) as e:
            raise Refused(f"bad zip: {e}") from None
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as g:
                return unpack_member(_read_capped(g, len(data)), depth)
        except (OSError, EOFError) as e:
            raise Refused(f"bad gzip: {e}") from None
    return unpack_member(data, depth)


def unpack_member(data: bytes, depth: int) -> list[bytes]:
    if data[:4] == b"PK\x03\x04" or data[:2] == b"\x1f\x8b":
        return unpack(data, depth + 1)
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head != b"<":
        raise Refused("not XML")
    return [data]


def from_email(raw: bytes) -> list[tuple[str, bytes]]:
    """(filename, bytes) of each attachment of a report mail (or the body if it is the report)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        name = part.get_filename() or ""
        if name or ctype in ("application/zip", "application/gzip", "application/x-gzip", "text/xml",
                             "application/xml", "application/x-zip-compressed"):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                out.append((name or ctype, payload))
    return out


# --- parsing -------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el: Element | None, *path: str) -> Element | None:
    for name in path:
        if el is None:
            return None
        el = next((c for c in el if _local(c.tag) == name), None)
    return el


def _text(el: Element | None, *path: str) -> str:
    found = _child(el, *path)
    return (found.text or "").strip() if found is not None else ""


def _children(el: Element | None, name: str) -> list[Element]:
    return [c for c in el if _local(c.tag) == name] if el is not None else []


def _ts(value: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def parse_report(xml: bytes) -> ParsedReport:
    """Parse one aggregate report. No DTD, no entities. Raises Refused with the reason."""
    try:
        root = DET.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as e:
        raise Refused(f"unsafe XML refused ({type(e).__name__})") from None
    except DET.ParseError as e:
        raise Refused(f"not well-formed XML: {e}") from None
    if _local(root.tag) != "feedback":
        raise Refused(f"not a DMARC aggregate report (root <{_local(root.tag)}>)")
    meta = _child(root, "report_metadata")
    pol = _child(root, "policy_published")
    domain = _text(pol, "domain").lower().rstrip(".")
    if not domain:
        raise Refused("no policy_published/domain")
    policy = {k: _text(pol, k) for k in ("adkim", "aspf", "p", "sp", "pct", "np", "fo") if _text(pol, k)}
    rep = ParsedReport(_text(meta, "org_name")[:200], _text(meta, "report_id")[:200], domain,
                       _ts(_text(meta, "date_range", "begin")), _ts(_text(meta, "date_range", "end")), policy)
    if not rep.report_id:
        raise Refused("no report_id")
    for rec in _children(root, "record")[:MAX_RECORDS]:
        row = _child(rec, "row")
        try:
            count = max(0, min(int(_text(row, "count") or 0), 10**9))
        except ValueError:
            count = 0
        dkim_pe, spf_pe = _text(row, "policy_evaluated", "dkim"), _text(row, "policy_evaluated", "spf")
        auth = _child(rec, "auth_results")
        rep.records.append({
            "source_ip": _text(row, "source_ip")[:64],
            "count": count,
            "disposition": _text(row, "policy_evaluated", "disposition"),
            "dkim": dkim_pe,
            "spf": spf_pe,
            "header_from": _text(rec, "identifiers", "header_from").lower()[:253],
            "envelope_from": _text(rec, "identifiers", "envelope_from").lower()[:253],
            "aligned": "pass" in (dkim_pe, spf_pe),
            "auth_dkim": [{"domain": _text(d, "domain"), "result": _text(d, "result"),
                           "selector": _text(d, "selector")} for d in _children(auth, "dkim")[:10]],
            "auth_spf": [{"domain": _text(s, "domain"), "result": _text(s, "result")}
                         for s in _children(auth, "spf")[:10]],
        })
    return rep


# --- storing -------------------------------------------------------------------------------------


def our_domains(ctx: Context) -> list[str]:
    names: set[str] = set()
    for b in ctx.brands:
        names.update(b.official_domains, b.sending_domains)
    return sorted(names)


def store(session: Session, ctx: Context, rep: ParsedReport, raw_sha256: str) -> bool:
    """Save a parsed report; False if it was already there (reports are re-sent and re-read)."""
    if session.exec(select(DmarcReport).where(DmarcReport.key == rep.key)).first():
        return False
    session.add(DmarcReport(key=rep.key, org_name=rep.org_name, report_id=rep.report_id, domain=rep.domain,
                            begin_at=rep.begin_at, end_at=rep.end_at, policy=rep.policy, records=rep.records,
                            received_at=ctx.now(), raw_sha256=raw_sha256))
    return True


@dataclass
class Tally:
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"stored": self.stored, "duplicates": self.duplicates, "refused": self.refused,
                "refused_reasons": self.reasons[:20]}


def ingest_bytes(session: Session, ctx: Context, data: bytes, label: str, tally: Tally) -> None:
    """One received file or attachment: unpack, parse, check it is ours, store. Never raises."""
    ours = our_domains(ctx)
    try:
        if len(data) > MAX_INPUT_BYTES:
            raise Refused(f"larger than {MAX_INPUT_BYTES} bytes")
        # Kept as received (refused ones too), so a folder is not re-read and an analyst can look.
        raw_sha = ctx.evidence.put(data)
        for xml in unpack(data):
            rep = parse_report(xml)
            if not any(is_within(rep.domain, d) for d in ours):
                raise Refused(f"report for {rep.domain}, not one of our domains")
            if store(session, ctx, rep, raw_sha):
                tally.stored += 1
            else:
                tally.duplicates += 1
    except Refused as e:
        tally.refused += 1
        tally.reasons.append(f"{label}: {e}")
        record(session, ctx.actor, "dmarc.refused", None, {"input": label[:200], "reason": str(e)[:500],
                                                           "sha256": hashlib.sha256(data).hexdigest()}, at=ctx.now())
        log.warning("DMARC report %s refused: %s", label, e)


def ingest_files(ctx: Context, paths: list[Path]) -> dict[str, Any]:
    tally = Tally()
    with ctx.session() as s:
        for p in paths:
            try:
                if p.stat().st_size > MAX_INPUT_BYTES:
                    raise Refused(f"larger than {MAX_INPUT_BYTES} bytes")
                data = p.read_bytes()
            except (OSError, Refused) as e:
                tally.refused += 1
                tally.reasons.append(f"{p.name}: {e}")
                continue
            if p.suffix.lower() == ".eml":
                for name, payload in from_email(data):
                    ingest_bytes(s, ctx, payload, f"{p.name}/{name}", tally)
            else:
                ingest_bytes(s, ctx, data, p.name, tally)
            s.commit()
    return tally.as_dict()


def ingest_imap(ctx: Context) -> dict[str, Any]:
    """Unseen messages of ``imap.dmarc_folder``; each is marked seen once read.

    Tested against the lab IMAP server, including one that drips its answer a byte at a time.
    """
    conf = ctx.settings.imap
    tally = Tally()
    with imap_client.connect(conf, ctx.run) as imap:
        imap.login(conf.username, conf.password.get_secret_value())
        imap.select(conf.dmarc_folder)
        _typ, found = imap.search(None, "UNSEEN")
        with ctx.session() as s:
            for num in (found[0] or b"").decode().split()[:500]:
                ctx.run.check()
                _typ, size_data = imap.fetch(num, "(RFC822.SIZE)")
                m = re.search(rb"RFC822\.SIZE (\d+)", size_data[0] if size_data and isinstance(size_data[0], bytes)
                              else b"")
                size = int(m.group(1)) if m else 0
                if size > MAX_INPUT_BYTES:  # not fetched at all: the cap holds before any byte is read
                    tally.refused += 1
                    tally.reasons.append(f"imap {num}: {size} bytes")
                    imap.store(num, "+FLAGS", "\\Seen")
                    continue
                _typ, msg_data = imap.fetch(num, "(RFC822)")
                raw = next((p[1] for p in msg_data if isinstance(p, tuple)), b"")
                for name, payload in from_email(raw):
                    ingest_bytes(s, ctx, payload, f"imap {num}/{name}", tally)
                s.commit()
    return tally.as_dict()


def ingest(ctx: Context) -> dict[str, Any]:
    """The dmarc_reports job: the configured folder, then the IMAP folder."""
    conf = ctx.settings.imap
    out: dict[str, Any] = {}
    if conf.dmarc_dir:
        folder = ctx.settings.path(conf.dmarc_dir)
        files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
        # A file already in the evidence store was read before: skip it without parsing again.
        new = [p for p in files if p.stat().st_size > MAX_INPUT_BYTES
               or not ctx.evidence.exists(hashlib.sha256(p.read_bytes()).hexdigest())]
        out["folder"] = ingest_files(ctx, new)
    if conf.host and conf.dmarc_folder:
        try:
            out["imap"] = ingest_imap(ctx)
        except (imaplib.IMAP4.error, OSError) as e:
            out["imap"] = {"error": f"{type(e).__name__}: {e}"[:300]}
    return out


# --- reading -------------------------------------------------------------------------------------


def failing_senders(session: Session, since: datetime, domain: str | None = None) -> list[dict[str, Any]]:
    """Who sent as our domains and failed DMARC alignment, by volume (reports whose period ends after since)."""
    q = select(DmarcReport).where(col(DmarcReport.end_at) >= since)
    if domain:
        q = q.where(DmarcReport.domain == domain)
    agg: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(dict)
    for rep in session.exec(q):
        for r in rep.records:
            if r.get("aligned"):
                continue
            k = (rep.domain, r.get("source_ip", ""), r.get("header_from", ""))
            row = agg[k]
            if not row:
                row.update({"domain": rep.domain, "source_ip": k[1], "header_from": k[2], "count": 0,
                            "spf": r.get("spf", ""), "dkim": r.get("dkim", ""), "disposition": r.get("disposition", ""),
                            "reporters": set()})
            row["count"] += int(r.get("count") or 0)
            row["reporters"].add(rep.org_name)
    out = sorted(agg.values(), key=lambda r: -r["count"])
    for r in out:
        r["reporters"] = sorted(r["reporters"])
    return out


def volume(session: Session, since: datetime) -> dict[str, dict[str, int]]:
    """Messages per domain in reports since ``since``: total, aligned, failing."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"total": 0, "aligned": 0, "failing": 0})
    for rep in session.exec(select(DmarcReport).where(col(DmarcReport.end_at) >= since)):
        for r in rep.records:
            c = int(r.get("count") or 0)
            out[rep.domain]["total"] += c
            out[rep.domain]["aligned" if r.get("aligned") else "failing"] += c
    return dict(out)
