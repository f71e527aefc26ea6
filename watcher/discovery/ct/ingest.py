"""What happens to a certificate that matched: the same for direct log reading and certstream.

Every certificate that names one of the firm's own domains (any subdomain, any CA) is recorded
against the inventory (OwnedCertificate) and its names go to the inventory (OwnedDomain, source ct),
so the firm sees what certspotter users see: an issuer not on the brand's allowed list opens a
``cert_issuer`` Finding (high); an allowed CA for a name never seen before opens ``cert_new_name``
(low), and an allowed CA issuing for a domain of ours for the first time ``cert_new_issuer`` (low).
Any other match goes through
``discover`` (the single door) with the certificate's facts, and a ``ct.matched`` Event records
which log entry it came from (the audit trail, and how the tests prove "exactly once").
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from watcher.core import cases
from watcher.core.brands import add_owned
from watcher.core.events import record
from watcher.core.findings import open_finding
from watcher.core.models import (
    Brand,
    FindingKind,
    OwnedCertificate,
    OwnedDomain,
    OwnedSource,
    Severity,
    Source,
)
from watcher.core.names import registrable
from watcher.core.reasons import Reason
from watcher.core.texts import text
from watcher.discovery.ct.matcher import Match, Matcher
from watcher.discovery.discover import OwnedIndex, Sighting, discover

WATCH_TTL = 60.0
POINTS_PIVOT = 40


@dataclass
class Hit:
    """One certificate with at least one matching name."""

    matches: list[Match]
    facts: dict[str, Any]  # issuer, dates, serial, log, index, names, precert...
    der: bytes = b""  # the certificate, kept as evidence if writing this hit fails


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _certificate(session: Session, hit: Hit, name: str, apex: str, brand_id: int | None, allowed: bool,
                 now: datetime) -> tuple[OwnedCertificate | None, bool]:
    """Record the certificate against ``name`` (once per certificate: a precertificate and its final
    certificate share issuer and serial); (row if new, whether its issuer is new for ``apex``)."""
    f = hit.facts
    issuer, issuer_org, serial = str(f.get("issuer") or ""), str(f.get("issuer_org") or ""), str(f.get("serial") or "")
    fingerprint = (f"{issuer_org}|{issuer}|{serial}" if serial else str(f.get("sha256") or ""))[:200]
    if session.exec(select(OwnedCertificate.id).where(OwnedCertificate.name == name,
                                                      OwnedCertificate.fingerprint == fingerprint)).first():
        return None, False
    before = set(session.exec(select(OwnedCertificate.issuer_org, OwnedCertificate.issuer)
                              .where(OwnedCertificate.apex == apex)).all())
    new_issuer = bool(before) and not any(o == issuer_org and i == issuer for o, i in before) \
        and not any(issuer_org and o == issuer_org for o, _ in before)
    index = f.get("index")
    row = OwnedCertificate(name=name, apex=apex, brand_id=brand_id, issuer=issuer[:500], issuer_org=issuer_org[:255],
                           allowed=allowed, serial=serial[:128], fingerprint=fingerprint,
                           not_before=_when(f.get("not_before")), not_after=_when(f.get("not_after")),
                           log=str(f.get("log") or "")[:500], log_index=index if isinstance(index, int) else None,
                           precert=bool(f.get("precert")), names=[str(n) for n in (f.get("names") or [])][:100],
                           first_seen_at=now)
    session.add(row)
    session.flush()
    return row, new_issuer


def issuer_allowed(facts: dict[str, Any], allowed: tuple[str, ...]) -> bool:
    if not allowed:
        return True
    text = f"{facts.get('issuer', '')} {facts.get('issuer_org', '')}".lower()
    return any(a.lower() in text for a in allowed)


class Ingest:
    def __init__(self, matcher: Matcher, source: Source, *, actor: str = "ct", engine: Engine | None = None) -> None:
        self.matcher = matcher
        self.source = source
        self.actor = actor
        # Registrable domains of confirmed cases: every new name under them is a pivot (re-read
        # from the database every WATCH_TTL seconds, so a case confirmed now is watched soon).
        self.engine = engine
        self.watched: dict[str, tuple[str, int]] = {}
        self._watched_at = -WATCH_TTL

    def match_names(self, names: list[str]) -> list[Match]:
        if self.engine is not None and time.monotonic() - self._watched_at >= WATCH_TTL:
            self.refresh_watch()
        out = []
        for n in names:
            m = self.matcher.match(n)
            if m is None and self.watched:
                m = self._pivot(n)
            if m is not None:
                out.append(m)
        return out

    def refresh_watch(self) -> None:
        if self.engine is None:
            return
        self._watched_at = time.monotonic()
        with Session(self.engine) as s:
            slugs = {b.id: b.slug for b in s.exec(select(Brand))}
            self.watched = {site: (slugs.get(bid, "") if bid else "", cid)
                            for site, (bid, cid) in cases.watched_sites(s).items()}

    def _pivot(self, name: str) -> Match | None:
        base = name[2:] if name.startswith("*.") else name
        labels = base.lower().rstrip(".").split(".")
        for i in range(1, len(labels) - 1):
            site = ".".join(labels[i:])
            hit = self.watched.get(site)
            if hit is not None:
                slug, case_id = hit
                how = text("discovery.pivot_registrable", registrable=site)
                reason = Reason.said("pivot", text("discovery.pivot", case=case_id, site=site, how=how), POINTS_PIVOT)
                return Match(slug, [reason], POINTS_PIVOT, name=base, wildcard=name.startswith("*."))
        return None

    def apply(self, session: Session, hits: list[Hit], now: datetime) -> dict[str, Any]:
        """Write the hits of one batch (the caller commits, with the log position)."""
        counts: dict[str, Any] = {"matched": 0, "candidates": 0, "owned": 0, "issuer_findings": 0,
                                  "owned_certificates": 0, "new_name_findings": 0, "created_ids": []}
        if not hits:
            return counts
        owned_index = OwnedIndex.from_brands([], session)
        owned_index = OwnedIndex([*owned_index.domains, *self.matcher.owned])
        brand_rows: dict[str, Brand | None] = {}

        def brand(slug: str) -> Brand | None:
            if slug not in brand_rows:
                brand_rows[slug] = session.exec(select(Brand).where(Brand.slug == slug)).first()
            return brand_rows[slug]

        for hit in hits:
            for m in hit.matches:
                counts["matched"] += 1
                where = {"log": hit.facts.get("log", ""), "index": hit.facts.get("index"), "name": m.name,
                         "brand": m.brand, "source": self.source.value}
                if m.owned:
                    if m.group:
                        continue
                    self._owned(session, hit, m, brand(m.brand), now, counts)
                    record(session, self.actor, "ct.owned_seen", None, where, at=now)
                    continue
                name = ("*." if m.wildcard else "") + m.name
                reasons = [Reason(r.kind, r.detail, r.points, self.source.value) for r in m.reasons]
                out = discover(session, Sighting(name, self.source, brand=m.brand, reasons=reasons,
                                                 facts=dict(hit.facts), seen_at=now), owned_index, now=now,
                               actor=self.actor)
                if out.created:
                    counts["candidates"] += 1
                    if out.candidate is not None and out.candidate.id is not None:
                        counts["created_ids"].append(out.candidate.id)
                record(session, self.actor, "ct.matched", out.candidate, {**where, "points": m.points}, at=now)
        return counts

    def _owned(self, session: Session, hit: Hit, m: Match, row: Brand | None, now: datetime,
               counts: dict[str, int]) -> None:
        """A certificate for a name of ours: the inventory, the certificate record, and its findings."""
        f = hit.facts
        brand_id = row.id if row else None
        known = session.exec(select(OwnedDomain.id).where(OwnedDomain.name == m.name)).first() is not None
        if row is not None and add_owned(session, row, m.name, OwnedSource.CT, actor=self.actor):
            counts["owned"] += 1
        allowed = issuer_allowed(f, self.matcher.allowed_issuers(m.brand))
        apex = registrable(m.name) or m.name
        cert, new_issuer = _certificate(session, hit, ("*." if m.wildcard else "") + m.name, apex, brand_id, allowed, now)
        if cert is None:
            return  # this certificate was already recorded for this name (precertificate, other log)
        counts["owned_certificates"] += 1
        issuer = str(f.get("issuer_org") or f.get("issuer") or "?")
        facts = {k: f.get(k) for k in ("issuer", "issuer_org", "serial", "not_before", "not_after", "log", "index",
                                       "precert", "names")}
        params = {"log": f.get("log") or "-", "index": f.get("index") if f.get("index") is not None else "-"}
        if not allowed:
            open_finding(session, FindingKind.CERT_ISSUER, m.name,
                         text("owned.cert_issuer.title", name=m.name, issuer=f.get("issuer") or issuer),
                         severity=Severity.HIGH, brand_id=brand_id, now=now, actor=self.actor, data=facts,
                         detail=text("owned.cert_issuer.detail", names=", ".join(map(str, f.get("names") or []))[:300],
                                     **params))
            counts["issuer_findings"] += 1
            return
        if not known and not m.wildcard:
            open_finding(session, FindingKind.CERT_NEW_NAME, m.name,
                         text("owned.cert_new_name.title", name=m.name, issuer=issuer), severity=Severity.LOW,
                         brand_id=brand_id, now=now, actor=self.actor, data=facts,
                         detail=text("owned.cert_new_name.detail", name=m.name, issuer=issuer, **params))
            counts["new_name_findings"] += 1
        if new_issuer:
            open_finding(session, FindingKind.CERT_NEW_ISSUER, f"{apex} {issuer}"[:253],
                         text("owned.cert_new_issuer.title", apex=apex, issuer=issuer), severity=Severity.LOW,
                         brand_id=brand_id, now=now, actor=self.actor, data=facts,
                         detail=text("owned.cert_new_issuer.detail", name=m.name, issuer=issuer, **params))
