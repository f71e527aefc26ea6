"""What happens to a certificate that matched: the same for direct log reading and certstream.

A name of the firm's own goes to the inventory (OwnedDomain, source ct) and, when its issuer is not
on the brand's allowed list, opens a ``cert_issuer`` Finding; any other match goes through
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
from watcher.core.models import Brand, FindingKind, OwnedSource, Severity, Source
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
                                  "created_ids": []}
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
                    row = brand(m.brand)
                    if row is not None and add_owned(session, row, m.name, OwnedSource.CT, actor=self.actor):
                        counts["owned"] += 1
                    if not issuer_allowed(hit.facts, self.matcher.allowed_issuers(m.brand)):
                        open_finding(session, FindingKind.CERT_ISSUER, m.name,
                                     f"certificate for {m.name} from an unexpected issuer: {hit.facts.get('issuer')}",
                                     severity=Severity.HIGH, brand_id=row.id if row else None, now=now,
                                     detail=f"log {hit.facts.get('log')} entry {hit.facts.get('index')}",
                                     data={k: hit.facts.get(k) for k in ("issuer", "issuer_org", "serial", "not_before",
                                                                          "log", "index", "precert", "names")},
                                     actor=self.actor)
                        counts["issuer_findings"] += 1
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
