"""Pivots from confirmed cases: one phishing site confirmed shows where its siblings are.

For every open case with a confirmed hostname (``cases.confirmed_cases``), the ``pivots`` job looks for:

- **certificate siblings**: the other names in the certificates its hostnames came in (CT facts);
- **new names under its registrable domain**: watched in CT from then on (``ct.ingest`` asks
  ``cases.watched_sites``), and the ones already known now;
- **the same address or the same name servers** in the enrichment of other candidates (an address or
  a name-server set shared by many candidates — a big host, a CDN, a registrar's parking — is no link);
- **the same page**: the same favicon, the same HTML (ssdeep), or a form posting to the same place, in
  other candidates' captures — the same kit on an unrelated name.

Each becomes (or refreshes) a candidate of the case's brand with the reason "pivot from case N (site):
how", through ``discover`` like every other source.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import ppdeep
from sqlmodel import Session, col, select

from watcher.context import Context
from watcher.core import cases
from watcher.core.models import Brand, Candidate, CandidateStatus, Case, Snapshot, Source
from watcher.core.names import try_normalize
from watcher.core.reasons import Reason
from watcher.core.texts import Text, text
from watcher.discovery.discover import OwnedIndex, Sighting, discover

log = logging.getLogger("omamori.pivots")

POINTS = 40
SAME_HTML = 80  # ssdeep score
# An address or name-server set shared by more candidates than this is infrastructure, not a link.
SHARED_LIMIT = 10
MAX_CASES = 200


@dataclass
class Prints:
    """What a confirmed case looks like from outside: where it lives and what its page is."""

    names: set[str] = field(default_factory=set)  # certificate siblings
    ips: set[str] = field(default_factory=set)
    ns: set[tuple[str, ...]] = field(default_factory=set)
    favicons: set[str] = field(default_factory=set)
    ssdeep: set[str] = field(default_factory=set)
    forms: set[str] = field(default_factory=set)


def _latest(session: Session, cand: Candidate) -> Snapshot | None:
    return session.get(Snapshot, cand.last_snapshot_id) if cand.last_snapshot_id else None


def _ips(snap: Snapshot) -> set[str]:
    records = (snap.dns or {}).get("records") or {}
    return {str(a) for k in ("A", "AAAA") for a in (records.get(k) or [])}


def _ns(snap: Snapshot) -> tuple[str, ...]:
    domain = (snap.rdap or {}).get("domain") or {}
    names = domain.get("nameservers") or ((snap.dns or {}).get("records") or {}).get("NS") or []
    return tuple(sorted({str(n).lower().rstrip(".") for n in names}))


def _forms(snap: Snapshot) -> set[str]:
    out = set()
    for form in (snap.capture or {}).get("forms") or []:
        target = str(form.get("posts_to_host") or "")
        action = str(form.get("action") or "")
        if target and (form.get("has_password") or form.get("has_pin")):
            out.add(f"{target}{action if action.startswith('/') else ''}")
    return out


def prints_of(session: Session, members: list[Candidate]) -> Prints:
    p = Prints()
    for m in members:
        p.names.update(str(n) for n in (m.facts or {}).get("names", []) or [])
        snap = _latest(session, m)
        if snap is None or not snap.reachable:
            continue
        p.ips |= _ips(snap)
        if _ns(snap):
            p.ns.add(_ns(snap))
        if snap.favicon_sha256:
            p.favicons.add(snap.favicon_sha256)
        if (snap.hashes or {}).get("ssdeep"):
            p.ssdeep.add(str(snap.hashes["ssdeep"]))
        p.forms |= _forms(snap)
    return p


def _shared(snapshots: list[Snapshot]) -> tuple[Counter[str], Counter[tuple[str, ...]]]:
    """How many candidates each address and name-server set has (to tell infrastructure from a link)."""
    ips: Counter[str] = Counter()
    ns: Counter[tuple[str, ...]] = Counter()
    for snap in snapshots:
        ips.update(_ips(snap))
        if _ns(snap):
            ns[_ns(snap)] += 1
    return ips, ns


def _latest_snapshots(session: Session) -> list[Snapshot]:
    ids = [i for i in session.exec(select(Candidate.last_snapshot_id).where(
        col(Candidate.last_snapshot_id).is_not(None))) if i is not None]
    return list(session.exec(select(Snapshot).where(col(Snapshot.id).in_(ids)))) if ids else []


def how_linked(p: Prints, snap: Snapshot, ips: Counter[str], ns: Counter[tuple[str, ...]]) -> Text | None:
    """Why ``snap``'s site is linked to the case, or None."""
    if snap.favicon_sha256 and snap.favicon_sha256 in p.favicons:
        return text("discovery.pivot_favicon", sha=snap.favicon_sha256[:16])
    h = str((snap.hashes or {}).get("ssdeep") or "")
    if h:
        for other in p.ssdeep:
            try:
                score = ppdeep.compare(h, other)
            except (ValueError, TypeError, IndexError):  # a hostile page's hash: no link, no crash
                score = 0
            if score >= SAME_HTML:
                return text("discovery.pivot_html", score=score)
    forms = _forms(snap) & p.forms
    if forms:
        return text("discovery.pivot_form", target=sorted(forms)[0])
    for ip in sorted(_ips(snap) & p.ips):
        if ips[ip] <= SHARED_LIMIT:
            return text("discovery.pivot_ip", ip=ip)
    servers = _ns(snap)
    if servers and servers in p.ns and ns[servers] <= SHARED_LIMIT:
        return text("discovery.pivot_ns", ns=", ".join(servers))
    return None


