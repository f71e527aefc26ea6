"""BIND zone files as a source of owned names (``inventory.zone_files``), parsed by dnspython.

A zone file lists names DNS alone never reveals (no zone transfer from outside), so forgotten hosts
— the usual takeover victims — come into the inventory from here. Service labels (``_dmarc``,
``_domainkey``...) and wildcards are not hosts and are skipped. An unreadable file is a Finding.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import dns.exception
import dns.name
import dns.zone

from watcher.core.brands import add_owned
from watcher.core.models import FindingKind, OwnedSource, Severity
from watcher.core.names import InvalidName, is_within, normalize_host
from watcher.core.texts import text

if TYPE_CHECKING:
    from watcher.core.models import Brand
    from watcher.owned.checks import CheckRun

MAX_ZONE_BYTES = 50 * 1024 * 1024


def _origin_from_filename(path: Path) -> str | None:
    # Common conventions: db.example.com, example.com.zone, example.com.db, example.com
    name = path.name
    for prefix in ("db.",):
        name = name.removeprefix(prefix)
    for suffix in (".zone", ".db", ".txt"):
        name = name.removesuffix(suffix)
    return name if "." in name else None


def zone_names(path: Path) -> tuple[str, list[str]]:
    """(origin, host names) of a BIND zone file. Raises ValueError with a readable reason."""
    if path.stat().st_size > MAX_ZONE_BYTES:
        raise ValueError(f"larger than {MAX_ZONE_BYTES} bytes")
    text = path.read_text(encoding="utf-8", errors="replace")
    origin = None if "$ORIGIN" in text.upper() else _origin_from_filename(path)
    try:
        zone = dns.zone.from_text(text, origin=origin, relativize=False, check_origin=False,
                                  filename=str(path))
    except (dns.exception.DNSException, ValueError) as e:
        raise ValueError(f"{type(e).__name__}: {e}") from None
    origin_text = zone.origin.to_text(omit_final_dot=True).lower() if zone.origin else ""
    return origin_text, host_names(zone)


def host_names(zone: dns.zone.Zone) -> list[str]:
    """The zone's host names, sorted, without service labels (``_dmarc``) or wildcards."""
    names = set()
    for name in zone.nodes:
        text_name = (name if isinstance(name, dns.name.Name) else dns.name.from_text(str(name))).to_text(
            omit_final_dot=True).lower()
        if not any(label.startswith(("_", "*")) for label in text_name.split(".")):
            names.add(text_name)
    return sorted(names)


def adopt(run: CheckRun, brands: dict[int, Brand], names: list[str], source: OwnedSource,
          origin: str | None = None) -> int:
    """Add each name inside its brand's official domains to the inventory; returns how many were new.
    The zone's origin, when known, decides the brand before the name itself."""
    added = 0
    for name in names:
        brand_id = (run.brand_of(origin) if origin else None) or run.brand_of(name)
        brand = brands.get(brand_id) if brand_id is not None else None
        if brand is None or not any(is_within(name, d) for d in brand.spec.get("official_domains", [])):
            continue
        try:
            normalize_host(name, allow_wildcard=False, allow_ip=False)
        except InvalidName:
            continue
        run.saw(name, source.value)
        if add_owned(run.session, brand, name, source, actor=run.ctx.actor) is not None:
            added += 1
    if added:
        run.forget_hosts()
    return added


def import_zone_files(run: CheckRun) -> None:
    """Add every host of the configured zone files that lies inside one of our brands' domains."""
    settings = run.ctx.settings
    brands = run.brands()
    for configured in settings.inventory.zone_files:
        path = settings.path(configured)
        kind, subject = FindingKind.ZONEFILE_UNREADABLE, str(path)[-253:]
        try:
            origin, names = zone_names(path)
        except (OSError, ValueError) as e:
            run.fail(kind, subject, text("owned.zonefile_unreadable.title", file=path.name),
                     severity=Severity.MEDIUM, data={"error": str(e)[:500]},
                     detail=text("owned.zonefile_unreadable.detail", path=str(path), error=str(e)[:300]))
            continue
        run.ok(kind, subject)
        run.counts["owned_added_zonefile"] += adopt(run, brands, names, OwnedSource.ZONEFILE, origin)
