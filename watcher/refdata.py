"""Reference data shipped in data/ (CT log list, RDAP bootstrap, takeover signatures, cloud ranges, ...).

Each file has its public source and the date it was taken; ``omamori data refresh NAME`` fetches it
again from the source (through the configured proxy) and rewrites the file with a new date. Nothing
is fetched silently at run time. Capabilities add their files to ``REFERENCE``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watcher.core.config import DATA
from watcher.owned import cloudranges, link_lists, platforms, signature_sources


@dataclass(frozen=True)
class RefFile:
    name: str
    path: Path
    url: str  # the public source
    licence: str
    # Turns the fetched bytes into what we store (validate, trim); raises ValueError on garbage.
    transform: Callable[[bytes], Any] = lambda b: json.loads(b)
    # For data made from several upstream files: fetches what it needs itself and converts it.
    build: Callable[[Callable[[str], bytes]], Any] | None = None


REFERENCE: tuple[RefFile, ...] = (
    RefFile("ct-log-list", DATA / "ct-log-list.json", "https://www.gstatic.com/ct/log_list/v3/log_list.json",
            "CC BY 4.0 (Google)"),
    RefFile("rdap-dns", DATA / "rdap-bootstrap.json", "https://data.iana.org/rdap/dns.json", "IANA, public"),
    RefFile("rdap-ipv4", DATA / "rdap-bootstrap-ipv4.json", "https://data.iana.org/rdap/ipv4.json", "IANA, public"),
    # Takeover signatures (watcher.owned.signatures), converted from can-i-take-over-xyz and nuclei templates.
    RefFile("takeover-signatures", DATA / "takeover-signatures.json",
            "https://github.com/EdOverflow/can-i-take-over-xyz + https://github.com/projectdiscovery/nuclei-templates",
            "CC BY 4.0 (can-i-take-over-xyz) and MIT (nuclei-templates)", build=signature_sources.fetch_upstream),
    # Cloud providers' published address ranges (watcher.owned.cloudranges), for dangling A/AAAA records.
    RefFile("cloud-ranges", DATA / "cloud-ranges.json", "each provider's published list (AWS, Google Cloud, "
            "Oracle, Cloudflare, DigitalOcean; Azure kept)", "published by the providers for their customers",
            build=cloudranges.fetch_upstream),
    # dnstwist's shipped dictionaries (watcher.discovery.fuzzers feeds them to its dictionary and
    # tld-swap fuzzers): one word a line, written back with the source in '#' comments.
    *(RefFile(f"dnstwist-{name}", DATA / "fuzz" / f"dnstwist-{name}.txt",
              f"https://raw.githubusercontent.com/elceef/dnstwist/master/dictionaries/{src}",
              "Apache License 2.0 — dnstwist, Marcin Ulikowski", transform=lambda b: dict_words(b))
      for name, src in (("english", "english.dict"), ("common-tlds", "common_tlds.dict"),
                        ("abused-tlds", "abused_tlds.dict"))),
    # URL shorteners for lint-messages (watcher.owned.link_lists); the upstream list, one domain a line.
    RefFile("url-shorteners", link_lists.SHORTENERS_FILE,
            "https://raw.githubusercontent.com/PeterDaveHello/url-shorteners/master/list",
            "CC BY-SA 4.0 — PeterDaveHello and contributors, url-shorteners",
            transform=link_lists.validate_shorteners),
    # Who a sending server is, by its reverse-DNS domain (watcher.owned.platforms); kinds kept: see there.
    RefFile("reverse-dns-map", platforms.REVERSE_DNS_FILE,
            "https://raw.githubusercontent.com/domainaware/parsedmarc/master/parsedmarc/resources/maps/"
            "base_reverse_dns_map.csv", "Apache-2.0 — Sean Whalen and contributors, parsedmarc",
            transform=platforms.validate_reverse_dns_map),
)


def dict_words(data: bytes) -> list[str]:
    """A dnstwist dictionary: one word a line, ``//`` comments; refuses anything that is not one."""
    out = []
    for line in data.decode("utf-8").splitlines():
        word = line.split("//", 1)[0].strip().lower()
        if not word:
            continue
        if not all(c.isalnum() or c in "-." for c in word) or len(word) > 63:
            raise ValueError(f"not a dnstwist dictionary line: {line[:60]!r}")
        out.append(word)
    if not out:
        raise ValueError("an empty dictionary")
    return out


SOURCES = DATA / "SOURCES.md"


def refresh(ref: RefFile, fetch: Callable[[str], bytes], source_url: str | None = None) -> dict[str, Any]:
    """Fetch, check and write one reference file; returns what was written."""
    url = source_url or ref.url
    data = ref.build(fetch) if ref.build is not None and source_url is None else ref.transform(fetch(url))
    if ref.path.suffix == ".txt":
        head = (f"# source: {url}\n# retrieved: {datetime.now(UTC):%Y-%m-%d}; licence: {ref.licence}; "
                f"refresh: omamori data refresh {ref.name}\n")
        tmp = ref.path.with_suffix(".tmp")
        tmp.write_text(head + "".join(f"{w}\n" for w in data), encoding="utf-8")
        tmp.replace(ref.path)
        return {"file": str(ref.path), "source": url, "bytes": ref.path.stat().st_size}
    stamped = {"_source": url, "_retrieved": datetime.now(UTC).strftime("%Y-%m-%d"), "_licence": ref.licence}
    out = {**stamped, **data} if isinstance(data, dict) else {**stamped, "items": data}
    tmp = ref.path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(ref.path)
    return {"file": str(ref.path), "source": url, "bytes": ref.path.stat().st_size}
