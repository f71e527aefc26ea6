"""The inventory of owned domains and the checks over it (guideline IV.4(4)① and ②).

Sources of owned names (``SOURCES``): the brands file (already synced into OwnedDomain by
``brands sync``), the firm's own CT certificates (rows the CT reader adds, with every certificate in
OwnedCertificate), BIND zone files (``inventory.zone_files``), zone transfers from the firm's own name
servers (``inventory.axfr``) and DNS (apex, www, MX and NS hosts inside our own domains). A name that
no source sees any more (not configured, in no zone, not in DNS, no valid certificate) is marked gone
(``gone_at``), never deleted; it comes back when a source sees it again.

Checks (``CHECKS``) are plain functions ``(run: CheckRun) -> None``. Each opens a Finding when its
condition fails and resolves the same (kind, subject) when it passes; one failing domain or one
crashing check is recorded and the rest go on.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from watcher.context import Context
from watcher.core.brands import add_owned
from watcher.core.events import record
from watcher.core.models import OwnedCertificate, OwnedDomain, OwnedSource
from watcher.core.names import is_within
from watcher.owned import axfr, dropcatch, hygiene, published, registration, shortcode, takeover, zonefile
from watcher.owned.checks import Check, CheckRun, run_checks

# --- sources -------------------------------------------------------------------------------------


def _dns_profiles(run: CheckRun, rows: list[OwnedDomain]) -> None:
    profiles = run.gather({d.name: run.ctx.resolver.profile(d.name) for d in rows})
    for d in rows:
        prof = profiles.get(d.name)
        if isinstance(prof, BaseException) or prof is None:
            run.error("dns", d.name, prof)
            run.saw(d.name, "dns")  # could not tell: a failed lookup must not make a name gone
            continue
        if prof.exists:
            run.saw(d.name, OwnedSource.DNS.value)
        d.dns = prof.as_dict()
        d.last_checked_at = run.now
        run.session.add(d)


def source_dns(run: CheckRun) -> None:
    """Refresh each owned name's DNS profile; add www, MX and NS hosts that are inside our domains."""
    hosts = run.tracked()
    _dns_profiles(run, hosts)
    apexes = sorted({d.apex for d in hosts})
    brands = run.brands()
    added: list[OwnedDomain] = []
    by_apex = {d.apex: d.brand_id for d in hosts}
    candidates: set[str] = set()
    for d in hosts:
        recs = d.dns.get("records", {})
        if d.is_apex:
            candidates.add(f"www.{d.name}")
        for mx in recs.get("MX", []):
            candidates.add(mx.split()[-1].rstrip(".").lower())
        for ns in recs.get("NS", []):
            candidates.add(ns.rstrip(".").lower())
    known = {d.name for d in hosts}
    www = run.gather({n: run.ctx.resolver.profile(n) for n in sorted(candidates - known) if n.startswith("www.")})
    for name in sorted(candidates - known):
        apex = next((a for a in apexes if is_within(name, a)), None)
        brand_id = by_apex.get(apex) if apex is not None else None
        if brand_id is None or brand_id not in brands:
            continue  # a provider's host (Google MX, a DNS host): not ours to inventory
        prof = www.get(name)
        if name.startswith("www.") and (isinstance(prof, BaseException) or prof is None or not prof.exists):
            continue
        row = add_owned(run.session, brands[brand_id], name, OwnedSource.DNS, actor=run.ctx.actor)
        if row is not None:
            added.append(row)
    if added:
        run.counts["owned_added_dns"] += len(added)
        _dns_profiles(run, added)
        run.forget_hosts()


def source_config(run: CheckRun) -> None:
    """The brands file: its official domains and hosts are ours as long as it lists them."""
    for b in run.brands().values():
        for name in [*b.spec.get("official_domains", []), *b.spec.get("official_hosts", [])]:
            run.saw(name, OwnedSource.CONFIG.value)


def _valid_certificates(run: CheckRun) -> set[str]:
    rows = run.session.exec(select(OwnedCertificate.name).where(col(OwnedCertificate.not_after) > run.now))
    return {n.removeprefix("*.") for n in rows}


