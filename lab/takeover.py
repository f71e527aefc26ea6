"""Takeover lab cases: for every service a dangling host and a claimed one, in one running lab.

Two sets, built from different evidence:

- ``signature_cases`` reads ``data/takeover-signatures.json`` (the converted upstream signatures) and
  makes each service's dangling host from the signature's own example: its CNAME pattern, its
  "unclaimed" answer (status, headers, body) or its DNS evidence (NXDOMAIN target, a delegated zone
  the provider refuses). The claimed twin has the same DNS shape and serves the firm's page.
- ``independent_cases`` reads ``data/lab/takeover-independent.toml``: dangling records written from
  each provider's own documentation of its hostnames and error pages (whole pages, as served), not
  from any signature's text — the check on the signatures' recall.

The lab imports nothing of the product; it reads the data files only.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.dns import LabDNS
from lab.web import LabWeb

ROOT = Path(__file__).resolve().parent.parent
SIGNATURES = ROOT / "data" / "takeover-signatures.json"
INDEPENDENT = ROOT / "data" / "lab" / "takeover-independent.toml"
ZONE = "hoshizora-sec.co.jp"
CLAIMED_PAGE = {"title": "ほしぞら証券 キャンペーン", "text": "ほしぞら証券のキャンペーンページです。"}
CLAIMED_ANSWER = (200, (), f"<title>{CLAIMED_PAGE['title']}</title><p>{CLAIMED_PAGE['text']}</p>")


@dataclass(frozen=True)
class Case:
    service: str
    signature: str  # signature id ("" for an independent case: the engine must find it by itself)
    host: str
    dangling: bool
    kind: str  # takeover_cname or takeover_ns
    evidence: str  # http, nxdomain, ns_refused
    # What the record looks like from outside, for comparing other tools' signatures on the same cases:
    # the CNAME chain (or the delegated name servers) and the page served there (status, headers, body).
    names: tuple[str, ...] = ()
    answer: tuple[int, tuple[tuple[str, str], ...], str] | None = None


def _label(sid: str) -> str:
    return sid.strip("-")[:40].strip("-")


def _claimed_target(target: str) -> str:
    head, _, rest = target.partition(".")
    return f"{head}-claimed.{rest}" if rest else f"{target}-claimed"


def _address(n: int) -> str:
    return f"198.51.100.{1 + n % 250}"


def _evidence(sig: dict[str, Any]) -> str | None:
    """Which of the signature's proofs the lab reproduces (the first one the engine can act on)."""
    types = [p["type"] for p in sig.get("proofs", [])]
    recognisable = bool(sig.get("cnames") or sig.get("cname_regex") or sig.get("addresses"))
    ex = sig.get("example") or {}
    # ``provider_error`` (the provider's own error page, a possible takeover) is shown by a page too.
    if ("http" in types or "provider_error" in types) and (recognisable or ex.get("body")) and "status" in ex:
        return "http"
    if "nxdomain" in types and ex.get("cname"):
        return "nxdomain"
    if "ns_refused" in types and ex.get("ns"):
        return "ns_refused"
    return None


def detectable(sig: dict[str, Any]) -> bool:
    """The converter's verdict (can the engine prove it at all), and a case the lab can build."""
    return bool(sig.get("detectable")) and _evidence(sig) is not None


def load_signatures(path: Path = SIGNATURES) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["items"])


