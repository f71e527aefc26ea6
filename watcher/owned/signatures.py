"""Takeover signatures (engine v2): which service a dangling record points at, and what proves it.

Each signature in ``data/takeover-signatures.json`` (built by ``signature_sources`` from
can-i-take-over-xyz and projectdiscovery's nuclei templates) says

- how to recognise the service: CNAME suffixes or regular expressions, NS host patterns, addresses;
- what proves the record dangling, as alternatives (``proofs``): an HTTP answer (conditions on the
  body, headers, status, all of which must hold), NXDOMAIN of the CNAME target, or a delegated
  zone that the provider's name servers refuse (SERVFAIL/REFUSED), or — weakest — the recognised
  provider's own error page with none of the firm's words (``provider_error``: a possible takeover);
- how sure the proof is (``confidence``) and whether the service can be claimed by anyone
  (``vulnerable``).

This module only reads and matches; the checks that use it are in ``takeover``.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from watcher.core.config import DATA

SIGNATURES = DATA / "takeover-signatures.json"
# A body-only signature (no CNAME/NS/address to recognise the service by) is tried on every host whose
# CNAME leaves our domains, so its words must be specific: a short word would match ordinary pages.
MIN_SPECIFIC = 16
# The answers a ``provider_error`` proof accepts: what a shared front end says for a name it maps to
# nobody. 5xx is left out (an outage of a claimed site says the same), redirects too (a claimed site
# sending visitors to its login), and 401/403: a resource that refuses us exists (a private S3 bucket
# answers 403 AccessDenied at its root; a firewall in front of a claimed site answers 403).
ERROR_STATUSES = frozenset({400, 404, 409, 410, 421})


@dataclass(frozen=True)
class Condition:
    """One condition of an HTTP proof: ``part`` (body, header, status) has any/all of ``values``."""

    part: str
    values: tuple[str, ...]
    all: bool = False
    regex: bool = False
    ci: bool = False
    negative: bool = False

    def holds(self, status: int, headers: str, body: str, strict: bool = False) -> bool:
        """Whether the answer satisfies this condition; ``strict`` (a page tried without its service
        being recognised) lets only the specific words of an any-of list count."""
        if self.part == "status":
            hit = str(status) in self.values
            return hit != self.negative
        text = headers if self.part == "header" else body
        if self.ci and not self.regex:
            text = text.lower()
        values = self.values
        if strict and not self.all and not self.negative and self.part == "body":
            values = tuple(v for v in values if len(v) >= MIN_SPECIFIC) or values
        results = (self._one(v, text) for v in values)
        hit = all(results) if self.all else any(results)
        return hit != self.negative

    def _one(self, value: str, text: str) -> bool:
        if not self.regex:
            value = value.lower() if self.ci else value
            return value in text or normalise(value) in normalise(text)
        if self.regex:
            try:
                return re.search(value, text, re.IGNORECASE | re.MULTILINE if self.ci else re.MULTILINE) is not None
            except re.error:
                return False

    @property
    def specific(self) -> bool:
        """Whether this condition alone tells the service's page from an ordinary one."""
        if self.negative or self.part == "status":
            return False
        if self.part == "header":
            return True
        return any(len(v) >= MIN_SPECIFIC for v in self.values)

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"part": self.part, "all" if self.all else "any": list(self.values)}
        for k in ("regex", "ci", "negative"):
            if getattr(self, k):
                d[k] = True
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Condition:
        values = d.get("all") if "all" in d else d.get("any", [])
        return cls(str(d["part"]), tuple(str(v) for v in values or ()), "all" in d, bool(d.get("regex")),
                   bool(d.get("ci")), bool(d.get("negative")))


@dataclass(frozen=True)
class Proof:
    """What proves the record dangling: ``http`` (every condition holds), ``nxdomain``, ``ns_refused``, or
    ``provider_error`` (the recognised provider's own error page, none of the firm's words: possible only)."""

    type: str
    when: tuple[Condition, ...] = ()

    def holds_http(self, status: int, headers: str, body: str, strict: bool = False) -> bool:
        if self.type != "http" or not self.when or (strict and not self.specific):
            return False
        return all(c.holds(status, headers, body, strict) for c in self.when)

    @property
    def specific(self) -> bool:
        return any(c.specific for c in self.when)

    def describe(self) -> str:
        if self.type == "nxdomain":
            return "NXDOMAIN of the CNAME target"
        if self.type == "ns_refused":
            return "the provider's name servers refuse the zone (SERVFAIL/REFUSED)"
        if self.type == "provider_error":
            return ("the provider answers with an error of its own (HTTP " + "/".join(map(str, sorted(ERROR_STATUSES)))
                    + ") and none of the firm's words: a possible takeover, to verify")
        parts = []
        for c in self.when:
            vals = " / ".join(f"“{v[:80]}”" for v in c.values)
            what = {"status": "HTTP status", "header": "header", "body": "page"}.get(c.part, c.part)
            joined = ("all of " if c.all and len(c.values) > 1 else "") + vals
            parts.append(f"{'not ' if c.negative else ''}{what} {'~ ' if c.regex else ''}{joined}")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type}
        if self.when:
            d["when"] = [c.as_dict() for c in self.when]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Proof:
        return cls(str(d["type"]), tuple(Condition.from_dict(c) for c in d.get("when", [])))


