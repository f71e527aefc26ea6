"""DNS hygiene of owned names beyond CNAMEs: dangling A/AAAA records on released cloud addresses, CAA.

- ``dangling_address``: an owned host's address is in a cloud provider's published range
  (``cloudranges``) and the host no longer answers as the firm's service — nothing answers, or the page
  names neither the brand nor its domains (the provider gave the address to another customer);
- ``caa``: each owned apex publishes CAA, and CAA names only the CAs the firm uses
  (``inventory.caa_issuers``, else the brands' ``allowed_issuers`` mapped through ``CA_DOMAINS``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx

from watcher.clients.http import read_capped
from watcher.core.models import FindingKind, Severity
from watcher.core.texts import text
from watcher.owned import cloudranges

if TYPE_CHECKING:
    from watcher.core.models import Brand
    from watcher.owned.checks import CheckRun

PAGE_LIMIT = 256 * 1024
# CAA "issue" domains of the CAs a Japanese firm meets, and the names their certificates carry.
CA_DOMAINS: dict[str, tuple[str, ...]] = {
    "digicert.com": ("digicert", "geotrust", "rapidssl", "thawte", "symantec"),
    "letsencrypt.org": ("let's encrypt", "letsencrypt", "isrg"),
    "globalsign.com": ("globalsign",),
    "sectigo.com": ("sectigo", "comodo"),
    "amazon.com": ("amazon",), "amazontrust.com": ("amazon",), "awstrust.com": ("amazon",),
    "pki.goog": ("google trust services", "gts"),
    "secomtrust.net": ("secom",),
    "jprs.jp": ("jprs",),
    "cybertrust.ne.jp": ("cybertrust",),
    "entrust.net": ("entrust",),
    "ssl.com": ("ssl.com",),
    "buypass.com": ("buypass",),
    "zerossl.com": ("zerossl",),
}


# --- dangling A/AAAA ----------------------------------------------------------------------------------


def _markers(brand: Brand | None) -> list[str]:
    if brand is None:
        return []
    spec = brand.spec
    words = [brand.name, brand.name_ja, *spec.get("keywords", []), *spec.get("official_domains", [])]
    return [w.lower() for w in words if w and len(w) >= 3]


def _answer(run: CheckRun, host: str) -> tuple[int, str, str]:
    """(status, page text with headers, error) of the host over HTTPS then HTTP, through the proxy."""
    error = ""
    for scheme in ("https", "http"):
        try:
            with run.ctx.http(timeout=10.0) as client, client.stream("GET", f"{scheme}://{host}/") as r:
                body = read_capped(r, PAGE_LIMIT).decode(r.encoding or "utf-8", "replace")
                if r.status_code in (502, 504):  # the egress proxy could not reach the address
                    error = f"{scheme}: HTTP {r.status_code} {body[:120].strip()}"
                    continue
                return r.status_code, f"{r.headers.get('location', '')}\n{body}", ""
        except httpx.HTTPError as e:
            error = f"{scheme}: {type(e).__name__}: {e}"[:300]
    return 0, "", error or "no answer"


def check_dangling_address(run: CheckRun) -> None:
    """Owned hosts with an address in a cloud provider's range must still answer as the firm's service."""
    kind = FindingKind.DANGLING_ADDRESS
    brands = run.brands()
    for d in run.hosts():
        recs = d.dns.get("records", {})
        if recs.get("CNAME"):
            continue  # a CNAME's target is the takeover check's business
        hits = [(a, h) for a in [*recs.get("A", []), *recs.get("AAAA", [])] if (h := cloudranges.provider_of(a))]
        if not hits:
            run.ok(kind, d.name)
            continue
        address, hit = hits[0]
        status, page, error = _answer(run, d.name)
        markers = _markers(brands.get(d.brand_id) if d.brand_id is not None else None)
        ours = bool(status) and any(m in page.lower() for m in markers)
        if ours:
            run.ok(kind, d.name)
            continue
        answer = (text("owned.dangling_address.foreign", status=status) if status
                  else text("owned.dangling_address.no_answer", error=error))
        run.fail(kind, d.name, text("owned.dangling_address.title", host=d.name, address=address, provider=hit.provider),
                 severity=Severity.HIGH if status else Severity.MEDIUM,
                 data={"address": address, "provider": hit.provider, "prefix": hit.prefix, "source": hit.source,
                       "http_status": status, "error": error, "addresses": [a for a, _ in hits]},
                 detail=text("owned.dangling_address.detail", address=address, provider=hit.provider,
                             prefix=hit.prefix, answer=answer))


# --- CAA ---------------------------------------------------------------------------------------------

_CAA = re.compile(r'^\s*(\d+)\s+(issue|issuewild|iodef)\s+"?([^";]*)', re.IGNORECASE)


def allowed_ca_domains(run: CheckRun) -> set[str]:
    configured = {c.lower().strip() for c in run.ctx.settings.inventory.caa_issuers if c.strip()}
    if configured:
        return configured
    names = {n.lower() for b in run.brands().values() for n in b.spec.get("allowed_issuers", [])}
    return {dom for dom, cas in CA_DOMAINS.items() if any(ca in n or n in ca for ca in cas for n in names)}


def caa_issuers(records: list[str]) -> list[str]:
    """The CA domains that CAA ``issue``/``issuewild`` records allow (";" alone forbids every CA)."""
    out = []
    for r in records:
        m = _CAA.match(r)
        if m and m.group(2).lower() in ("issue", "issuewild") and m.group(3).strip():
            out.append(m.group(3).strip().lower())
    return sorted(set(out))


def check_caa(run: CheckRun) -> None:
    """Each owned apex publishes CAA, and CAA names only the firm's CAs."""
    kind = FindingKind.CAA
    apexes = [d for d in run.hosts() if d.is_apex]
    allowed = allowed_ca_domains(run)

    async def caa(name: str) -> Any:
        return await run.ctx.resolver.lookup(name, "CAA")

    for subject, ans in run.gather_each(kind, {d.name: caa(d.name) for d in apexes}):
        if ans.status in ("timeout", "error", "servfail"):
            run.error(kind, subject, f"CAA {ans.status}")
            continue
        records = list(ans.values) if ans.status == "ok" else []
        allowed_text = ", ".join(sorted(allowed)) or "-"
        if not records:
            run.fail(kind, subject, text("owned.caa.missing.title", domain=subject), severity=Severity.LOW,
                     data={"records": [], "allowed": sorted(allowed)},
                     detail=text("owned.caa.missing.detail", domain=subject, allowed=allowed_text))
            continue
        others = [ca for ca in caa_issuers(records) if allowed and ca not in allowed]
        if not others:
            run.ok(kind, subject)
            continue
        run.fail(kind, subject, text("owned.caa.other.title", domain=subject, cas=", ".join(others)),
                 severity=Severity.HIGH, data={"records": records, "others": others, "allowed": sorted(allowed)},
                 detail=text("owned.caa.other.detail", records="; ".join(records), allowed=allowed_text))

