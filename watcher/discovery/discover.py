"""The single door through which every source creates or refreshes a Candidate.

CT, certstream, permutations, reports, feeds and drop-catch all call ``discover``. It normalises the
name, refuses the firm's own and group names, merges reasons and sources, keeps the first sighting's
facts, and schedules a check. Idempotent: the same sighting twice changes nothing but ``last_seen_at``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, select

from watcher.core import cases
from watcher.core.brands import BrandSpec
from watcher.core.events import record
from watcher.core.models import Brand, Candidate, CandidateStatus, OwnedDomain, Source, utcnow
from watcher.core.names import InvalidName, Name, is_within, normalize_host
from watcher.core.reasons import Reason
from watcher.discovery.urlpath import brand_in_path, path_reason


@dataclass
class Sighting:
    """One source saw one name (or URL) that may impersonate a brand."""

    name: str  # a host name, an IP, or a full URL
    source: Source
    brand: str | None = None  # brand slug
    reasons: list[Reason] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    seen_at: datetime | None = None


@dataclass
class Outcome:
    candidate: Candidate | None
    created: bool = False
    skipped: str = ""  # why nothing was recorded (our own name, invalid name)


class OwnedIndex:
    """Names that are ours or our group's: never candidates."""

    def __init__(self, domains: Iterable[str], brands: Iterable[BrandSpec] = ()) -> None:
        self.domains = sorted({d.lower() for d in domains}, key=len)
        self.brands = list(brands)  # for the brand in a reported URL's path

    @classmethod
    def from_brands(cls, brands: Iterable[BrandSpec], session: Session | None = None) -> OwnedIndex:
        names: set[str] = set()
        for b in brands:
            names.update(b.official_domains, b.official_hosts, b.group_domains)
        if session is not None:
            rows = session.exec(select(OwnedDomain.name).where(OwnedDomain.lapsed == False))  # noqa: E712
            names.update(rows)
        return cls(names, brands)

    def owner_of(self, name: str) -> str | None:
        for d in self.domains:
            if is_within(name, d):
                return d
        return None


def host_of(name_or_url: str) -> tuple[Name, str | None]:
    """Split a sighting into its normalised host and, for URLs, the URL itself."""
    text = name_or_url.strip()
    if "://" in text or text.startswith("//"):
        parts = urlsplit(text if "://" in text else "http:" + text)
        if not parts.hostname:
            raise InvalidName(f"{name_or_url!r}: URL without a host")
        return normalize_host(parts.hostname), text
    if "/" in text:
        # "host/path" as people paste it
        return host_of("http://" + text)
    return normalize_host(text), None


def _brand_id(session: Session, slug: str | None) -> int | None:
    if not slug:
        return None
    return session.exec(select(Brand.id).where(Brand.slug == slug)).first()


def merge_reasons(old: list[dict[str, Any]], new: Iterable[Reason]) -> list[dict[str, Any]]:
    seen = {(r["kind"], r["detail"]) for r in old}
    out = list(old)
    for r in new:
        if (r.kind, r.detail) not in seen:
            seen.add((r.kind, r.detail))
            out.append(r.as_dict())
    return out


# Sources whose URLs someone reported: their path and query may name the brand.
REPORTED = frozenset({Source.REPORT, Source.FEED, Source.MANUAL})


def _with_path_reason(sighting: Sighting, url: str, owned: OwnedIndex) -> Sighting:
    hit = brand_in_path(url, owned.brands)
    if hit is None or (sighting.brand and hit.brand != sighting.brand):
        return sighting
    reason = path_reason(hit, sighting.source.value)
    return replace(sighting, brand=sighting.brand or hit.brand, reasons=[*sighting.reasons, reason])


def discover(
    session: Session,
    sighting: Sighting,
    owned: OwnedIndex,
    *,
    now: datetime | None = None,
    actor: str = "system",
) -> Outcome:
    """Create the Candidate a sighting names, or refresh it; refuse our own names and invalid ones."""
    now = sighting.seen_at or now or utcnow()
    try:
        name, url = host_of(sighting.name)
    except InvalidName as e:
        record(session, actor, "discover.rejected", None, {"name": sighting.name[:300], "error": str(e),
                                                            "source": sighting.source.value}, at=now)
        return Outcome(None, skipped=str(e))
    owner = owned.owner_of(name.ascii)
    if owner:
        return Outcome(None, skipped=f"{name.ascii} is ours ({owner})")
    if url and sighting.source in REPORTED:
        sighting = _with_path_reason(sighting, url, owned)
    facts = dict(sighting.facts)
    if name.wildcard:
        facts.setdefault("wildcard", True)
    cand = session.exec(select(Candidate).where(Candidate.domain == name.ascii)).first()
    if cand is None:
        return Outcome(_create(session, sighting, name, url, facts, now, actor), created=True)
    _refresh(session, cand, sighting, url, facts, now, actor)
    return Outcome(cand, created=False)


def _create(session: Session, sighting: Sighting, name: Name, url: str | None, facts: dict[str, Any],
            now: datetime, actor: str) -> Candidate:
    cand = Candidate(
        domain=name.ascii,
        registrable=name.registrable or name.ascii,
        unicode=name.unicode,
        brand_id=_brand_id(session, sighting.brand),
        source=sighting.source,
        sources=[sighting.source.value],
        reasons=merge_reasons([], sighting.reasons),
        urls=[url] if url else [],
        facts=facts,
        first_seen_at=now,
        last_seen_at=now,
        status_changed_at=now,
        next_check_at=now,
    )
    cand.match_points = sum(r["points"] for r in cand.reasons)
    session.add(cand)
    session.flush()
    cases.assign(session, cand, now=now, actor=actor)
    record(session, actor, "candidate.discovered", cand,
           {"source": sighting.source.value, "brand": sighting.brand,
            "reasons": [r.detail for r in sighting.reasons], "url": url}, at=now)
    return cand


def _refresh(session: Session, cand: Candidate, sighting: Sighting, url: str | None, facts: dict[str, Any],
             now: datetime, actor: str) -> None:
    """Merge a new sighting into a known candidate: sources, reasons, URLs, first facts kept."""
    changed = False
    if sighting.source.value not in cand.sources:
        cand.sources = [*cand.sources, sighting.source.value]
        changed = True
    reasons = merge_reasons(cand.reasons, sighting.reasons)
    if len(reasons) != len(cand.reasons):
        cand.reasons = reasons
        cand.match_points = sum(r["points"] for r in reasons)
        changed = True
    if url and url not in cand.urls:
        cand.urls = [*cand.urls, url]
        changed = True
    if cand.brand_id is None and sighting.brand:
        cand.brand_id = _brand_id(session, sighting.brand)
    if cand.case_id is None:
        cases.assign(session, cand, now=now, actor=actor)
    new_facts = {k: v for k, v in facts.items() if k not in cand.facts}
    if new_facts:
        cand.facts = {**cand.facts, **new_facts}
    cand.last_seen_at = max(cand.last_seen_at, now)
    if changed and cand.status in (CandidateStatus.DOWN, CandidateStatus.WATCHING):
        # A new certificate or report for a site we thought gone or idle: look again soon.
        cand.next_check_at = now
    session.add(cand)
    if changed:
        record(session, actor, "candidate.sighted", cand,
               {"source": sighting.source.value, "reasons": [r.detail for r in sighting.reasons], "url": url},
               at=now)