@dataclass(frozen=True)
class Signature:
    id: str
    service: str
    cnames: tuple[str, ...] = ()
    cname_regex: tuple[str, ...] = ()
    ns: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    proofs: tuple[Proof, ...] = ()
    confidence: str = "medium"  # high, medium, low
    vulnerable: bool = True
    status: str = ""  # can-i-take-over-xyz's word: Vulnerable, Edge case, Not vulnerable
    sources: tuple[str, ...] = ()
    reference: str = ""
    discussion: str = ""
    example: Mapping[str, Any] = field(default_factory=dict)

    # --- recognising ---------------------------------------------------------------------------

    def matches_cname(self, target: str) -> bool:
        target = target.lower().rstrip(".")
        for c in self.cnames:
            c = c.lower().strip(".")
            if (c.startswith("-") and target.endswith(c)) or target == c or target.endswith("." + c):
                return True
        return any(_search(rx, target) for rx in self.cname_regex)

    def matches_ns(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == p.strip(".") or host.endswith(p if p.startswith(".") else "." + p) for p in self.ns)

    def matches_address(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        for a in self.addresses:
            try:
                if ip in ipaddress.ip_network(a, strict=False):
                    return True
            except ValueError:
                continue
        return False

    @property
    def recognisable(self) -> bool:
        return bool(self.cnames or self.cname_regex or self.ns or self.addresses)

    # --- proving -------------------------------------------------------------------------------

    def proof(self, kind: str) -> Proof | None:
        return next((p for p in self.proofs if p.type == kind), None)

    @property
    def http_proofs(self) -> tuple[Proof, ...]:
        return tuple(p for p in self.proofs if p.type == "http")

    def http_hit(self, status: int, headers: str, body: str, strict: bool = False) -> Proof | None:
        return next((p for p in self.http_proofs if p.holds_http(status, headers, body, strict)), None)

    @property
    def body_only(self) -> bool:
        """Tried without recognising the service first (its proof is specific enough on its own)."""
        return not self.recognisable and any(p.specific for p in self.http_proofs)

    @property
    def detectable(self) -> bool:
        """Whether some lab-reproducible evidence can prove this service's record dangling."""
        if not self.vulnerable:
            return False
        if self.proof("nxdomain") and (self.cnames or self.cname_regex):
            return True
        if self.proof("ns_refused") and self.ns:
            return True
        if self.proof("provider_error") and (self.cnames or self.cname_regex):
            return True
        return bool(self.http_proofs) and (self.recognisable or self.body_only)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Signature:
        return cls(
            id=str(d["id"]), service=str(d["service"]),
            cnames=tuple(d.get("cnames", [])), cname_regex=tuple(d.get("cname_regex", [])),
            ns=tuple(d.get("ns", [])), addresses=tuple(d.get("addresses", [])),
            proofs=tuple(Proof.from_dict(p) for p in d.get("proofs", [])),
            confidence=str(d.get("confidence", "medium")), vulnerable=bool(d.get("vulnerable", True)),
            status=str(d.get("status", "")), sources=tuple(d.get("sources", [])),
            reference=str(d.get("reference", "")), discussion=str(d.get("discussion", "")),
            example=dict(d.get("example") or {}),
        )


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})
_ENTITIES = (("&#8217;", "'"), ("&rsquo;", "'"), ("&#39;", "'"), ("&#x27;", "'"), ("&nbsp;", " "), ("&#160;", " "),
             ("&quot;", '"'), ("&amp;", "&"), ("\\'", "'"))


def normalise(text: str) -> str:
    """Quotes and the common entities folded, so a page typed with curly quotes or escapes matches."""
    for entity, char in _ENTITIES:
        if entity in text:
            text = text.replace(entity, char)
    return text.translate(_QUOTES)


@lru_cache(maxsize=256)
def _compiled(rx: str) -> re.Pattern[str] | None:
    try:
        return re.compile(rx, re.IGNORECASE)
    except re.error:
        return None


def _search(rx: str, text: str) -> bool:
    c = _compiled(rx)
    return c is not None and c.search(text) is not None


@lru_cache(maxsize=4)
def load(path: Path = SIGNATURES) -> tuple[Signature, ...]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return tuple(Signature.from_dict(it) for it in raw["items"])


def for_cname(chain: Iterable[str], signatures: tuple[Signature, ...] | None = None) -> list[tuple[str, Signature]]:
    """(name in the chain, signature) for every signature that recognises a name of the chain, in chain order."""
    sigs = signatures if signatures is not None else load()
    out: list[tuple[str, Signature]] = []
    seen: set[str] = set()
    for name in chain:
        for s in sigs:
            if s.id not in seen and s.matches_cname(name):
                out.append((name, s))
                seen.add(s.id)
    return out


def for_ns(hosts: Iterable[str], signatures: tuple[Signature, ...] | None = None) -> Signature | None:
    sigs = signatures if signatures is not None else load()
    hosts = list(hosts)
    return next((s for s in sigs if s.ns and any(s.matches_ns(h) for h in hosts)), None)


def for_address(addresses: Iterable[str], signatures: tuple[Signature, ...] | None = None) -> list[Signature]:
    sigs = signatures if signatures is not None else load()
    addrs = list(addresses)
    return [s for s in sigs if s.addresses and any(s.matches_address(a) for a in addrs)]


def body_only(signatures: tuple[Signature, ...] | None = None) -> list[Signature]:
    sigs = signatures if signatures is not None else load()
    return [s for s in sigs if s.vulnerable and s.body_only]


def by_page(signatures: tuple[Signature, ...] | None = None) -> list[Signature]:
    """Signatures whose page proof is specific enough to try on any host that points outside our
    domains: CNAME patterns are never complete (regional endpoints, new target names)."""
    sigs = signatures if signatures is not None else load()
    return [s for s in sigs if s.vulnerable and any(p.specific for p in s.http_proofs)]


def header_text(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    """Response headers as the proofs read them: one ``Name: value`` line each."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return "\n".join(f"{k}: {v}" for k, v in items)
