"""BIMI proven, not just published (best practice 1): the record, the logo, the mark certificate.

A BIMI record alone shows no logo anywhere: Gmail, Apple Mail and Yahoo show it only when the logo
at ``l=`` is SVG Tiny PS and the certificate at ``a=`` (a VMC or CMC) proves the mark for the domain
and embeds that very logo. So three findings per sending domain:

- ``bimi``: the record (present, valid) and the DMARC policy BIMI needs (quarantine or reject);
- ``bimi_logo``: the SVG, fetched through ``ctx.http()`` (fetch guard, egress proxy), checked against
  the profile (``svg_tiny_ps``);
- ``bimi_cert``: the certificate, fetched the same way and verified (``markcert``): chain to a Mark
  Verifying Authority, validity, domain, key usage, and the logotype hash matching the SVG.

checkdmarc reads the record (through our resolver); its own download path is not used, since it
goes to the internet with ``requests``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dns.resolver
import httpx

from watcher.clients.http import read_capped
from watcher.core.models import Brand, FindingKind, Severity
from watcher.core.texts import Text, text
from watcher.owned import markcert, svg_tiny_ps
from watcher.owned.mailcommon import cd, report
from watcher.owned.mailwarnings import report_warnings

if TYPE_CHECKING:
    from watcher.owned.checks import CheckRun

LOGO_LIMIT = svg_tiny_ps.PARSE_LIMIT + 1
CERT_LIMIT = markcert.MAX_PEM + 1


def _tags(record: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in record.split(";"):
        k, sep, v = part.partition("=")
        if sep and k.strip().lower() not in tags:
            tags[k.strip().lower()] = v.strip()
    return tags


def fetch(run: CheckRun, url: str, limit: int) -> tuple[bytes | None, str, Text | None]:
    """(body, content type, problem) of ``url``; https only, redirects followed by the client."""
    if not url.lower().startswith("https://"):
        return None, "", text("mail.bimi.not_https", url=url[:300])
    try:
        with run.ctx.http(timeout=15.0) as client, client.stream("GET", url) as resp:
            body = read_capped(resp, limit)
            if resp.status_code != 200:
                return None, "", text("mail.bimi.http_status", url=url[:300], status=resp.status_code)
            return body, resp.headers.get("content-type", ""), None
    except httpx.HTTPError as e:
        return None, "", text("mail.bimi.fetch_failed", url=url[:300], error=f"{type(e).__name__}: {e}"[:300])


def check_domain(run: CheckRun, brand: Brand, domain: str, resolver: dns.resolver.Resolver) -> None:
    record_problems: list[tuple[Severity, Text]] = []
    data: dict[str, Any] = {}
    try:
        rec = cd().bimi.query_bimi_record(domain, resolver=resolver)
    except Exception as e:  # checkdmarc raises its own classes for a missing or broken record
        missing = "not exist" in str(e).lower() or "not found" in str(e).lower() or "nxdomain" in str(e).lower()
        record_problems.append((Severity.LOW, text("mail.bimi.missing" if missing else "mail.bimi.invalid",
                                                   error=str(e)[:300])))
        report(run, FindingKind.BIMI, domain, brand, record_problems, data)
        # Without a record there is no logo or certificate to prove: nothing is open about them.
        run.ok(FindingKind.BIMI_LOGO, domain)
        run.ok(FindingKind.BIMI_CERT, domain)
        report_warnings(run, brand, domain, "bimi", [])
        return
    record = str(rec.get("record") or "")
    data["record"] = record
    report_warnings(run, brand, domain, "bimi", list(rec.get("warnings") or []))
    tags = _tags(record)
    logo_url, cert_url = tags.get("l", ""), tags.get("a", "")
    policy = (run.cache.get("dmarc", {}).get(domain) or {}).get("p")
    if not logo_url:
        record_problems.append((Severity.LOW, text("mail.bimi.declined")))
    if policy not in ("quarantine", "reject"):
        record_problems.append((Severity.LOW, text("mail.bimi.weak_dmarc", policy=str(policy or "-"))))
    report(run, FindingKind.BIMI, domain, brand, record_problems, data)
    if not logo_url:
        run.ok(FindingKind.BIMI_LOGO, domain)
        run.ok(FindingKind.BIMI_CERT, domain)
        return

    # The logo.
    logo_problems: list[tuple[Severity, Text]] = []
    svg, ctype, problem = fetch(run, logo_url, LOGO_LIMIT)
    logo: dict[str, Any] = {"url": logo_url}
    if problem is not None:
        logo_problems.append((Severity.MEDIUM, problem))
    elif svg is not None:
        facts = svg_tiny_ps.check(svg)
        logo.update({"bytes": facts.size, "title": facts.title, "version": facts.version,
                     "base_profile": facts.base_profile, "content_type": ctype[:100]})
        for v in facts.violations:
            sev = Severity.LOW if v.rule == "not_square" else Severity.MEDIUM
            logo_problems.append((sev, text(f"mail.svg.{v.rule}", **v.params)))
    report(run, FindingKind.BIMI_LOGO, domain, brand, logo_problems, logo)

    # The mark certificate.
    cert_problems: list[tuple[Severity, Text]] = []
    cert: dict[str, Any] = {"url": cert_url}
    if not cert_url:
        cert_problems.append((Severity.MEDIUM, text("mail.bimi.no_certificate")))
    else:
        pem, _ctype, problem = fetch(run, cert_url, CERT_LIMIT)
        if problem is not None:
            cert_problems.append((Severity.MEDIUM, problem))
        elif pem is not None:
            trust = run.ctx.settings.mail.bimi_trust_file
            roots = markcert.mva_roots(run.ctx.settings.path(trust) if trust else None)
            facts_c = markcert.check(pem, svg, domain, run.now, roots)
            cert.update(facts_c.as_dict())
            for p in facts_c.problems:
                cert_problems.append((Severity.MEDIUM if p.severe else Severity.LOW,
                                      text(f"mail.vmc.{p.rule}", **p.params)))
    report(run, FindingKind.BIMI_CERT, domain, brand, cert_problems, cert)
