"""Registration life cycle of owned apex domains (guideline IV.4(4)②): expiry, locks, DNSSEC, NS changes.

The RDAP client (``ctx.rdap``, WHOIS for TLDs without RDAP such as .jp) is asked once per apex per
run; what it says is written into the OwnedDomain row so the dashboard and the reports read it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from watcher.core.events import record
from watcher.core.findings import resolve_finding
from watcher.core.models import FindingKind, OwnedDomain, Severity
from watcher.core.texts import Text, text

if TYPE_CHECKING:
    from watcher.owned.checks import CheckRun

TRANSFER_LOCK = "client transfer prohibited"
UPDATE_LOCK = "client update prohibited"
DELETE_LOCK = "client delete prohibited"
HOLDS = ("client hold", "server hold")
REGISTRY_LOCKS = ("server transfer prohibited", "server update prohibited", "server delete prohibited")


def _apexes(run: CheckRun) -> list[tuple[OwnedDomain, Any]]:
    """Owned apexes with their registration, rows updated; undecidable ones noted and left out."""
    out = []
    for d in run.hosts():
        if not d.is_apex:
            continue
        reg = run.registration(d.name)
        if reg.error and not reg.exists:
            run.error("registration", d.name, reg.error)
            continue
        if reg.exists:
            baseline = d.registration.get("ns_baseline")
            recreated = bool(d.registered_at and reg.created_at
                             and reg.created_at - d.registered_at > timedelta(days=1))
            if recreated:
                # Keep the creation date we knew: the finding stays until a person accepts the new one.
                run.cache.setdefault("recreated", {})[d.name] = (d.registered_at, reg.created_at)
            else:
                d.registered_at = reg.created_at or d.registered_at
            d.registrar = reg.registrar or d.registrar
            d.expires_at = reg.expires_at or d.expires_at
            d.statuses = list(reg.statuses)
            d.nameservers = sorted(n.lower().rstrip(".") for n in reg.nameservers)
            d.dnssec = reg.dnssec
            d.registration = {**reg.as_dict(), "ns_baseline": baseline if baseline is not None else d.nameservers}
            d.last_checked_at = run.now
            run.session.add(d)
        out.append((d, reg))
    return out


def _apex_rows(run: CheckRun) -> list[tuple[OwnedDomain, Any]]:
    if "apex_rows" not in run.cache:
        run.cache["apex_rows"] = _apexes(run)
    return run.cache["apex_rows"]


def expiry_band(days: float, warn_days: list[int]) -> int | None:
    """The smallest configured warning threshold that ``days`` is within (None: not yet warned)."""
    band = None
    for t in sorted(warn_days, reverse=True):
        if days <= t:
            band = t
    return band


def _registrar(name: str | None) -> str | Text:
    return name or text("owned.the_registrar")


def _severity(days: float) -> Severity:
    if days <= 7:
        return Severity.CRITICAL
    if days <= 30:
        return Severity.HIGH
    if days <= 60:
        return Severity.MEDIUM
    return Severity.LOW


def check_expiry(run: CheckRun) -> None:
    """Owned apexes expiring within ``inventory.expiry_warn_days``, and apexes no longer registered."""
    warn = run.ctx.settings.inventory.expiry_warn_days
    for d, reg in _apex_rows(run):
        if not reg.exists:
            run.fail(FindingKind.REGISTRATION_MISSING, d.name, text("owned.registration_missing.title", domain=d.name),
                     severity=Severity.CRITICAL, detail=text("owned.registration_missing.detail"))
            continue
        run.ok(FindingKind.REGISTRATION_MISSING, d.name)
        before_after = run.cache.get("recreated", {}).get(d.name)
        if before_after:
            before, after = before_after
            run.fail(FindingKind.REGISTRATION_RECREATED, d.name,
                     text("owned.registration_recreated.title", domain=d.name),
                     severity=Severity.CRITICAL, brand_id=d.brand_id,
                     data={"created_before": before.isoformat(), "created_now": after.isoformat(),
                           "registrar": reg.registrar},
                     detail=text("owned.registration_recreated.detail", before=f"{before:%Y-%m-%d}",
                                 after=f"{after:%Y-%m-%d}", registrar=_registrar(reg.registrar)))
        else:
            run.ok(FindingKind.REGISTRATION_RECREATED, d.name)
        if d.expires_at is None:
            run.note("expiry", text("owned.note.no_expiry", domain=d.name))
            continue
        days = (d.expires_at - run.now).total_seconds() / 86400
        band = expiry_band(days, warn)
        if band is None:
            run.ok(FindingKind.EXPIRY, d.name)
            continue
        when = d.expires_at.strftime("%Y-%m-%d")
        title = (text("owned.expiry.expired.title", domain=d.name, when=when) if days < 0
                 else text("owned.expiry.soon.title", domain=d.name, days=int(days), when=when))
        run.fail(FindingKind.EXPIRY, d.name, title, severity=_severity(days), brand_id=d.brand_id,
                 data={"expires_at": d.expires_at.isoformat(), "band": band, "registrar": d.registrar},
                 detail=text("owned.expiry.detail", registrar=_registrar(d.registrar)))


def check_locks(run: CheckRun) -> None:
    """Registrar locks: transfer and update prohibited; no hold status on our own domains."""
    for d, reg in _apex_rows(run):
        if not reg.exists:
            continue
        statuses = {s.lower() for s in reg.statuses}
        if "whois" in str(getattr(reg, "source", "")).lower() and not any("prohibited" in s for s in statuses):
            # JPRS-style WHOIS publishes no EPP statuses: a missing lock there is unknown, not absent.
            run.note("locks", text("owned.note.locks_unpublished", domain=d.name))
            continue
        for kind, status, sev, why in (
            (FindingKind.LOCK_TRANSFER, TRANSFER_LOCK, Severity.HIGH, "owned.lock_transfer.detail"),
            (FindingKind.LOCK_UPDATE, UPDATE_LOCK, Severity.MEDIUM, "owned.lock_update.detail"),
        ):
            if status in statuses:
                run.ok(kind, d.name)
            else:
                run.fail(kind, d.name, text("owned.lock.title", domain=d.name, status=status),
                         severity=sev, brand_id=d.brand_id, data={"statuses": sorted(statuses)},
                         detail=text(why, registrar=_registrar(d.registrar)))
        held = sorted(statuses & set(HOLDS))
        if held:
            run.fail(FindingKind.REGISTRATION_HOLD, d.name,
                     text("owned.hold.title", domain=d.name, statuses=", ".join(held)), severity=Severity.CRITICAL,
                     brand_id=d.brand_id, data={"statuses": sorted(statuses)}, detail=text("owned.hold.detail"))
        else:
            run.ok(FindingKind.REGISTRATION_HOLD, d.name)


def check_registry_lock(run: CheckRun) -> None:
    """Registry lock (server transfer/update/delete prohibited) where the registry publishes EPP statuses.

    A registry that answers RDAP with EPP statuses says which locks exist there; WHOIS-only registries
    (JPRS for .jp) publish none, so a missing lock there is unknown and not reported.
    """
    if not run.ctx.settings.inventory.registry_lock:
        return
    for d, reg in _apex_rows(run):
        if not reg.exists:
            continue
        statuses = {s.lower() for s in reg.statuses}
        if "whois" in str(getattr(reg, "source", "")).lower() or not statuses:
            continue
        missing = [s for s in REGISTRY_LOCKS if s not in statuses]
        if not missing:
            run.ok(FindingKind.LOCK_REGISTRY, d.name)
            continue
        run.fail(FindingKind.LOCK_REGISTRY, d.name, text("owned.lock_registry.title", domain=d.name),
                 severity=Severity.LOW, brand_id=d.brand_id, data={"statuses": sorted(statuses), "missing": missing},
                 detail=text("owned.lock_registry.detail", domain=d.name, missing=", ".join(missing),
                             registrar=_registrar(d.registrar)))


def check_dnssec(run: CheckRun) -> None:
    """DNSSEC on each owned apex (a signed zone resists cache poisoning of our login hosts)."""
    for d, reg in _apex_rows(run):
        if not reg.exists or reg.dnssec is None:
            continue
        if reg.dnssec:
            run.ok(FindingKind.DNSSEC, d.name)
        else:
            run.fail(FindingKind.DNSSEC, d.name, text("owned.dnssec.title", domain=d.name),
                     severity=Severity.LOW, brand_id=d.brand_id, detail=text("owned.dnssec.detail"))


def check_nameservers(run: CheckRun) -> None:
    """Name servers differ from the accepted set (first seen, or accepted with `inventory accept-ns`)."""
    for d, reg in _apex_rows(run):
        if not reg.exists or not d.nameservers:
            continue
        baseline = sorted(d.registration.get("ns_baseline") or [])
        if not baseline or baseline == d.nameservers:
            run.ok(FindingKind.NS_CHANGED, d.name)
            continue
        run.fail(FindingKind.NS_CHANGED, d.name, text("owned.ns_changed.title", domain=d.name),
                 severity=Severity.HIGH, brand_id=d.brand_id,
                 data={"before": baseline, "now": d.nameservers},
                 detail=text("owned.ns_changed.detail", before=", ".join(baseline), now=", ".join(d.nameservers),
                             domain=d.name))


def accept_nameservers(session: Session, name: str, *, actor: str, now: datetime) -> bool:
    """Take the current name servers of an owned apex as the expected set; resolves ``ns_changed``."""
    d = session.exec(select(OwnedDomain).where(OwnedDomain.name == name.lower().rstrip("."))).first()
    if d is None or not d.nameservers:
        return False
    before = d.registration.get("ns_baseline")
    d.registration = {**d.registration, "ns_baseline": list(d.nameservers)}
    session.add(d)
    record(session, actor, "owned.ns_accepted", d, {"before": before, "now": d.nameservers}, at=now)
    resolve_finding(session, FindingKind.NS_CHANGED, d.name, now=now, actor=actor, note="accepted by a person")
    return True
