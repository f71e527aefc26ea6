"""DMARC reports: aggregate (RFC 7489 appendix C, DMARCbis RFC 9990), failure (RFC 6591) and SMTP TLS
(RFC 8460) — read as tolerantly as parsedmarc, and still safely; stored; summarised.

Guideline IV.4(1) asks the firm to move to ``p=reject`` *after reviewing DMARC reports*; these reports
show who sends mail as the brand and fails alignment (phishing, or a forgotten legitimate sender).

Reports arrive as mail from anyone on the internet, so every byte is hostile until parsed:
- XML is parsed with defusedxml with DTDs forbidden (no entity expansion: "billion laughs", XXE). An
  XML that is not well-formed but has no DTD is *recovered* (lxml's recovering parser, entities and
  network off), as parsedmarc does: the records that survive are kept and the defect is recorded with
  the report;
- compressed reports are unpacked with caps on size, ratio and members (``reportfiles``), forgiving
  stray bytes after a gzip stream and concatenated members (recorded as defects);
- result words are compared case-insensitively (``Pass`` is a pass); DMARCbis reports (namespaced,
  ``np``, ``testing``, ``discovery_method``, ``generator``) read like the others;
- a report for a domain that is not ours is refused (the rua mailbox is easy to spam).
Every refusal is counted and recorded as an Event with the reason; it never stops the job.

parsedmarc itself is not a dependency (it decompresses whole payloads without caps and pulls in
mail, IMAP and output clients); the test suite compares our totals with its parse of its own samples.
"""

from __future__ import annotations

import hashlib
import imaplib
import logging
import re
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
from watcher.core.models import DmarcFailureReport, DmarcReport, TlsReport
from watcher.core.names import is_within
from watcher.owned import failure_reports, reportfiles, tls_delivery, tlsrpt
from watcher.owned.reportfiles import MAX_INPUT_BYTES, Refused, from_email

log = logging.getLogger("omamori.dmarc")

MAX_RECORDS = 100_000
__all__ = ["MAX_INPUT_BYTES", "Refused", "from_email", "ingest", "ingest_files", "parse_report", "unpack"]


@dataclass
class ParsedReport:
    org_name: str
    report_id: str
    domain: str
    begin_at: datetime | None
    end_at: datetime | None
    policy: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.org_name}!{self.report_id}"[:400]

    @property
    def messages(self) -> int:
        return sum(int(r.get("count") or 0) for r in self.records)


def unpack(data: bytes) -> list[bytes]:
    """The report documents inside a report file (xml, json, gzip, zip). Raises Refused."""
    return [d.data for d in reportfiles.unpack(data)]


# --- parsing -------------------------------------------------------------------------------------


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _plain_tags(root: Any) -> str:
    """The report's namespace; every tag below reduced to its local name once, so that looking a child
    up is the parser's own ``find`` (a 2,000-record report has some 100,000 lookups)."""
    namespace = root.tag[1:].split("}", 1)[0] if isinstance(root.tag, str) and root.tag.startswith("{") else ""
    for e in root.iter():
        if isinstance(e.tag, str) and "}" in e.tag:
            e.tag = e.tag.rsplit("}", 1)[1]
    return namespace


def _child(el: Element | None, *path: str) -> Element | None:
    """A child by its path of local names, in a tree whose tags are plain (``_plain_tags``)."""
    for name in path:
        if el is None:
            return None
        el = el.find(name)
    return el


def _text(el: Element | None, *path: str) -> str:
    found = _child(el, *path)
    return "".join(found.itertext()).strip() if found is not None else ""


def _word(el: Element | None, *path: str) -> str:
    """A result word (pass, fail, none...), lowercased: reporters write ``Pass`` too."""
    return _text(el, *path).lower()[:40]


def _children(el: Element | None, name: str) -> list[Element]:
    return el.findall(name) if el is not None else []


def _ts(value: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(float(value.strip())), UTC)
    except (ValueError, OverflowError, OSError):
        return None


_UNSAFE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)


def _recover(xml: bytes, error: str) -> tuple[Element, list[str]]:
    """Parse XML that is not well-formed, keeping what survives (lxml's recovering parser)."""
    from lxml import etree

    if _UNSAFE.search(xml):
        raise Refused(f"not well-formed XML with a DTD: {error}")
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(xml, parser)
    except (etree.XMLSyntaxError, ValueError) as e:
        raise Refused(f"not well-formed XML: {error} ({e})") from None
    if root is None:
        raise Refused(f"not well-formed XML: {error}")
    return root, [f"malformed XML recovered ({error}; {len(parser.error_log)} parser error(s))"[:300]]


