"""One case per site: which hostnames are the same phishing site, so that it gets one set of takedown
requests and counts once in reports.

The rule, in two steps:

1. **www. and bare name.** A host and the same host with ``www.`` (or ``www2.``…) in front are one
   site: the case is keyed by the host without it (``site_key``), so whichever is seen first, the
   other finds the same case. This holds from the first sighting, before anything is captured.
2. **The same page under one registrable domain.** Two hostnames under one registrable domain (a
   private suffix such as ``github.io`` counts as a suffix: two users of a free host are not one
   site) whose captures show the same page — the same HTML, an HTML fuzzy hash (ssdeep) of 90 or
   more, or both redirecting to the same final address — are one site: the younger case is merged
   into the older one (``CaseStatus.MERGED``, ``merged_into_id``) and the join is kept in ``joins``
   with its reason. A page under another registrable domain is never merged (that is a pivot, a new
   site of the same kit, with its own registrar to ask).

A case is OPEN while any of its hostnames may be up, CLOSED when every one is down or dismissed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import ppdeep
from sqlmodel import Session, col, select

from watcher.core.events import record
from watcher.core.models import Candidate, CandidateStatus, Case, CaseStatus, Snapshot, utcnow
from watcher.core.names import InvalidName, normalize_host

_WWW = re.compile(r"^www\d{0,2}\.(?=[^.]+\.)")
SAME_HTML_SSDEEP = 90
ENDED = (CandidateStatus.DOWN, CandidateStatus.DISMISSED)


def site_key(domain: str) -> str:
    """``www.example.top`` and ``example.top`` -> ``example.top``; never strips down to a public suffix."""
    key = _WWW.sub("", domain.lower().rstrip("."))
    try:
        n = normalize_host(key)
    except InvalidName:
        return domain.lower()
    return key if n.is_ip or n.registrable else domain.lower()


def site_of(domain: str) -> str:
    """The registrable domain, private suffixes included (``alice.github.io``): where rule 2 may merge."""
    try:
        n = normalize_host(domain)
    except InvalidName:
        return domain.lower()
    return n.site or n.registrable or n.ascii


def resolve(session: Session, case: Case) -> Case:
    """Follow merges to the case that holds the site now."""
    seen = set()
    while case.merged_into_id is not None and case.id not in seen:
        seen.add(case.id)
        nxt = session.get(Case, case.merged_into_id)
        if nxt is None:
            break
        case = nxt
    return case


def case_of(session: Session, cand: Candidate) -> Case | None:
    if cand.case_id is None:
        return None
    case = session.get(Case, cand.case_id)
    return resolve(session, case) if case is not None else None


def assign(session: Session, cand: Candidate, *, now: datetime | None = None, actor: str = "system") -> Case:
    """Put ``cand`` (stored, with an id) in the case of its site, creating the case if it is the first."""
    existing = case_of(session, cand)
    if existing is not None:
        return existing
    now = now or utcnow()
    key = site_key(cand.domain)
    case = session.exec(select(Case).where(Case.site_key == key)).first()
    if case is None:
        case = Case(brand_id=cand.brand_id, site_key=key, registrable=cand.registrable, opened_at=now)
        session.add(case)
        session.flush()
        record(session, actor, "case.opened", case, {"site": key, "candidate": cand.domain}, at=now)
    else:
        case = resolve(session, case)
        if case.brand_id is None and cand.brand_id is not None:
            case.brand_id = cand.brand_id
        record(session, actor, "case.joined", case, {"candidate": cand.domain, "why": "www"}, at=now)
    cand.case_id = case.id
    session.add(cand)
    if case.status == CaseStatus.CLOSED and cand.status not in ENDED:
        _set_status(session, case, CaseStatus.OPEN, now, actor)
    return case


def members(session: Session, case: Case) -> list[Candidate]:
    """Every candidate of the case (after merges), oldest first."""
    ids = [case.id, *[c.id for c in session.exec(select(Case).where(Case.merged_into_id == case.id))]]
    return list(session.exec(select(Candidate).where(col(Candidate.case_id).in_(ids)).order_by(col(Candidate.id))))


def siblings(session: Session, cand: Candidate) -> list[Candidate]:
    """The other hostnames of the same site."""
    case = case_of(session, cand)
    if case is None:
        return []
    return [c for c in members(session, case) if c.id != cand.id]


def refresh_status(session: Session, cand: Candidate, *, now: datetime | None = None,
                   actor: str = "system") -> None:
    """After a candidate's status moved: the case is closed when every hostname is down or dismissed."""
    case = case_of(session, cand)
    if case is None:
        return
    ended = all(c.status in ENDED for c in members(session, case))
    want = CaseStatus.CLOSED if ended else CaseStatus.OPEN
    if case.status != want:
        _set_status(session, case, want, now or utcnow(), actor)


