"""Hosting facts: is a candidate behind a known CDN, free-hosting or cloud service?

The takedown path differs: a CDN (Cloudflare) only forwards to the origin and can show a warning,
free hosting (GitHub Pages, Firebase, Netlify...) removes the site itself and is usually fastest,
and the registrar is asked only when neither works. The table is ``data/hosting-services.json``:
real services, their published abuse address or report form and the source of each; unknown
contacts are left empty rather than guessed.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from watcher.core.config import DATA

TABLE = DATA / "hosting-services.json"


@dataclass(frozen=True)
class Hosting:
    service: str = ""
    kind: str = ""  # cdn | free_hosting | cloud | ""
    abuse_email: str = ""
    form_url: str = ""
    source: str = ""  # where the contact was published
    matched: str = ""  # what matched: "address 104.16.1.1 in 104.16.0.0/13", "CNAME x.github.io", ...

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Hosting:
        """Back from ``as_dict`` (as a Snapshot keeps it); anything else is "no known service"."""
        if not isinstance(data, dict):
            return cls()
        return cls(**{f.name: str(data.get(f.name) or "") for f in fields(cls)})


@dataclass(frozen=True)
class _Service:
    entry: dict[str, Any]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


@lru_cache(maxsize=4)
def load_table(path: Path = TABLE) -> tuple[_Service, ...]:
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for e in data.get("services", []):
        nets = tuple(ipaddress.ip_network(c, strict=False) for c in e.get("cidrs", []))
        out.append(_Service(e, nets))
    return tuple(out)


def _under(name: str, suffix: str) -> bool:
    name, suffix = name.lower().rstrip("."), suffix.lower().rstrip(".")
    return name == suffix or name.endswith("." + suffix)


def _hit(svc: _Service, matched: str) -> Hosting:
    e = svc.entry
    return Hosting(e["service"], e.get("kind", ""), e.get("abuse_email", ""), e.get("form_url", ""),
                   e.get("source", ""), matched)


def classify(addresses: list[str], cnames: list[str], nameservers: list[str] = [],  # noqa: B006 (never mutated)
             *, host: str = "", table: Path = TABLE) -> Hosting:
    """The first service that matches, by strength of evidence: the host name itself (x.web.app),
    its CNAME target, its addresses, then its nameservers. ``Hosting()`` when none does.
    """
    services = load_table(table)
    if host:
        for svc in services:
            for suffix in svc.entry.get("host_suffixes", []):
                if _under(host, suffix):
                    return _hit(svc, f"host {host} under {suffix}")
    for cname in cnames:
        for svc in services:
            for suffix in svc.entry.get("cname_suffixes", []):
                if _under(cname, suffix):
                    return _hit(svc, f"CNAME {cname}")
    for addr in addresses:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            continue
        for svc in services:
            for net in svc.networks:
                if ip.version == net.version and ip in net:
                    return _hit(svc, f"address {addr} in {net}")
    for ns in nameservers:
        for svc in services:
            for suffix in svc.entry.get("ns_suffixes", []):
                if _under(ns, suffix):
                    return _hit(svc, f"nameserver {ns}")
    return Hosting()