def signature_cases(dns: LabDNS, web: LabWeb, path: Path = SIGNATURES, zone: str = ZONE) -> list[Case]:
    """Install a dangling and a claimed host for every service the signatures can prove."""
    cases: list[Case] = []
    for n, sig in enumerate(s for s in load_signatures(path) if detectable(s)):
        evidence = _evidence(sig)
        assert evidence is not None
        ex = sig["example"]
        label = _label(sig["id"])
        dangling, claimed = f"d-{label}.{zone}", f"c-{label}.{zone}"
        kind = "takeover_ns" if evidence == "ns_refused" else "takeover_cname"
        names: tuple[str, ...] = tuple(ex["ns"]) if evidence == "ns_refused" else ()
        answer = None
        if evidence == "ns_refused":
            for ns in ex["ns"]:
                dns.set(ns, "A", _address(n))
            dns.set(dangling, "NS", ex["ns"])
            dns.set_rcode(dangling, "REFUSED")  # the provider no longer hosts the zone
            dns.add_zone(claimed, nameservers=ex["ns"])
            dns.set(claimed, "A", _address(n))
        else:
            target = ex.get("cname") or f"{label}.saas-provider.example"
            names = (target,)
            dns.set(dangling, "CNAME", target)
            dns.set(claimed, "CNAME", _claimed_target(target))
            dns.set(_claimed_target(target), "A", ex.get("address") or _address(n))
            web.publish(claimed, "corporate", **CLAIMED_PAGE)
            if evidence == "http":
                dns.set(target, "A", ex.get("address") or _address(n))
                web.publish(dangling, "canned", status=ex.get("status", 404), headers=ex.get("headers") or {},
                            body=ex.get("body", ""))
                answer = (int(ex.get("status", 404)), tuple((ex.get("headers") or {}).items()), ex.get("body", ""))
        cases += [Case(sig["service"], sig["id"], dangling, True, kind, evidence, names, answer),
                  Case(sig["service"], sig["id"], claimed, False, kind, evidence,
                       names if evidence == "ns_refused" else tuple(_claimed_target(n) for n in names),
                       None if evidence == "ns_refused" else CLAIMED_ANSWER)]
    return cases


def independent_records(path: Path = INDEPENDENT) -> list[dict[str, Any]]:
    return list(tomllib.loads(path.read_text(encoding="utf-8"))["case"])


def independent_cases(dns: LabDNS, web: LabWeb, path: Path = INDEPENDENT, zone: str = ZONE) -> list[Case]:
    """Install the dangling records written from the providers' own documentation."""
    return install_records(dns, web, independent_records(path), zone)


def install_records(dns: LabDNS, web: LabWeb, records: list[dict[str, Any]], zone: str = ZONE,
                    prefix: str = "i") -> list[Case]:
    """Install records described as in ``takeover-independent.toml``: ``label``, ``service``, then either
    ``ns`` (a delegation the provider refuses, or ``rcode``) or ``cname`` (one name or a chain) with
    ``nxdomain = true`` or the page served there (``status``, ``headers``, ``body``, ``content_type``).
    ``claimed = true`` makes the claimed shape instead: the zone is served, the chain ends at an address
    and the firm's page answers."""
    cases = []
    for n, c in enumerate(records):
        host = f"{prefix}-{c['label']}.{zone}"
        claimed = bool(c.get("claimed"))
        if "ns" in c:
            for ns in c["ns"]:
                dns.set(ns, "A", _address(n))
            if claimed:
                dns.add_zone(host, nameservers=list(c["ns"]))
                dns.set(host, "A", _address(n))
            else:
                dns.set(host, "NS", c["ns"])
                dns.set_rcode(host, c.get("rcode", "REFUSED"))
            cases.append(Case(c["service"], "", host, not claimed, "takeover_ns", "ns_refused", tuple(c["ns"])))
            continue
        chain = c["cname"] if isinstance(c["cname"], list) else [c["cname"]]
        if claimed:  # its own names, so a dangling twin's NXDOMAIN target stays NXDOMAIN
            chain = [_claimed_target(name) for name in chain]
        previous = host
        for name in chain:
            dns.set(previous, "CNAME", name)
            previous = name
        if c.get("nxdomain") and not claimed:
            cases.append(Case(c["service"], "", host, True, "takeover_cname", "nxdomain", tuple(chain)))
            continue
        dns.set(previous, "A", c.get("address", _address(n)))
        if claimed:
            web.publish(host, "corporate", **CLAIMED_PAGE)
            cases.append(Case(c["service"], "", host, False, "takeover_cname",
                              "nxdomain" if c.get("nxdomain") else "http", tuple(chain), CLAIMED_ANSWER))
            continue
        web.publish(host, "canned", status=c.get("status", 404), headers=c.get("headers", {}),
                    body=c["body"], content_type=c.get("content_type", "text/html; charset=utf-8"))
        answer = (int(c.get("status", 404)), tuple(c.get("headers", {}).items()), c["body"])
        cases.append(Case(c["service"], "", host, True, "takeover_cname", "http", tuple(chain), answer))
    return cases
