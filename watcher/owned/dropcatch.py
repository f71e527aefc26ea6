"""Drop-catch watch (guideline IV.4(4)②): domains the firm let go, re-registered by someone else.

A lapsed domain still carries the firm's name in old mails, bookmarks, printed material and search
results, so whoever registers it inherits that trust. Each lapsed domain (``lapsed_domains`` in the
brands file) is looked up in RDAP/WHOIS and DNS every run; when it is registered again — a creation
date after ours, a new registrar, or simply DNS appearing — a Finding opens and the domain becomes a
Candidate (source ``dropcatch``) so it is captured, scored and, if it phishes, taken down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import select

from watcher.core.models import Brand, FindingKind, OwnedDomain, Severity, Source
from watcher.core.reasons import Reason
from watcher.core.texts import Text, text
from watcher.discovery.discover import OwnedIndex, Sighting, discover

if TYPE_CHECKING:
    from watcher.owned.checks import CheckRun

# Statuses of a registration that is still winding down (RFC 8056 words): not yet someone else's.
WINDING_DOWN = ("redemption period", "pending delete", "pending restore", "auto renew period")
DROPCATCH_POINTS = 60


def _reregistered(d: OwnedDomain, reg: Any, dns_live: bool) -> tuple[bool, list[Text]]:
    """Whether the lapsed domain is held by someone new, and the facts that say so."""
    why: list[Text] = []
    if reg.exists:
        statuses = {s.lower() for s in reg.statuses}
        if statuses & set(WINDING_DOWN):
            return False, [text("owned.dropcatch.winding_down",
                                statuses=", ".join(sorted(statuses & set(WINDING_DOWN))))]
        if d.registered_at and reg.created_at and reg.created_at <= d.registered_at:
            return False, [text("owned.dropcatch.still_ours")]
        if reg.created_at:
            why.append(text("owned.dropcatch.registered_on", date=f"{reg.created_at:%Y-%m-%d}"))
        if reg.registrar and reg.registrar != d.registrar:
            why.append(text("owned.dropcatch.registrar", registrar=reg.registrar))
        if d.registration.get("seen_available"):
            why.append(text("owned.dropcatch.was_available"))
        if dns_live:
            why.append(text("owned.dropcatch.dns_answers"))
        return True, why or [text("owned.dropcatch.registered")]
    if dns_live and not reg.error:
        return False, []
    if dns_live:  # RDAP/WHOIS failed, but names resolve: someone operates it
        return True, [text("owned.dropcatch.dns_answers_lookup_failed", error=reg.error[:100])]
    return False, []


def check_dropcatch(run: CheckRun) -> None:
    lapsed = list(run.session.exec(select(OwnedDomain).where(OwnedDomain.lapsed == True)))  # noqa: E712
    if not lapsed:
        return
    profiles = run.gather({d.name: run.ctx.resolver.profile(d.name, ("A", "AAAA", "MX", "NS")) for d in lapsed})
    brands = {b.id: b for b in run.session.exec(select(Brand))}
    owned = OwnedIndex.from_brands(run.ctx.brands, run.session)
    for d in lapsed:
        kind, subject = FindingKind.DROPCATCH, d.name
        reg = run.registration(d.name)
        prof = profiles.get(d.name)
        dns = {} if isinstance(prof, BaseException) or prof is None else prof.records
        dns_live = any(dns.get(t) for t in ("A", "AAAA", "MX"))
        if reg.error and not reg.exists and not dns_live:
            run.error(kind, subject, reg.error)
            continue
        taken, why = _reregistered(d, reg, dns_live)
        state = dict(d.registration)
        state.setdefault("watch_started_at", run.now.isoformat())
        state["last"] = reg.as_dict() if hasattr(reg, "as_dict") else {}
        state["dns"] = dns
        if not reg.exists and not reg.error:
            state["seen_available"] = True
        d.registration = state
        d.last_checked_at = run.now
        run.session.add(d)
        if not taken:
            run.ok(kind, subject, note="; ".join(map(str, why)))
            continue
        brand = brands.get(d.brand_id) if d.brand_id is not None else None
        facts = {"registrar": reg.registrar, "created_at": reg.created_at.isoformat() if reg.created_at else None,
                 "nameservers": list(reg.nameservers), "dns": dns, "lapsed_domain": True}
        reason = Reason.said("dropcatch", text("discovery.dropcaught", name=d.name, why=why),
                             DROPCATCH_POINTS, Source.DROPCATCH.value)
        out = discover(run.session, Sighting(d.name, Source.DROPCATCH, brand=brand.slug if brand else None,
                                             reasons=[reason], facts=facts), owned, now=run.now, actor=run.ctx.actor)
        if out.created:
            run.counts["dropcatch_candidates"] += 1
        run.fail(kind, subject, text("owned.dropcatch.title", domain=d.name),
                 severity=Severity.HIGH, brand_id=d.brand_id,
                 data={**facts, "why": [str(w) for w in why],
                       "candidate_id": out.candidate.id if out.candidate else None},
                 detail=text("owned.dropcatch.detail", why=why))
