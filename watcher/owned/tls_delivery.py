"""Failed TLS deliveries to us, read from SMTP TLS reports (RFC 8460), as Findings.

A report with failed sessions means a sender could not deliver to our MX over TLS as our MTA-STS or
DANE policy asks: mail to the firm was refused or, with a testing policy, sent in clear — an expired
certificate, an MX missing from the policy, or an attacker on the path stripping STARTTLS. The stored
report alone is read by nobody, so each policy domain with failures opens one Finding, and the next
later report with only successful sessions for that domain resolves it.

Reports arrive out of order (each sender mails its own day, some days late), so the Finding's data
keeps ``seen_until``: the latest report end date read for the policy domain, failing or clean. A
report ending before it says nothing about now: it neither reopens, resolves nor rewrites the Finding.
Several senders report the same day: a clean report resolves only a failure reported for an earlier
day (``end_at``), so one sender's clean day never hides another's failures of that day.

A person may accept the failures (a testing policy, a known partner's old MTA). Like every finding
writer, the decision lasts until the facts change; here the facts are how bad the failures are, not
which report said so (each has its own id and dates): a later report as bad or milder keeps the
Finding accepted as the person saw it, only ``seen_until`` moves on; a worse one (certificates failing,
or 5% of sessions) reopens it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlmodel import Session, select

from watcher.context import Context
from watcher.core.findings import finding_key, open_finding, resolve_finding
from watcher.core.models import SEVERITY_ORDER, Brand, Finding, FindingKind, FindingStatus, Severity
from watcher.core.texts import text
from watcher.owned.mailcommon import brand_of_mail_domain
from watcher.owned.tlsrpt import TlsReportData

# Results that say the certificate or the policy was wrong, not that a session merely broke off.
CERTIFICATE_RESULTS = frozenset({"certificate-expired", "certificate-host-mismatch", "certificate-not-trusted",
                                 "validation-failure", "sts-webpki-invalid", "sts-policy-invalid",
                                 "tlsa-invalid", "dnssec-invalid", "dane-required"})
# A share of failed sessions above this is an outage or an attack on the path, not background noise.
HIGH_SHARE = 0.05


def _iso(when: datetime | None) -> str:
    return when.isoformat() if when else ""


def _seen_until(f: Finding | None) -> str:
    """The latest report end date already read for this policy domain ("" when none)."""
    data = f.data if f is not None else None
    if not data:
        return ""
    # Findings written before seen_until existed carry only the failing report's end_at.
    return str(data.get("seen_until") or data.get("end_at") or "")


def judge(session: Session, ctx: Context, rep: TlsReportData) -> None:
    """Open or resolve the TLS-delivery Finding of each policy domain this new report covers."""
    brands = list(session.exec(select(Brand).order_by(Brand.slug)))
    end = _iso(rep.end_at)
    for pol in rep.policies:
        domain = pol.get("domain") or ""
        brand = brand_of_mail_domain(brands, domain) if domain else None
        if brand is None:
            continue  # a report also covering someone else's domain: theirs to read
        f = session.exec(select(Finding).where(Finding.key == finding_key(FindingKind.TLS_DELIVERY, domain))).first()
        seen = _seen_until(f)
        if end < seen:
            continue  # older than what the Finding already says: history, not news
        failed, ok = int(pol.get("failure") or 0), int(pol.get("success") or 0)
        if failed == 0:
            if f is not None:
                failed_until = str((f.data or {}).get("end_at") or "")
                f.data = {**(f.data or {}), "seen_until": end}
                session.add(f)
                if end > failed_until:  # the same day's failures from another sender still stand
                    resolve_finding(session, FindingKind.TLS_DELIVERY, domain, now=ctx.now(), actor=ctx.actor,
                                    note=f"clean TLS report {rep.org_name}!{rep.report_id}"[:200])
            continue
        kinds = Counter[str]()
        for d in pol.get("failures") or []:
            kinds[d.get("result_type") or "unknown"] += int(d.get("count") or 0)
        results = ", ".join(f"{k} ({n})" for k, n in kinds.most_common(5)) or "-"
        share = failed / max(1, failed + ok)
        severity = (Severity.HIGH if share >= HIGH_SHARE or CERTIFICATE_RESULTS & set(kinds) else Severity.MEDIUM)
        if (f is not None and f.status == FindingStatus.ACCEPTED
                and SEVERITY_ORDER.index(severity) <= SEVERITY_ORDER.index(f.severity)):
            f.data = {**(f.data or {}), "seen_until": end}
            f.last_seen_at = ctx.now()
            session.add(f)
            continue  # the risk a person accepted, reported again
        open_finding(
            session, FindingKind.TLS_DELIVERY, domain,
            text("mail.tls_delivery.title", domain=domain, failed=failed, total=failed + ok),
            severity=severity,
            detail=text("mail.tls_delivery.detail", org=rep.org_name or "-", policy=pol.get("type") or "-",
                        results=results, begin=_iso(rep.begin_at)[:10], end=end[:10]),
            data={"org": rep.org_name, "report_id": rep.report_id, "end_at": end, "seen_until": end,
                  "failed": failed, "succeeded": ok, "results": dict(kinds), "mx": pol.get("mx") or []},
            brand_id=brand.id, now=ctx.now(), actor=ctx.actor)
