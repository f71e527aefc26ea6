"""Zone transfers (AXFR) from the firm's own name servers as a source of owned names
(``inventory.axfr``: zone and server). Like a zone file, a transfer lists names that DNS alone never
reveals; unlike a file it is always current. Only the configured server is asked; a refusal or a
broken transfer is noted, never a crash, and the names other sources know stay as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dns.exception
import dns.name
import dns.query
import dns.zone

from watcher.core.brands import add_owned
from watcher.core.models import OwnedSource
from watcher.core.names import InvalidName, is_within, normalize_host

if TYPE_CHECKING:
    from watcher.owned.checks import CheckRun

TIMEOUT = 10.0


def transfer(zone: str, server: str, timeout: float = TIMEOUT) -> list[str]:
    """Host names of ``zone`` by AXFR from ``server`` ("host" or "host:port"). Raises ValueError."""
    host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
    try:
        z = dns.zone.from_xfr(dns.query.xfr(host or server, zone, port=int(port or 53), timeout=timeout,
                                            lifetime=timeout * 3, relativize=False),
                                  relativize=False)
    except (dns.exception.DNSException, OSError, EOFError, ValueError) as e:
        raise ValueError(f"AXFR of {zone} from {server}: {type(e).__name__}: {e}"[:300]) from None
    names = []
    for n in z.nodes:
        text = (n if isinstance(n, dns.name.Name) else dns.name.from_text(str(n))).to_text(omit_final_dot=True).lower()
        if any(label.startswith(("_", "*")) for label in text.split(".")):
            continue
        names.append(text)
    return sorted(set(names))


def import_axfr(run: CheckRun) -> None:
    """Add every host of each configured zone transfer that lies inside one of our brands' domains."""
    brands = run.brands()
    for src in run.ctx.settings.inventory.axfr:
        try:
            names = transfer(src.zone, src.server)
        except ValueError as e:
            run.note("axfr", str(e))
            continue
        added = 0
        for name in names:
            brand_id = run.brand_of(name)
            brand = brands.get(brand_id) if brand_id is not None else None
            if brand is None or not any(is_within(name, d) for d in brand.spec.get("official_domains", [])):
                continue
            try:
                normalize_host(name, allow_wildcard=False, allow_ip=False)
            except InvalidName:
                continue
            run.saw(name, OwnedSource.AXFR.value)
            if add_owned(run.session, brand, name, OwnedSource.AXFR, actor=run.ctx.actor) is not None:
                added += 1
        run.counts["owned_added_axfr"] += added
        run.counts["axfr_names"] += len(names)
        if added:
            run.forget_hosts()
