"""The read side: every query the dashboard runs, as plain functions of an engine.

No Streamlit here, so ``bench/dashboard.py`` times exactly what the views run. Rules that keep the
dashboard fast on 100,000 candidates and 1,000,000 events:

- lists are pages (``LIMIT``/``OFFSET`` over an indexed ordering), never whole tables;
- counts are ``GROUP BY`` in the database, never ``len()`` of loaded rows;
- the event log is only read per object (``ix_event_object``) or per action (``ix_event_action``);
- heavy JSON columns (capture, DNS, RDAP) are loaded for one snapshot at a time.

Results are plain dicts and lists so ``st.cache_data`` can pickle them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col

from watcher.core.models import (
    BlocklistStatus,
    BlocklistSubmission,
    Brand,
    Candidate,
    DmarcFailureReport,
    DmarcReport,
    Event,
    FeedState,
    Finding,
    FindingGroup,
    FindingKind,
    FindingStatus,
    JobState,
    LogPosition,
    OwnedCertificate,
    OwnedDomain,
    RequestStatus,
    Snapshot,
    TakedownRequest,
    TlsReport,
)

Row = dict[str, Any]

K = FindingKind
# Findings about omamori itself (watcher.health, watcher.schedule, the CT reader).
SELF_KINDS: tuple[FindingKind, ...] = K.of_group(FindingGroup.SELF)
TAKEDOWN_KINDS: tuple[FindingKind, ...] = K.of_group(FindingGroup.TAKEDOWN)  # on the takedowns page
# Mail-authentication findings, one kind per mechanism (the column of the mail-authentication table).
MAIL_MECHANISMS: tuple[FindingKind, ...] = (K.SPF, K.DKIM, K.DMARC, K.BIMI, K.MTA_STS, K.TLSRPT)
# Findings that belong to a mechanism's column too: the BIMI proof, the report authorization, and
# checkdmarc's warnings (subject ``domain/aspect/code``).
_UNDER: dict[FindingKind, FindingKind] = {K.BIMI_LOGO: K.BIMI, K.BIMI_CERT: K.BIMI, K.DMARC_REPORT_AUTH: K.DMARC}
# Mail findings shown in their own sections of the mail page, not with the owned domains.
MAIL_SECTIONS: tuple[FindingKind, ...] = (K.SMIME, K.MESSAGE_LINK)
# Owned-domain findings that mean someone else can serve content under our name right now.
URGENT_OWNED: tuple[FindingKind, ...] = (K.TAKEOVER_CNAME, K.TAKEOVER_NS, K.TAKEOVER_MX, K.DROPCATCH,
                                         K.DANGLING_ADDRESS, K.CERT_ISSUER)
OPEN_REQUEST: tuple[RequestStatus, ...] = (
    RequestStatus.DRAFT, RequestStatus.QUEUED, RequestStatus.SENDING, RequestStatus.SENT, RequestStatus.ANSWERED,
)


def mechanism_of(kind: str, subject: str = "") -> FindingKind | None:
    if kind == K.MAIL_WARNING:
        aspect = subject.split("/")[1] if subject.count("/") >= 2 else ""
        return next((m for m in MAIL_MECHANISMS if m == aspect), None)
    found = _UNDER.get(K(kind)) if kind in K._value2member_map_ else None
    return found or next((m for m in MAIL_MECHANISMS if m == kind), None)


def mail_domain(kind: str, subject: str) -> str:
    """The domain a mail finding is about (a warning's subject is ``domain/aspect/code``)."""
    return subject.split("/", 1)[0] if kind == K.MAIL_WARNING else subject


def _rows(engine: Engine, stmt: sa.Select[*tuple[Any, ...]]) -> list[Row]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def _scalar(engine: Engine, stmt: sa.Select[*tuple[Any, ...]]) -> Any:
    with engine.connect() as conn:
        return conn.execute(stmt).scalar()


# ---------------------------------------------------------------- brands and the triage queue


def brands(engine: Engine) -> list[Row]:
    return _rows(engine, sa.select(col(Brand.id), col(Brand.slug), col(Brand.name), col(Brand.name_ja),
                                   col(Brand.spec), col(Brand.references))
                 .order_by(col(Brand.slug)))


def status_counts(engine: Engine) -> dict[str, int]:
    stmt = sa.select(col(Candidate.status), sa.func.count()).group_by(col(Candidate.status))
    with engine.connect() as conn:
        return {str(s): int(n) for s, n in conn.execute(stmt)}


@dataclass(frozen=True)
class QueueFilter:
    """What the triage queue shows. Defaults: what waits for a person (new and checked)."""

    statuses: tuple[str, ...] = ("new", "checked")
    brand_id: int | None = None
    sources: tuple[str, ...] = ()
    verdicts: tuple[str, ...] = ()
    since: datetime | None = None
    domain_contains: str = ""

    def where(self) -> list[sa.ColumnElement[bool]]:
        cond: list[sa.ColumnElement[bool]] = []
        if self.statuses:
            cond.append(col(Candidate.status).in_(self.statuses))
        if self.brand_id is not None:
            cond.append(col(Candidate.brand_id) == self.brand_id)
        if self.sources:
            cond.append(col(Candidate.source).in_(self.sources))
        if self.verdicts:
            cond.append(col(Candidate.verdict).in_(self.verdicts))
        if self.since is not None:
            cond.append(col(Candidate.first_seen_at) >= self.since)
        if self.domain_contains.strip():
            cond.append(col(Candidate.domain).contains(self.domain_contains.strip().lower(), autoescape=True))
        return cond


QUEUE_COLUMNS = (col(Candidate.id), col(Candidate.domain), col(Candidate.unicode), col(Candidate.brand_id),
                 col(Candidate.score), col(Candidate.status), col(Candidate.verdict), col(Candidate.source),
                 col(Candidate.first_seen_at), col(Candidate.last_checked_at))


# Cases that are over (taken down, or dismissed): listed apart from the live queue, after it.
CLOSED_STATUSES: tuple[str, ...] = ("down", "dismissed")


def queue_page(engine: Engine, f: QueueFilter, *, limit: int, offset: int) -> tuple[list[Row], int]:
    """One page of the queue: live cases first, highest score first; closed cases after them."""
    where = f.where()
    closed_last = sa.case((col(Candidate.status).in_(CLOSED_STATUSES), 1), else_=0)
    page = (sa.select(*QUEUE_COLUMNS).where(*where)
            .order_by(closed_last, col(Candidate.score).desc(), col(Candidate.id).desc())
            .limit(limit).offset(offset))
    total = _scalar(engine, sa.select(sa.func.count()).select_from(Candidate).where(*where))
    return _rows(engine, page), int(total or 0)


# ---------------------------------------------------------------- one candidate


def candidate(engine: Engine, candidate_id: int) -> Row | None:
    rows = _rows(engine, sa.select(Candidate).where(col(Candidate.id) == candidate_id))
    return rows[0] if rows else None


def latest_snapshot(engine: Engine, candidate_id: int) -> Row | None:
    rows = _rows(engine, sa.select(Snapshot).where(col(Snapshot.candidate_id) == candidate_id)
                 .order_by(col(Snapshot.taken_at).desc(), col(Snapshot.id).desc()).limit(1))
    return rows[0] if rows else None


def evidence_snapshot(engine: Engine, candidate_id: int) -> Row | None:
    """The last snapshot that showed the site live (``watcher.core.casefacts.live_evidence``)."""
    rows = _rows(engine, sa.select(Snapshot).where(col(Snapshot.candidate_id) == candidate_id,
                                                   col(Snapshot.reachable).is_(True), col(Snapshot.gone).is_(False))
                 .order_by(col(Snapshot.taken_at).desc(), col(Snapshot.id).desc()).limit(1))
    return rows[0] if rows else None


def snapshot_timeline(engine: Engine, candidate_id: int, limit: int = 50) -> list[Row]:
    # Light columns only: the timeline needs when and what, not every capture's JSON.
    return _rows(engine, sa.select(col(Snapshot.id), col(Snapshot.taken_at), col(Snapshot.score),
                                   col(Snapshot.verdict), col(Snapshot.reachable), col(Snapshot.gone),
                                   col(Snapshot.error), col(Snapshot.screenshot_sha256), col(Snapshot.reasons))
                 .where(col(Snapshot.candidate_id) == candidate_id)
                 .order_by(col(Snapshot.taken_at).desc(), col(Snapshot.id).desc()).limit(limit))


def object_events(engine: Engine, object_type: str, object_id: int, limit: int = 200) -> list[Row]:
    return _rows(engine, sa.select(col(Event.id), col(Event.at), col(Event.actor), col(Event.action),
                                   col(Event.detail))
                 .where(col(Event.object_type) == object_type, col(Event.object_id) == object_id)
                 .order_by(col(Event.at).desc(), col(Event.id).desc()).limit(limit))


def candidate_requests(engine: Engine, candidate_id: int) -> list[Row]:
    return _rows(engine, sa.select(TakedownRequest).where(col(TakedownRequest.candidate_id) == candidate_id)
                 .order_by(col(TakedownRequest.id)))


def request_events(engine: Engine, request_ids: Sequence[int], limit: int = 200) -> list[Row]:
    if not request_ids:
        return []
    return _rows(engine, sa.select(col(Event.id), col(Event.at), col(Event.actor), col(Event.action),
                                   col(Event.object_id), col(Event.detail))
                 .where(col(Event.object_type) == "takedownrequest",
                        col(Event.object_id).in_(list(request_ids)))
                 .order_by(col(Event.at).desc()).limit(limit))


# ---------------------------------------------------------------- takedowns


def open_by_recipient(engine: Engine) -> list[Row]:
    recipient = (col(TakedownRequest.recipient), col(TakedownRequest.recipient_name),
                 col(TakedownRequest.recipient_kind))
    stmt = (sa.select(*recipient, sa.func.count().label("count"),
                      sa.func.min(col(TakedownRequest.created_at)).label("oldest"))
            .where(col(TakedownRequest.status).in_(OPEN_REQUEST))
            .group_by(*recipient)
            .order_by(sa.text("count DESC")))
    return _rows(engine, stmt)


def request_outcomes(engine: Engine) -> dict[str, int]:
    stmt = sa.select(col(TakedownRequest.status), sa.func.count()).group_by(col(TakedownRequest.status))
    with engine.connect() as conn:
        return {str(s): int(n) for s, n in conn.execute(stmt)}


def reminders_due(engine: Engine, now: datetime, remind_after_hours: float, limit: int = 100) -> list[Row]:
    """Sent, unanswered requests whose last contact is older than the reminder interval."""
    cutoff = now - timedelta(hours=remind_after_hours)
    last = sa.func.coalesce(col(TakedownRequest.last_reminder_at), col(TakedownRequest.sent_at))
    stmt = (sa.select(col(TakedownRequest.id), col(TakedownRequest.candidate_id), col(Candidate.domain),
                      col(TakedownRequest.recipient), col(TakedownRequest.sent_at),
                      col(TakedownRequest.reminders_sent), col(TakedownRequest.last_reminder_at))
            .join(Candidate, col(Candidate.id) == col(TakedownRequest.candidate_id))
            .where(col(TakedownRequest.status) == RequestStatus.SENT,
                   col(TakedownRequest.sent_at).is_not(None), last < cutoff)
            .order_by(last).limit(limit))
    return _rows(engine, stmt)


def open_requests_page(engine: Engine, *, limit: int, offset: int) -> tuple[list[Row], int]:
    where = col(TakedownRequest.status).in_(OPEN_REQUEST)
    stmt = (sa.select(col(TakedownRequest.id), col(TakedownRequest.candidate_id), col(Candidate.domain),
                      col(TakedownRequest.recipient), col(TakedownRequest.recipient_kind),
                      col(TakedownRequest.channel), col(TakedownRequest.status),
                      col(TakedownRequest.created_at), col(TakedownRequest.sent_at),
                      col(TakedownRequest.reminders_sent), col(TakedownRequest.escalation_level))
            .join(Candidate, col(Candidate.id) == col(TakedownRequest.candidate_id))
            .where(where).order_by(col(TakedownRequest.created_at), col(TakedownRequest.id))
            .limit(limit).offset(offset))
    total = _scalar(engine, sa.select(sa.func.count()).select_from(TakedownRequest).where(where))
    return _rows(engine, stmt), int(total or 0)


def takedown_cases(engine: Engine, limit: int = 200) -> list[Row]:
    """One row per case with requests: its mode, tickets, replies for a person, and its two clocks
    (time-to-blocklisted: first submission -> first listing; time-to-down: first request -> down)."""
    T, B = TakedownRequest, BlocklistSubmission
    reqs = _rows(engine, sa.select(
        col(Candidate.id).label("candidate_id"), col(Candidate.domain), col(Candidate.status), col(Candidate.down_at),
        sa.func.max(col(T.mode)).label("mode"), sa.func.min(col(T.sent_at)).label("first_sent_at"),
        sa.func.count().label("requests"),
        sa.func.sum(sa.case((col(T.needs_person), 1), else_=0)).label("needs_person"),
        sa.func.sum(sa.case((col(T.status) == RequestStatus.FAILED.value, 1), else_=0)).label("failed"),
        sa.func.max(col(T.ticket)).label("ticket"),
    ).join(Candidate, col(Candidate.id) == col(T.candidate_id)).group_by(
        col(Candidate.id), col(Candidate.domain), col(Candidate.status), col(Candidate.down_at)
    ).order_by(sa.desc(sa.func.min(col(T.created_at)))).limit(limit))
    ids = [r["candidate_id"] for r in reqs]
    lists = {r["candidate_id"]: r for r in _rows(engine, sa.select(
        col(B.candidate_id), sa.func.min(col(B.submitted_at)).label("submitted_at"),
        sa.func.min(col(B.listed_at)).label("listed_at"), sa.func.count().label("submissions"),
        sa.func.sum(sa.case((col(B.status) == BlocklistStatus.LISTED.value, 1), else_=0)).label("listed"),
    ).where(col(B.candidate_id).in_(ids)).group_by(col(B.candidate_id)))} if ids else {}
    out = []
    for r in reqs:
        b = lists.get(r["candidate_id"], {})
        sub, listed = b.get("submitted_at"), b.get("listed_at")
        sent, down = r["first_sent_at"], r["down_at"]
        out.append({**r, "blocklists": f"{b.get('listed', 0)}/{b.get('submissions', 0)}",
                    # Text, "" while a clock still runs (one column type for the table).
                    "time_to_blocklisted_min": f"{(listed - sub).total_seconds() / 60:.1f}" if sub and listed else "",
                    "time_to_down_h": f"{max(0.0, (down - sent).total_seconds()) / 3600:.2f}" if down and sent
                    else ""})
    return out


def needs_person(engine: Engine, limit: int = 100) -> list[Row]:
    """Requests with a person's reply no one has read yet."""
    T = TakedownRequest
    return _rows(engine, sa.select(col(T.id), col(T.candidate_id), col(Candidate.domain), col(T.recipient),
                                   col(T.status), col(T.ticket))
                 .join(Candidate, col(Candidate.id) == col(T.candidate_id))
                 .where(col(T.needs_person)).order_by(col(T.id)).limit(limit))


def time_to_down_hours(engine: Engine, limit: int = 5000) -> list[float]:
    stmt = (sa.select(col(TakedownRequest.time_to_down_seconds))
            .where(col(TakedownRequest.time_to_down_seconds).is_not(None))
            .order_by(col(TakedownRequest.closed_at).desc()).limit(limit))
    with engine.connect() as conn:
        return [float(s) / 3600 for (s,) in conn.execute(stmt) if s is not None]


# ---------------------------------------------------------------- owned domains and findings


def owned_domains(engine: Engine, *, limit: int, offset: int) -> tuple[list[Row], int]:
    stmt = (sa.select(col(OwnedDomain.id), col(OwnedDomain.name), col(OwnedDomain.apex),
                      col(OwnedDomain.is_apex), col(OwnedDomain.source), col(OwnedDomain.lapsed),
                      col(OwnedDomain.registrar), col(OwnedDomain.expires_at), col(OwnedDomain.statuses),
                      col(OwnedDomain.dnssec), col(OwnedDomain.last_checked_at), col(OwnedDomain.gone_at))
            .order_by(col(OwnedDomain.expires_at).is_(None), col(OwnedDomain.expires_at),
                      col(OwnedDomain.name))
            .limit(limit).offset(offset))
    total = _scalar(engine, sa.select(sa.func.count()).select_from(OwnedDomain))
    return _rows(engine, stmt), int(total or 0)


def owned_certificates(engine: Engine, limit: int = 200) -> list[Row]:
    """The newest certificates for our names (every CA), unexpected issuers first."""
    stmt = (sa.select(col(OwnedCertificate.name), col(OwnedCertificate.issuer), col(OwnedCertificate.issuer_org),
                      col(OwnedCertificate.allowed), col(OwnedCertificate.not_before), col(OwnedCertificate.not_after),
                      col(OwnedCertificate.log), col(OwnedCertificate.first_seen_at))
            .order_by(col(OwnedCertificate.allowed), col(OwnedCertificate.first_seen_at).desc()).limit(limit))
    return _rows(engine, stmt)


def expiry_points(engine: Engine, limit: int = 2000) -> list[Row]:
    """Apexes with a known expiry, for the timeline chart (hosts share their apex's expiry)."""
    stmt = (sa.select(col(OwnedDomain.name), col(OwnedDomain.expires_at), col(OwnedDomain.lapsed))
            .where(col(OwnedDomain.is_apex).is_(True), col(OwnedDomain.expires_at).is_not(None))
            .order_by(col(OwnedDomain.expires_at)).limit(limit))
    return _rows(engine, stmt)


def open_findings(engine: Engine, *, kinds: Sequence[FindingKind] | None = None, exclude: Sequence[FindingKind] = (),
                  limit: int = 500) -> list[Row]:
    stmt = sa.select(col(Finding.id), col(Finding.kind), col(Finding.subject), col(Finding.severity),
                     col(Finding.title), col(Finding.detail), col(Finding.title_text), col(Finding.detail_text),
                     col(Finding.opened_at),
                     col(Finding.last_seen_at), col(Finding.times_opened), col(Finding.data)) \
        .where(col(Finding.status) == FindingStatus.OPEN)
    if kinds is not None:
        stmt = stmt.where(col(Finding.kind).in_(list(kinds)))
    if exclude:
        stmt = stmt.where(col(Finding.kind).not_in(list(exclude)))
    rows = _rows(engine, stmt.order_by(col(Finding.opened_at)).limit(limit))
    return sorted(rows, key=lambda r: _severity_rank(r["severity"]))


_SEVERITY = ("critical", "high", "medium", "low", "info")


def _severity_rank(s: Any) -> int:
    return _SEVERITY.index(str(s)) if str(s) in _SEVERITY else len(_SEVERITY)


def owned_findings(engine: Engine) -> list[Row]:
    """Open findings about our domains; takeover and drop-catch first, then by severity."""
    rows = [r for r in open_findings(engine, exclude=(*SELF_KINDS, *TAKEDOWN_KINDS, *MAIL_SECTIONS))
            if mechanism_of(r["kind"], r["subject"]) is None]
    return sorted(rows, key=lambda r: (r["kind"] not in URGENT_OWNED, _severity_rank(r["severity"])))


def decidable_findings(engine: Engine, limit: int = 500) -> list[Row]:
    """Open and accepted findings about our domains and our mail: what a person may accept or reopen."""
    stmt = sa.select(col(Finding.id), col(Finding.kind), col(Finding.subject), col(Finding.severity),
                     col(Finding.status), col(Finding.title), col(Finding.title_text)) \
        .where(col(Finding.status).in_([FindingStatus.OPEN, FindingStatus.ACCEPTED]),
               col(Finding.kind).not_in([*SELF_KINDS, *TAKEDOWN_KINDS]))
    rows = _rows(engine, stmt.order_by(col(Finding.opened_at)).limit(limit))
    return sorted(rows, key=lambda r: (str(r["status"]) != FindingStatus.OPEN, _severity_rank(r["severity"])))


# ---------------------------------------------------------------- mail authentication


def mail_state(engine: Engine, sending_domains: Sequence[str]) -> list[Row]:
    """Per domain and mechanism: the open findings' titles, or ``[]`` when none is open.

    The sending domains come first; any other domain with an open mail finding follows (a domain that
    sends no mail must still say so with ``v=spf1 -all`` and ``p=reject``).
    """
    findings = [{**r, "domain": mail_domain(r["kind"], r["subject"])}
                for r in open_findings(engine, exclude=SELF_KINDS) if mechanism_of(r["kind"], r["subject"])]
    covered = set(sending_domains)
    others = sorted({f["domain"] for f in findings if not any(f["domain"] == d or f["domain"].endswith("." + d)
                                                               for d in covered)})
    out: list[Row] = []
    for domain in [*sending_domains, *others]:
        row: Row = {"domain": domain}
        for m in MAIL_MECHANISMS:
            row[m] = [{"title": f["title"] or f["kind"], "title_text": f.get("title_text")} for f in findings
                      if mechanism_of(f["kind"], f["subject"]) == m
                      and (f["domain"] == domain or f["domain"].endswith("." + domain))]
        out.append(row)
    return out


def road_to_reject(engine: Engine, now: datetime, days: int, target: float, lang: str) -> list[Row]:
    """Per sending domain: the "ready for p=reject" figure, what fails, and every named sender."""
    from sqlmodel import Session

    from watcher.core.brands import BrandSpec
    from watcher.owned import senders

    specs = [BrandSpec.model_validate(b["spec"]) for b in brands(engine) if b["spec"]]
    with Session(engine) as s:
        ready = senders.readiness(s, specs, now, days, target)
        named = senders.named_senders(s, now - timedelta(days=days), specs)
    out = []
    for r in ready:
        row = r.as_dict(lang)
        row["senders"] = [n.as_dict(lang) for n in named if n.domain == r.domain]
        out.append(row)
    return out


def failure_reports(engine: Engine, since: datetime, limit: int = 200) -> list[Row]:
    return _rows(engine, sa.select(col(DmarcFailureReport.arrival_at), col(DmarcFailureReport.domain),
                                   col(DmarcFailureReport.source_ip), col(DmarcFailureReport.header_from),
                                   col(DmarcFailureReport.subject), col(DmarcFailureReport.auth_failure),
                                   col(DmarcFailureReport.delivery_result), col(DmarcFailureReport.reporter))
                 .where(col(DmarcFailureReport.received_at) >= since)
                 .order_by(col(DmarcFailureReport.arrival_at).desc()).limit(limit))


def tls_reports(engine: Engine, since: datetime, limit: int = 200) -> list[Row]:
    rows = _rows(engine, sa.select(col(TlsReport.begin_at), col(TlsReport.org_name), col(TlsReport.policies))
                 .where(col(TlsReport.received_at) >= since).order_by(col(TlsReport.begin_at).desc()).limit(limit))
    out = []
    for r in rows:
        for p in r["policies"] or []:
            out.append({"begin_at": r["begin_at"], "reporter": r["org_name"], "domain": p.get("domain", ""),
                        "type": p.get("type", ""), "success": p.get("success", 0), "failure": p.get("failure", 0),
                        "failures": ", ".join(f"{f.get('result_type')} ×{f.get('count')}"
                                              for f in (p.get("failures") or [])[:5])})
    return out


def job_last_ok(engine: Engine, name: str) -> datetime | None:
    return _scalar(engine, sa.select(col(JobState.last_ok_at)).where(col(JobState.name) == name))


def dmarc_summary(engine: Engine, since: datetime, max_reports: int = 5000) -> Row:
    """Who sends as us: per (domain, source IP) the messages, aligned and failing, over recent reports."""
    stmt = (sa.select(col(DmarcReport.domain), col(DmarcReport.org_name), col(DmarcReport.records))
            .where(col(DmarcReport.begin_at) >= since).order_by(col(DmarcReport.begin_at).desc())
            .limit(max_reports))
    total: Counter[tuple[str, str]] = Counter()
    aligned: Counter[tuple[str, str]] = Counter()
    reporters: dict[tuple[str, str], set[str]] = {}
    n = 0
    for rep in _rows(engine, stmt):
        n += 1
        for rec in rep["records"] or []:
            key = (rep["domain"], str(rec.get("source_ip", "?")))
            count = int(rec.get("count", 0) or 0)
            total[key] += count
            if _aligned(rec):
                aligned[key] += count
            reporters.setdefault(key, set()).add(rep["org_name"])
    senders: list[Row] = [
        {"domain": d, "source_ip": ip, "messages": total[(d, ip)], "aligned": aligned[(d, ip)],
         "failing": total[(d, ip)] - aligned[(d, ip)], "reported_by": ", ".join(sorted(reporters[(d, ip)]))}
        for d, ip in total]
    senders.sort(key=lambda r: (-r["failing"], -r["messages"]))
    return {"reports": n, "senders": senders}


def _aligned(rec: Row) -> bool:
    if "aligned" in rec:
        return bool(rec["aligned"])
    # RFC 7489: DMARC passes when either aligned DKIM or aligned SPF passes.
    return str(rec.get("dkim", "")).lower() == "pass" or str(rec.get("spf", "")).lower() == "pass"


# ---------------------------------------------------------------- health


def log_positions(engine: Engine) -> list[Row]:
    return _rows(engine, sa.select(col(LogPosition.description), col(LogPosition.url), col(LogPosition.api),
                                   col(LogPosition.next_index), col(LogPosition.tree_size),
                                   col(LogPosition.verified_at), col(LogPosition.last_growth_at),
                                   col(LogPosition.state), col(LogPosition.last_error),
                                   col(LogPosition.entries_processed), col(LogPosition.entries_failed),
                                   col(LogPosition.behind_since))
                 .order_by(col(LogPosition.description)))


def feed_states(engine: Engine) -> list[Row]:
    """The phishing URL feeds the ``feeds`` job pulls: last answer, last new content, rows, error."""
    return _rows(engine, sa.select(col(FeedState.name), col(FeedState.url), col(FeedState.last_status),
                                   col(FeedState.last_fetch_at), col(FeedState.last_change_at),
                                   col(FeedState.rows_total), col(FeedState.last_error))
                 .order_by(col(FeedState.name)))


def job_states(engine: Engine) -> list[Row]:
    return _rows(engine, sa.select(JobState).order_by(col(JobState.name)))


def job_failures(engine: Engine, limit: int = 50) -> list[Row]:
    """What went wrong, newest first: failed job runs and every error the service logged
    (``watcher.core.errorlog``: a job's exception, a dropped certstream match, a lock error)."""
    return _rows(engine, sa.select(col(Event.at), col(Event.action), col(Event.detail))
                 .where(col(Event.action).in_(("job.failed", "error.logged")))
                 .order_by(col(Event.at).desc()).limit(limit))


def takedown_findings(engine: Engine) -> list[Row]:
    """Takedowns that need a person: a send that failed for good, one that may not have gone out, ..."""
    return open_findings(engine, kinds=TAKEDOWN_KINDS)


def self_findings(engine: Engine) -> list[Row]:
    return open_findings(engine, kinds=SELF_KINDS)


# ---------------------------------------------------------------- CSV exports (streamed in chunks)


EXPORTS: dict[str, tuple[Any, ...]] = {
    "candidates": (Candidate.id, Candidate.domain, Candidate.registrable, Candidate.status, Candidate.verdict,
                   Candidate.source, Candidate.score, Candidate.first_seen_at, Candidate.confirmed_at,
                   Candidate.down_at),
    "requests": (TakedownRequest.id, TakedownRequest.candidate_id, TakedownRequest.recipient,
                 TakedownRequest.recipient_kind, TakedownRequest.channel, TakedownRequest.status,
                 TakedownRequest.created_at, TakedownRequest.sent_at, TakedownRequest.closed_at,
                 TakedownRequest.time_to_down_seconds),
    "owned": (OwnedDomain.id, OwnedDomain.name, OwnedDomain.apex, OwnedDomain.source, OwnedDomain.lapsed,
              OwnedDomain.registrar, OwnedDomain.expires_at, OwnedDomain.dnssec),
    "findings": (Finding.id, Finding.kind, Finding.subject, Finding.severity, Finding.status, Finding.title,
                 Finding.opened_at, Finding.resolved_at),
}


def export_rows(engine: Engine, name: str, chunk: int = 5000) -> Iterator[Sequence[Any]]:
    """Header, then rows in id order, read in keyset chunks so memory stays flat on big tables."""
    cols = EXPORTS[name]
    yield [c.key for c in cols]
    id_col = cols[0]
    last = -1
    while True:
        with engine.connect() as conn:
            batch = list(conn.execute(sa.select(*cols).where(id_col > last).order_by(id_col).limit(chunk)))
        if not batch:
            return
        yield from batch
        last = batch[-1][0]


# ---------------------------------------------------------------- the first view: what needs me now

PERSON_ACTORS = ("cli:", "dashboard:")
IN_FLIGHT = ("confirmed", "reported")
# Status moves the machine makes that a person wants to hear about.
AUTO_MOVES = ("confirmed", "reported", "down")


def needs_me(engine: Engine) -> Row:
    """The counts of the first view: decisions waiting, drafts to approve, takedowns stuck, findings."""
    with engine.connect() as conn:
        waiting = dict(conn.execute(
            sa.select(col(Candidate.verdict), sa.func.count())
            .where(col(Candidate.status).in_(("new", "checked"))).group_by(col(Candidate.verdict))).all())
        drafts = conn.execute(sa.select(sa.func.count()).select_from(TakedownRequest)
                              .where(col(TakedownRequest.status) == RequestStatus.DRAFT)).scalar()
        in_flight = conn.execute(sa.select(sa.func.count()).select_from(Candidate)
                                 .where(col(Candidate.status).in_(IN_FLIGHT))).scalar()
        stuck = conn.execute(sa.select(sa.func.count()).select_from(Finding)
                             .where(col(Finding.status) == FindingStatus.OPEN,
                                    col(Finding.kind).in_(TAKEDOWN_KINDS))).scalar()
    by_verdict = {str(k): int(v) for k, v in waiting.items()}
    likely = sum(n for v, n in by_verdict.items() if v in ("phishing", "suspicious"))
    return {"waiting": sum(by_verdict.values()), "waiting_likely": likely, "drafts": int(drafts or 0),
            "in_flight": int(in_flight or 0), "stuck": int(stuck or 0),
            # The same findings as the owned view lists, so a count and its list agree.
            "owned": dict(Counter(str(r["severity"]) for r in owned_findings(engine)))}


def in_flight(engine: Engine, limit: int = 50) -> list[Row]:
    """Cases confirmed or reported, oldest first (the one waiting longest for its takedown on top)."""
    return _rows(engine, sa.select(col(Candidate.id), col(Candidate.domain), col(Candidate.status),
                                   col(Candidate.score), col(Candidate.verdict), col(Candidate.confirmed_at),
                                   col(Candidate.first_seen_at))
                 .where(col(Candidate.status).in_(IN_FLIGHT))
                 .order_by(col(Candidate.confirmed_at).is_(None), col(Candidate.confirmed_at)).limit(limit))


def auto_handled(engine: Engine, since: datetime, limit: int = 100) -> list[Row]:
    """What the machine moved since ``since``: confirmed by the auto rule, reported, taken down."""
    stmt = (sa.select(col(Event.at), col(Event.actor), col(Event.object_id), col(Event.detail),
                      col(Candidate.domain))
            .join(Candidate, col(Candidate.id) == col(Event.object_id))
            .where(col(Event.action) == "candidate.status", col(Event.object_type) == "candidate",
                   col(Event.at) >= since)
            .order_by(col(Event.at).desc()).limit(limit * 5))
    out = []
    for r in _rows(engine, stmt):
        if r["actor"].startswith(PERSON_ACTORS) or (r["detail"] or {}).get("to") not in AUTO_MOVES:
            continue
        out.append({"at": r["at"], "id": r["object_id"], "domain": r["domain"], "to": r["detail"].get("to"),
                    "actor": r["actor"]})
        if len(out) >= limit:
            break
    return out


def last_looked(engine: Engine, actor: str) -> datetime | None:
    """When this person last opened the first view (its ``dashboard.looked`` Event)."""
    return _scalar(engine, sa.select(sa.func.max(col(Event.at)))
                   .where(col(Event.action) == "dashboard.looked", col(Event.actor) == actor))
