"""The inventory of owned domains and the checks over it (guideline IV.4(4)① and ②).

Sources of owned names (``SOURCES``): the brands file (already synced into OwnedDomain by
``brands sync``), the firm's own CT certificates (rows the CT reader adds), BIND zone files
(``inventory.zone_files``) and DNS (apex, www, MX and NS hosts inside our own domains).

Checks (``CHECKS``) are plain functions ``(run: CheckRun) -> None``. Each opens a Finding when its
condition fails and resolves the same (kind, subject) when it passes; one failing domain or one
crashing check is recorded and the rest go on.
"""

from __future__ import annotations

from typing import Any

from watcher.context import Context
from watcher.core.brands import add_owned
from watcher.core.models import OwnedDomain, OwnedSource
from watcher.core.names import is_within
from watcher.owned import dropcatch, published, registration, shortcode, takeover, zonefile
from watcher.owned.checks import Check, CheckRun, run_checks

# --- sources -------------------------------------------------------------------------------------


def _dns_profiles(run: CheckRun, rows: list[OwnedDomain]) -> None:
    profiles = run.gather({d.name: run.ctx.resolver.profile(d.name) for d in rows})
    for d in rows:
        prof = profiles.get(d.name)
        if isinstance(prof, BaseException) or prof is None:
            run.error("dns", d.name, prof)
            continue
        d.dns = prof.as_dict()
        d.last_checked_at = run.now
        run.session.add(d)


def source_dns(run: CheckRun) -> None:
    """Refresh each owned name's DNS profile; add www, MX and NS hosts that are inside our domains."""
    hosts = run.hosts()
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


SOURCES: tuple[Check, ...] = (zonefile.import_zone_files, source_dns)


# --- checks --------------------------------------------------------------------------------------


# Registration needs RDAP (issue of the RDAP client); the rest needs only DNS and HTTP.
CHECKS: tuple[Check, ...] = (
    registration.check_expiry,
    registration.check_locks,
    registration.check_dnssec,
    registration.check_nameservers,
    dropcatch.check_dropcatch,
    takeover.check_cname,
    takeover.check_ns,
    takeover.check_mx,
    shortcode.check_short_codes,
    published.check_published_list,
)


def run(ctx: Context) -> dict[str, Any]:
    """The daily inventory job: refresh the inventory, then every check in CHECKS."""
    return run_checks(ctx, CHECKS, sources=SOURCES)