def mark_gone(run: CheckRun) -> None:
    """Record which sources saw each name; a name no source saw is marked gone (never deleted)."""
    seen: dict[str, set[str]] = run.cache.get("seen", {})
    certified = _valid_certificates(run)
    stamp = run.now.isoformat()
    changed = False
    for d in run.tracked():
        sources = set(seen.get(d.name, set()))
        if d.name in certified:
            sources.add(OwnedSource.CT.value)
        if sources:
            d.seen_by = {**d.seen_by, **{src: stamp for src in sources}}
        if not sources and d.gone_at is None:
            d.gone_at = run.now
            record(run.session, run.ctx.actor, "owned.gone", d, {"last_seen": d.seen_by}, at=run.now)
            run.counts["owned_gone"] += 1
            changed = True
        elif sources and d.gone_at is not None:
            record(run.session, run.ctx.actor, "owned.back", d, {"sources": sorted(sources),
                                                                "gone_since": _iso(d.gone_at)}, at=run.now)
            d.gone_at = None
            run.counts["owned_back"] += 1
            changed = True
        run.session.add(d)
    if changed:
        run.forget_hosts()


def _iso(when: datetime | None) -> str:
    return when.isoformat() if when else ""


SOURCES: tuple[Check, ...] = (source_config, zonefile.import_zone_files, axfr.import_axfr, source_dns, mark_gone)


# --- checks --------------------------------------------------------------------------------------


# Each owned apex on its own (its registration, its hosts' DNS and pages): with a task queue, one task
# per apex (``tasks.catalog.owned_check``), so the work spreads over the workers and a failure retries
# one domain, not the inventory. Registration needs RDAP; the rest needs only DNS and HTTP.
DOMAIN_CHECKS: tuple[Check, ...] = (
    registration.check_expiry,
    registration.check_locks,
    registration.check_registry_lock,
    registration.check_dnssec,
    registration.check_nameservers,
    takeover.check_cname,
    takeover.check_ns,
    takeover.check_mx,
    hygiene.check_dangling_address,
    hygiene.check_caa,
)
# Checks over the whole fleet (the lapsed names, each brand's short codes and published list): run
# with the sources, where the inventory is refreshed.
FLEET_CHECKS: tuple[Check, ...] = (
    dropcatch.check_dropcatch,
    shortcode.check_short_codes,
    published.check_published_list,
)
CHECKS: tuple[Check, ...] = (*DOMAIN_CHECKS, *FLEET_CHECKS)


def refresh(ctx: Context) -> dict[str, Any]:
    """The inventory's sources, then the fleet checks (the part that is not one domain's)."""
    return run_checks(ctx, FLEET_CHECKS, sources=SOURCES)


def apexes(ctx: Context) -> list[str]:
    """The owned apexes the domain checks cover (one task each with a queue)."""
    with ctx.session() as s:
        rows = s.exec(select(OwnedDomain.apex).where(OwnedDomain.lapsed == False,  # noqa: E712
                                                     col(OwnedDomain.gone_at).is_(None)).distinct())
        return sorted(set(rows))


def check_domain(ctx: Context, apex: str) -> dict[str, Any]:
    """Every domain check of one owned apex and its hosts. Safe to run twice: a check opens or
    resolves its finding by (kind, subject), so a retried run updates the same rows."""
    return run_checks(ctx, DOMAIN_CHECKS, scope=apex.lower().rstrip("."))


def run(ctx: Context) -> dict[str, Any]:
    """The daily inventory job without a queue (``omamori job inventory``, tests): refresh the
    inventory, then every domain check here, in one run over all apexes."""
    fleet, domains = refresh(ctx), run_checks(ctx, DOMAIN_CHECKS)
    counts: Counter[str] = Counter()
    for part in (fleet, domains):
        counts.update({k: v for k, v in part.items() if k != "owned" and isinstance(v, int)})
    out: dict[str, Any] = {"owned": domains["owned"], **dict(sorted(counts.items()))}
    notes = [*fleet.get("notes", []), *domains.get("notes", [])]
    if notes:
        out["notes"] = notes[:50]
    return out