def _set_status(session: Session, case: Case, status: CaseStatus, now: datetime, actor: str) -> None:
    old = case.status
    case.status = status
    case.closed_at = now if status == CaseStatus.CLOSED else None
    session.add(case)
    record(session, actor, "case.status", case, {"from": old.value, "to": status.value}, at=now)


# ---------------------------------------------------------------- confirmed cases, for pivots

CONFIRMED = (CandidateStatus.CONFIRMED, CandidateStatus.REPORTED)


def confirmed_cases(session: Session) -> list[Case]:
    """Open cases with a hostname a person (or the auto rule) confirmed as phishing."""
    ids = {c for c in session.exec(select(Candidate.case_id).where(col(Candidate.status).in_(CONFIRMED)))
           if c is not None}
    out: dict[int, Case] = {}
    for cid in ids:
        case = session.get(Case, cid)
        if case is not None:
            case = resolve(session, case)
            if case.status == CaseStatus.OPEN and case.id is not None:
                out[case.id] = case
    return [out[k] for k in sorted(out)]


def watched_sites(session: Session) -> dict[str, tuple[int | None, int]]:
    """Registrable domain -> (brand id, case id) of every confirmed case: new names under them (in CT,
    from then on) are pivots. Free-hosting sites are keyed by the private suffix (``alice.github.io``),
    never the shared registrable domain."""
    out: dict[str, tuple[int | None, int]] = {}
    for case in confirmed_cases(session):
        site = site_of(case.site_key)
        if site and case.id is not None:
            out.setdefault(site, (case.brand_id, case.id))
    return out


# ---------------------------------------------------------------- rule 2: the same page


def same_page(a: Snapshot, b: Snapshot) -> str:
    """Why two captures show the same page, or "" (not the same, or either not a live page)."""
    if not (a.reachable and b.reachable) or a.gone or b.gone:
        return ""
    if a.html_sha256 and a.html_sha256 == b.html_sha256:
        return "the same HTML (sha256)"
    fa, fb = _final(a), _final(b)
    if fa and fa == fb:
        return f"both end at {fa}"
    ha, hb = str((a.hashes or {}).get("ssdeep") or ""), str((b.hashes or {}).get("ssdeep") or "")
    if ha and hb:
        try:
            score = ppdeep.compare(ha, hb)
        except (ValueError, TypeError, IndexError):  # a hostile page's hash is data, never a crash
            score = 0
        if score >= SAME_HTML_SSDEEP:
            return f"the same HTML (ssdeep {score})"
    return ""


def _final(snap: Snapshot) -> str:
    url = str((snap.capture or {}).get("final_url") or "")
    parts = urlsplit(url)
    return f"{parts.hostname}{parts.path}" if parts.hostname else ""


def join_same_page(session: Session, cand: Candidate, snap: Snapshot, *, now: datetime | None = None,
                   actor: str = "system") -> Case | None:
    """Rule 2 after a new snapshot: merge ``cand``'s case with another hostname's case under the same
    registrable domain that shows the same page. Returns the case that holds both, or None."""
    mine = case_of(session, cand)
    if mine is None or not snap.reachable:
        return None
    site = site_of(cand.domain)
    now = now or utcnow()
    others = session.exec(select(Candidate).where(Candidate.registrable == cand.registrable,
                                                  Candidate.id != cand.id,
                                                  col(Candidate.last_snapshot_id).is_not(None)))
    for other in others:
        theirs = case_of(session, other)
        if theirs is None or theirs.id == mine.id or site_of(other.domain) != site:
            continue
        osnap = session.get(Snapshot, other.last_snapshot_id)
        why = same_page(snap, osnap) if osnap is not None else ""
        if why:
            return merge(session, keep=min(mine, theirs, key=lambda c: c.id or 0),
                         gone=max(mine, theirs, key=lambda c: c.id or 0), why=why, now=now, actor=actor)
    return None


def merge(session: Session, *, keep: Case, gone: Case, why: str, now: datetime, actor: str) -> Case:
    """Move every hostname of ``gone`` into ``keep``; ``gone`` stays as a MERGED pointer (its key still
    finds the site)."""
    moved = members(session, gone)
    for c in moved:
        c.case_id = keep.id
        session.add(c)
    for old in session.exec(select(Case).where(Case.merged_into_id == gone.id)):
        old.merged_into_id = keep.id
        session.add(old)
    joins: list[dict[str, Any]] = [{"domain": c.domain, "why": why, "at": now.isoformat()} for c in moved]
    keep.joins = [*keep.joins, *joins]
    if keep.brand_id is None:
        keep.brand_id = gone.brand_id
    gone.status, gone.merged_into_id, gone.closed_at = CaseStatus.MERGED, keep.id, now
    session.add(keep)
    session.add(gone)
    session.flush()
    record(session, actor, "case.merged", keep, {"from_case": gone.id, "domains": [c.domain for c in moved],
                                                 "why": why}, at=now)
    if keep.status == CaseStatus.CLOSED and any(c.status not in ENDED for c in moved):
        _set_status(session, keep, CaseStatus.OPEN, now, actor)
    return keep
