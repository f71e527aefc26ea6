"""Cloud providers' published address ranges (``data/cloud-ranges.json``), for dangling A/AAAA records.

An owned name whose address lies in a provider's range was pointed at a cloud resource (an EC2
elastic IP, an Azure public IP, a load balancer); when the firm releases the resource and forgets the
record, the provider hands the address to its next customer. ``provider_of`` says whose range an
address is in. ``transform`` turns each provider's own published format into our list for
``omamori data refresh cloud-ranges``.
"""

from __future__ import annotations

import bisect
import csv
import io
import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from watcher.core.config import DATA

CLOUD_RANGES = DATA / "cloud-ranges.json"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Hit:
    provider: str
    prefix: str
    source: str


class Ranges:
    """Sorted, non-overlapping networks per IP version, looked up by bisection."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        rows: list[tuple[Network, str, str]] = []
        for it in items:
            for p in it.get("prefixes", []):
                try:
                    rows.append((ipaddress.ip_network(p, strict=False), str(it["provider"]), str(it.get("source", ""))))
                except ValueError:
                    continue
        self._by_version: dict[int, tuple[list[int], list[tuple[Network, str, str]]]] = {}
        for version in (4, 6):
            vrows = sorted((r for r in rows if r[0].version == version), key=lambda r: int(r[0].network_address))
            self._by_version[version] = ([int(r[0].network_address) for r in vrows], vrows)

    def provider_of(self, address: str) -> Hit | None:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        starts, rows = self._by_version[ip.version]
        i = bisect.bisect_right(starts, int(ip)) - 1
        # Ranges of different providers may nest (a /16 with a /24 of another inside): look back a little.
        for j in range(i, max(i - 64, -1), -1):
            net, provider, source = rows[j]
            if ip in net:
                return Hit(provider, str(net), source)
        return None


@lru_cache(maxsize=2)
def load(path: Path = CLOUD_RANGES) -> Ranges:
    return Ranges(json.loads(path.read_text(encoding="utf-8"))["items"])


def provider_of(address: str) -> Hit | None:
    return load().provider_of(address)


# --- refresh: each provider's own format -------------------------------------------------------------

PROVIDERS: tuple[tuple[str, str, Callable[[bytes], list[str]]], ...] = (
    ("Amazon Web Services", "https://ip-ranges.amazonaws.com/ip-ranges.json",
     lambda b: [p["ip_prefix"] for p in json.loads(b)["prefixes"]]
     + [p["ipv6_prefix"] for p in json.loads(b).get("ipv6_prefixes", [])]),
    ("Google Cloud", "https://www.gstatic.com/ipranges/cloud.json",
     lambda b: [p.get("ipv4Prefix") or p.get("ipv6Prefix") for p in json.loads(b)["prefixes"]]),
    ("Oracle Cloud Infrastructure", "https://docs.oracle.com/iaas/tools/public_ip_ranges.json",
     lambda b: [c["cidr"] for r in json.loads(b)["regions"] for c in r["cidrs"]]),
    ("Cloudflare", "https://api.cloudflare.com/client/v4/ips",
     lambda b: json.loads(b)["result"]["ipv4_cidrs"] + json.loads(b)["result"]["ipv6_cidrs"]),
    ("DigitalOcean", "https://digitalocean.com/geo/google.csv",
     lambda b: [row[0] for row in csv.reader(io.StringIO(b.decode())) if row and "/" in row[0]]),
)


def collapse(prefixes: list[str]) -> list[str]:
    nets = [ipaddress.ip_network(p, strict=False) for p in prefixes if p]
    v4 = [n for n in nets if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in nets if isinstance(n, ipaddress.IPv6Network)]
    return [str(n) for n in ipaddress.collapse_addresses(v4)] + [str(n) for n in ipaddress.collapse_addresses(v6)]


def fetch_upstream(get: Callable[[str], bytes], previous: Path = CLOUD_RANGES) -> dict[str, Any]:
    """Every provider's list again; a provider without a stable URL (Azure's weekly file) keeps its
    shipped list, so a refresh never silently drops a provider."""
    old = {it["provider"]: it for it in json.loads(previous.read_text(encoding="utf-8"))["items"]} if previous.exists() else {}
    items: list[dict[str, Any]] = []
    for name, url, parse in PROVIDERS:
        prefixes = collapse(parse(get(url)))
        if len(prefixes) < 5:
            raise ValueError(f"{name}: only {len(prefixes)} prefixes from {url}")
        items.append({"provider": name, "source": url, "published": "", "prefixes": prefixes})
    fresh = {it["provider"] for it in items}
    items += [it for name, it in old.items() if name not in fresh]
    return {"items": items}