def parse_report(xml: bytes) -> ParsedReport:
    """Parse one aggregate report. No DTD, no entities. Raises Refused with the reason."""
    defects: list[str] = []
    root: Any
    try:
        root = DET.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as e:
        raise Refused(f"unsafe XML refused ({type(e).__name__})") from None
    except DET.ParseError as e:
        root, defects = _recover(xml, str(e)[:120])
    if _local(root.tag) != "feedback":
        # Some reporters wrap the report in another element (an unclosed <xs:schema>): the report inside
        # is read, and the wrapper recorded.
        inner = next((e for e in root.iter() if _local(e.tag) == "feedback"), None)
        if inner is None:
            raise Refused(f"not a DMARC aggregate report (root <{_local(root.tag)[:40]}>)")
        defects.append(f"the report was wrapped in <{_local(root.tag)[:40]}>")
        root = inner
    namespace = _plain_tags(root)
    meta = _child(root, "report_metadata")
    pol = _child(root, "policy_published")
    domain = _text(pol, "domain").lower().rstrip(".")
    if not domain:
        raise Refused("no policy_published/domain")
    policy = {k: _text(pol, k)[:40].lower() for k in ("adkim", "aspf", "p", "sp", "pct", "np", "fo", "testing",
                                                       "discovery_method", "psd") if _text(pol, k)}
    version = _text(root, "version")
    if namespace or version:
        policy["schema"] = (namespace or version)[:80]
    generator = _text(meta, "generator")
    if generator:
        policy["generator"] = generator[:120]
    org = _text(meta, "org_name")[:200]
    if not org:
        # Some reporters leave org_name empty; their address names them (as parsedmarc does).
        org = _text(meta, "email").rsplit("@", 1)[-1].strip("<> ")[:200]
        if org:
            defects.append("empty org_name: the reporter's address was used")
    rep = ParsedReport(org, _text(meta, "report_id")[:200], domain,
                       _ts(_text(meta, "date_range", "begin")), _ts(_text(meta, "date_range", "end")), policy,
                       defects=defects)
    if not rep.report_id:
        raise Refused("no report_id")
    rows = _children(root, "record")
    if len(rows) > MAX_RECORDS:
        rep.defects.append(f"{len(rows)} records: only the first {MAX_RECORDS} were kept")
    for rec in rows[:MAX_RECORDS]:
        rep.records.append(_record(rec))
    return rep


def _record(rec: Element) -> dict[str, Any]:
    row = _child(rec, "row")
    try:
        count = max(0, min(int(_text(row, "count") or 0), 10**9))
    except ValueError:
        count = 0
    dkim_pe, spf_pe = _word(row, "policy_evaluated", "dkim"), _word(row, "policy_evaluated", "spf")
    auth = _child(rec, "auth_results")
    reasons = [{"type": _word(r, "type"), "comment": _text(r, "comment")[:200]}
               for r in _children(_child(row, "policy_evaluated"), "reason")[:5] if _word(r, "type")]
    out: dict[str, Any] = {
        "source_ip": _text(row, "source_ip")[:64],
        "count": count,
        "disposition": _word(row, "policy_evaluated", "disposition"),
        "dkim": dkim_pe,
        "spf": spf_pe,
        "header_from": _text(rec, "identifiers", "header_from").lower()[:253],
        "envelope_from": _text(rec, "identifiers", "envelope_from").lower()[:253],
        "aligned": "pass" in (dkim_pe, spf_pe),
        "auth_dkim": [{"domain": _text(d, "domain").lower()[:253], "result": _word(d, "result"),
                       "selector": _text(d, "selector")[:100]} for d in _children(auth, "dkim")[:10]],
        "auth_spf": [{"domain": _text(s, "domain").lower()[:253], "result": _word(s, "result"),
                      "scope": _word(s, "scope")} for s in _children(auth, "spf")[:10]],
    }
    if reasons:
        out["reasons"] = reasons
    return out


# --- storing -------------------------------------------------------------------------------------


def our_domains(ctx: Context) -> list[str]:
    names: set[str] = set()
    for b in ctx.brands:
        names.update(b.official_domains, b.sending_domains)
    return sorted(names)


