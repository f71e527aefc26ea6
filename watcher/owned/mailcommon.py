"""What the mail-authentication checks share: checkdmarc on our resolver, the sending domains, and
``report`` (one finding per aspect and domain, listing its problems as catalogue texts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dns.nameserver
import dns.resolver
from sqlmodel import select

from watcher.core.config import DnsSettings
from watcher.core.models import SEVERITY_ORDER, Brand, FindingKind, Severity
from watcher.core.names import is_within
from watcher.core.texts import Text, text

if TYPE_CHECKING:
    from watcher.owned.checks import CheckRun

ASPECT_LABELS = {FindingKind.SPF: "SPF", FindingKind.DKIM: "DKIM", FindingKind.DMARC: "DMARC",
                 FindingKind.BIMI: "BIMI", FindingKind.BIMI_LOGO: "BIMI logo", FindingKind.BIMI_CERT: "BIMI VMC",
                 FindingKind.MTA_STS: "MTA-STS", FindingKind.TLSRPT: "TLS-RPT",
                 FindingKind.DMARC_REPORT_AUTH: "DMARC rua/ruf", FindingKind.SMIME: "S/MIME"}

Problems = list[tuple[Severity, Text]]


def cd() -> Any:
    """checkdmarc, imported on first use: it takes half a second, and every CLI start loads this module."""
    import checkdmarc.bimi
    import checkdmarc.dmarc
    import checkdmarc.mta_sts
    import checkdmarc.smtp_tls_reporting
    import checkdmarc.spf
    import checkdmarc.utils

    return checkdmarc


def dns_resolver(settings: DnsSettings) -> dns.resolver.Resolver:
    """A blocking dnspython resolver on the configured name servers and port (for checkdmarc)."""
    r = dns.resolver.Resolver(configure=not settings.nameservers)
    if settings.nameservers:
        r.nameservers = [dns.nameserver.Do53Nameserver(ns, port=settings.port) for ns in settings.nameservers]
    r.timeout = settings.timeout
    r.lifetime = settings.timeout * (settings.retries + 1)
    return r


def sending_domains(run: CheckRun) -> list[tuple[Brand, str, list[str]]]:
    """(brand, domain, DKIM selectors) for every sending domain of every brand."""
    out = []
    for b in run.session.exec(select(Brand).order_by(Brand.slug)):
        for d in b.spec.get("sending_domains") or []:
            out.append((b, d, list(b.spec.get("dkim_selectors") or [])))
    return out


def brand_of_mail_domain(brands: list[Brand], domain: str) -> Brand | None:
    """The brand whose sending or official domains hold ``domain`` (a sender's, a report's policy domain)."""
    for b in brands:
        if any(is_within(domain, d) for d in (b.spec.get("sending_domains") or [])
               + (b.spec.get("official_domains") or [])):
            return b
    return None


def posture(run: CheckRun, domain: str) -> dict[str, Any]:
    return run.cache.setdefault("posture", {}).setdefault(domain, {})


def report(run: CheckRun, kind: FindingKind, domain: str, brand: Brand | None, problems: Problems,
           data: dict[str, Any]) -> None:
    """One finding per (aspect, domain), listing every problem found; resolved when there is none."""
    posture(run, domain)[kind] = {"ok": not problems, "problems": [p.as_dict() for _, p in problems], **data}
    if not problems:
        run.ok(kind, domain)
        return
    worst = sorted(problems, key=lambda sp: -SEVERITY_ORDER.index(sp[0]))
    run.fail(kind, domain, text("mail.aspect_title", domain=domain, aspect=ASPECT_LABELS.get(kind, str(kind)),
                                problem=worst[0][1]),
             severity=worst[0][0], brand_id=brand.id if brand else None, data=data,
             detail=text("mail.problems", items=[p for _, p in problems]))


def resolver_of(run: CheckRun) -> dns.resolver.Resolver:
    if "dns_resolver" not in run.cache:
        # checkdmarc caches answers process-wide; a daily check must see today's records.
        cd().utils.DNS_CACHE.clear()
        run.cache["dns_resolver"] = dns_resolver(run.ctx.settings.dns)
    return run.cache["dns_resolver"]