def _sight(session: Session, name: str, case: Case, slug: str | None, how: Text, owned: OwnedIndex,
           ctx: Context) -> bool:
    reason = Reason.said("pivot", text("discovery.pivot", case=case.id, site=case.site_key, how=how), POINTS, "pivot")
    out = discover(session, Sighting(name, Source.PIVOT, brand=slug, reasons=[reason],
                                     facts={"pivot_case": case.id}), owned, now=ctx.now(), actor="pivots")
    return out.created


def run(ctx: Context) -> dict[str, Any]:
    """The ``pivots`` job: every confirmed case's siblings, as candidates of its brand."""
    summary = {"cases": 0, "linked": 0, "created": 0}
    with Session(ctx.engine, expire_on_commit=False) as s:
        owned = OwnedIndex.from_brands(ctx.brands, s)
        slugs = {b.id: b.slug for b in s.exec(select(Brand))}
        others = [c for c in s.exec(select(Candidate).where(Candidate.status != CandidateStatus.DISMISSED))]
        # Read once for every case: each candidate's site and its latest live capture.
        snaps = {snap.id: snap for snap in _latest_snapshots(s) if snap.reachable}
        site_of = {c.id: cases.site_of(c.domain) for c in others}
        ips, ns = _shared(list(snaps.values()))
        for case in cases.confirmed_cases(s)[:MAX_CASES]:
            summary["cases"] += 1
            members = cases.members(s, case)
            mine = {m.id for m in members}
            slug = slugs.get(case.brand_id) if case.brand_id else None
            p = prints_of(s, members)
            site = cases.site_of(case.site_key)
            for name in sorted(p.names):
                n = try_normalize(name)
                if n is None or n.ascii in {m.domain for m in members} or owned.owner_of(n.ascii):
                    continue
                summary["linked"] += 1
                summary["created"] += _sight(s, n.ascii if not n.wildcard else name, case, slug,
                                             text("discovery.pivot_cert"), owned, ctx)
            for c in others:
                if c.id in mine or c.case_id == case.id:
                    continue
                how: Text | None = None
                if site and site_of[c.id] == site:
                    how = text("discovery.pivot_registrable", registrable=site)
                else:
                    snap = snaps.get(c.last_snapshot_id) if c.last_snapshot_id else None
                    how = how_linked(p, snap, ips, ns) if snap is not None else None
                if how is not None:
                    summary["linked"] += 1
                    _sight(s, c.domain, case, slug, how, owned, ctx)
        s.commit()
    return summary