def _ours(domain: str, ours: list[str]) -> bool:
    return any(is_within(domain, d) for d in ours)


def store(session: Session, ctx: Context, rep: ParsedReport, raw_sha256: str) -> bool:
    """Save a parsed report; False if it was already there (reports are re-sent and re-read)."""
    if session.exec(select(DmarcReport).where(DmarcReport.key == rep.key)).first():
        return False
    session.add(DmarcReport(key=rep.key, org_name=rep.org_name, report_id=rep.report_id, domain=rep.domain,
                            begin_at=rep.begin_at, end_at=rep.end_at, policy=rep.policy, records=rep.records,
                            received_at=ctx.now(), raw_sha256=raw_sha256, defects=rep.defects))
    return True


@dataclass
class Tally:
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    reasons: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    defects: list[str] = field(default_factory=list)

    def refuse(self, label: str, reason: str) -> None:
        self.refused += 1
        self.reasons.append(f"{label}: {reason}")

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"stored": self.stored, "duplicates": self.duplicates, "refused": self.refused,
                               "refused_reasons": self.reasons[:20]}
        if self.kinds:
            out["by_kind"] = dict(self.kinds)
        if self.defects:
            out["defects"] = self.defects[:20]
        return out


def _refused(session: Session, ctx: Context, data: bytes, label: str, reason: str, tally: Tally) -> None:
    tally.refuse(label, reason)
    record(session, ctx.actor, "dmarc.refused", None, {"input": label[:200], "reason": reason[:500],
                                                       "sha256": hashlib.sha256(data).hexdigest()}, at=ctx.now())
    log.warning("report %s refused: %s", label, reason)


def _store_tls(session: Session, ctx: Context, doc: reportfiles.Document, raw_sha: str, ours: list[str]) -> bool:
    rep = tlsrpt.parse(doc.data)
    if not any(_ours(d, ours) for d in rep.domains):
        raise Refused(f"TLS report for {', '.join(rep.domains)[:200]}, not one of our domains")
    if session.exec(select(TlsReport).where(TlsReport.key == rep.key)).first():
        return False
    session.add(TlsReport(key=rep.key, org_name=rep.org_name, report_id=rep.report_id, domain=rep.domains[0],
                          begin_at=rep.begin_at, end_at=rep.end_at, policies=rep.policies, received_at=ctx.now(),
                          raw_sha256=raw_sha))
    tls_delivery.judge(session, ctx, rep)
    return True


def ingest_bytes(session: Session, ctx: Context, data: bytes, label: str, tally: Tally) -> None:
    """One received file or attachment: unpack, parse, check it is ours, store. Never raises."""
    ours = our_domains(ctx)
    try:
        if len(data) > MAX_INPUT_BYTES:
            raise Refused(f"larger than {MAX_INPUT_BYTES} bytes")
        # Kept as received (refused ones too), so a folder is not re-read and an analyst can look.
        raw_sha = ctx.evidence.put(data)
        for doc in reportfiles.unpack(data):
            if doc.kind == "json":
                stored = _store_tls(session, ctx, doc, raw_sha, ours)
                kind = "tls"
            else:
                rep = parse_report(doc.data)
                rep.defects[:0] = doc.defects
                if not _ours(rep.domain, ours):
                    raise Refused(f"report for {rep.domain}, not one of our domains")
                stored = store(session, ctx, rep, raw_sha)
                kind = "aggregate"
                tally.defects.extend(f"{label}: {d}" for d in rep.defects)
            if stored:
                tally.stored += 1
                tally.kinds[kind] += 1
            else:
                tally.duplicates += 1
    except Refused as e:
        _refused(session, ctx, data, label, str(e), tally)


def ingest_message(session: Session, ctx: Context, raw: bytes, label: str, tally: Tally) -> None:
    """One report mail: a failure report is read as such; otherwise each attached report is ingested."""
    try:
        msg = reportfiles.message(raw)
        is_failure = reportfiles.is_failure_report(msg) or (
            msg.get_content_type() == "multipart/report" and not reportfiles.attachments(msg))
    except Exception as e:  # the email package raises many kinds on hostile input
        _refused(session, ctx, raw, label, f"unreadable mail: {type(e).__name__}", tally)
        return
    if is_failure:
        _ingest_failure(session, ctx, raw, label, tally)
        return
    found = reportfiles.attachments(msg)
    if not found:
        _refused(session, ctx, raw, label, "a mail without a report attached", tally)
    for name, payload in found:
        ingest_bytes(session, ctx, payload, f"{label}/{name}"[:300], tally)


