"""Who a sending server is: the mail platforms table and the reverse-DNS map.

Two reference files name the servers in DMARC aggregate reports:
- ``data/mail-platforms.json``: the mail platforms firms send through (SendGrid, Amazon SES,
  Salesforce Marketing Cloud...), with the SPF include a customer adds for them, the reverse-DNS
  domains of their servers and the domains they sign DKIM with by default; compiled from each
  platform's documentation (source per entry);
- ``data/reverse-dns-map.json``: parsedmarc's map of reverse-DNS base domains to the organisation and
  its kind (ISP, Web Host, Email Provider, Marketing...), Apache-2.0, refreshed by
  ``omamori data refresh reverse-dns-map``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from watcher.core.config import DATA
from watcher.core.names import is_within

PLATFORMS_FILE = DATA / "mail-platforms.json"
REVERSE_DNS_FILE = DATA / "reverse-dns-map.json"
# The kinds of sender worth naming in a DMARC report (industries' own mail servers are left out).
KEPT_TYPES = frozenset({"Email Provider", "Email Security", "Marketing", "SaaS", "PaaS", "IaaS", "Web Host", "MSP",
                        "MSSP", "Technology", "ISP"})


@dataclass(frozen=True)
class Platform:
    name: str
    key: str
    spf_includes: tuple[str, ...]
    rdns_suffixes: tuple[str, ...]
    dkim_domains: tuple[str, ...]
    source: str


@lru_cache(maxsize=1)
def platforms() -> tuple[Platform, ...]:
    data = json.loads(PLATFORMS_FILE.read_text(encoding="utf-8"))
    return tuple(Platform(p["name"], p["key"], tuple(p.get("spf_includes") or ()), tuple(p.get("rdns_suffixes") or ()),
                          tuple(p.get("dkim_domains") or ()), p.get("source", "")) for p in data["platforms"])


@lru_cache(maxsize=1)
def reverse_dns_map() -> dict[str, tuple[str, str]]:
    if not REVERSE_DNS_FILE.exists():
        return {}
    data = json.loads(REVERSE_DNS_FILE.read_text(encoding="utf-8"))
    return {k: (v[0], v[1]) for k, v in (data.get("map") or {}).items()}


def by_key(name: str) -> Platform | None:
    """A platform by its key or its name (what a brands file says in ``mail_platforms``)."""
    low = name.strip().lower()
    return next((p for p in platforms() if low in (p.key, p.name.lower())), None)


def by_include(include: str) -> Platform | None:
    inc = include.lower().rstrip(".")
    return next((p for p in platforms() if any(inc == i or is_within(inc, i) for i in p.spf_includes)), None)


def by_rdns(ptr: str) -> Platform | None:
    host = ptr.lower().rstrip(".")
    return next((p for p in platforms() if any(is_within(host, s) for s in p.rdns_suffixes)), None)


def by_dkim(domain: str) -> Platform | None:
    d = domain.lower().rstrip(".")
    return next((p for p in platforms() if any(is_within(d, s) for s in p.dkim_domains)), None)


def rdns_org(base: str) -> tuple[str, str] | None:
    """(organisation, kind) of a reverse-DNS base domain, from parsedmarc's map."""
    return reverse_dns_map().get(base.lower().rstrip("."))


def validate_reverse_dns_map(raw: bytes) -> dict[str, Any]:
    """parsedmarc's ``base_reverse_dns_map.csv`` -> the kept kinds, as {"map": {base: [name, kind]}}."""
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    if not rows or "base_reverse_dns" not in rows[0]:
        raise ValueError("not parsedmarc's base_reverse_dns_map.csv (no base_reverse_dns column)")
    kept = {r["base_reverse_dns"].strip().lower(): [r["name"].strip(), r["type"].strip()] for r in rows
            if r.get("type", "").strip() in KEPT_TYPES and r.get("base_reverse_dns")}
    if len(kept) < 1000:
        raise ValueError(f"only {len(kept)} entries kept: not the map we expect")
    return {"_kept_types": sorted(KEPT_TYPES), "map": dict(sorted(kept.items()))}
