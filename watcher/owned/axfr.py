"""Zone transfers (AXFR) from the firm's own name servers as a source of owned names
(``inventory.axfr``: zone and server). Like a zone file, a transfer lists names that DNS alone never
reveals; unlike a file it is always current. Only the configured server is asked; a refusal or a
broken transfer is noted, never a crash, and the names other sources know stay as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dns.exception
import dns.query
import dns.zone

from watcher.core.models import OwnedSource
from watcher.core.texts import text
from watcher.owned.zonefile import adopt, host_names

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
    return host_names(z)


def import_axfr(run: CheckRun) -> None:
    """Add every host of each configured zone transfer that lies inside one of our brands' domains."""
    brands = run.brands()
    for src in run.ctx.settings.inventory.axfr:
        try:
            names = transfer(src.zone, src.server)
        except ValueError as e:
            run.note("axfr", text("owned.note.axfr_failed", error=str(e)[:300]))
            continue
        run.counts["owned_added_axfr"] += adopt(run, brands, names, OwnedSource.AXFR)
        run.counts["axfr_names"] += len(names)