def _ingest_failure(session: Session, ctx: Context, raw: bytes, label: str, tally: Tally) -> None:
    try:
        rep = failure_reports.parse(raw)
        if not _ours(rep.domain, our_domains(ctx)):
            raise Refused(f"failure report for {rep.domain}, not one of our domains")
        raw_sha = ctx.evidence.put(raw)
        if session.exec(select(DmarcFailureReport).where(DmarcFailureReport.key == raw_sha)).first():
            tally.duplicates += 1
            return
        session.add(DmarcFailureReport(
            key=raw_sha, domain=rep.domain, reporter=rep.reporter, arrival_at=rep.arrival_at,
            source_ip=rep.source_ip, feedback_type=rep.feedback_type, auth_failure=rep.auth_failure,
            delivery_result=rep.delivery_result, header_from=rep.header_from, envelope_from=rep.envelope_from,
            subject=rep.subject, fields=rep.fields, received_at=ctx.now(), raw_sha256=raw_sha))
        tally.stored += 1
        tally.kinds["failure"] += 1
    except Refused as e:
        _refused(session, ctx, raw, label, str(e), tally)


def ingest_files(ctx: Context, paths: list[Path]) -> dict[str, Any]:
    tally = Tally()
    with ctx.session() as s:
        for p in paths:
            try:
                if p.stat().st_size > MAX_INPUT_BYTES:
                    raise Refused(f"larger than {MAX_INPUT_BYTES} bytes")
                data = p.read_bytes()
            except (OSError, Refused) as e:
                tally.refuse(p.name, str(e))
                continue
            if p.suffix.lower() == ".eml":
                ctx.evidence.put(data)  # kept as received, so the folder's next read skips it
                ingest_message(s, ctx, data, p.name, tally)
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
                    tally.refuse(f"imap {num}", f"{size} bytes")
                    imap.store(num, "+FLAGS", "\\Seen")
                    continue
                _typ, msg_data = imap.fetch(num, "(RFC822)")
                raw = next((p[1] for p in msg_data if isinstance(p, tuple)), b"")
                ingest_message(s, ctx, raw, f"imap {num}", tally)
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
            if aligned(r):
                continue
            k = (rep.domain, r.get("source_ip", ""), r.get("header_from", ""))
            row = agg[k]
            if not row:
                row.update({"domain": rep.domain, "source_ip": k[1], "header_from": k[2], "count": 0,
                            "spf": r.get("spf", ""), "dkim": r.get("dkim", ""), "disposition": r.get("disposition", ""),
                            "sender": (r.get("sender") or {}).get("name", ""), "reporters": set()})
            row["count"] += int(r.get("count") or 0)
            row["reporters"].add(rep.org_name)
    out = sorted(agg.values(), key=lambda r: -r["count"])
    for r in out:
        r["reporters"] = sorted(r["reporters"])
    return out


def aligned(rec: dict[str, Any]) -> bool:
    """RFC 7489: DMARC passes when aligned DKIM or aligned SPF passes (words compared in any case)."""
    return str(rec.get("dkim", "")).lower() == "pass" or str(rec.get("spf", "")).lower() == "pass"


def reject_readiness(session: Session, ctx: Context) -> dict[str, Any]:
    """How many sending domains are ready for DMARC p=reject, for the weekly report:
    {"ready", "total", "domains": [{"ja": ..., "en": ...} per domain, ``senders.Readiness.as_dict``]}."""
    from watcher.owned.senders import ready_for_reject

    found = ready_for_reject(ctx, session)
    return {"ready": sum(1 for r in found if r.ready),
            "total": len(found), "domains": [{"ja": r.as_dict("ja"), "en": r.as_dict("en")} for r in found]}


def volume(session: Session, since: datetime) -> dict[str, dict[str, int]]:
    """Messages per domain in reports since ``since``: total, aligned, failing."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"total": 0, "aligned": 0, "failing": 0})
    for rep in session.exec(select(DmarcReport).where(col(DmarcReport.end_at) >= since)):
        for r in rep.records:
            c = int(r.get("count") or 0)
            out[rep.domain]["total"] += c
            out[rep.domain]["aligned" if aligned(r) else "failing"] += c
    return dict(out)
