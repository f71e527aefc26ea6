"""SMTP TLS reports (RFC 8460): how other servers fared delivering to us over TLS (MTA-STS, DANE).

A report is JSON (usually gzip, ``application/tlsrpt+gzip``): per policy domain, the sessions that
succeeded and failed, and the failure details (``certificate-expired``, ``starttls-not-supported``,
``sts-policy-fetch-error``...). Failures mean customers' replies and inbound mail to the firm are
sent in clear or refused — and an attacker on the path may be the cause.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from watcher.owned.reportfiles import Refused

MAX_POLICIES = 100
MAX_DETAILS = 100


@dataclass
class TlsReportData:
    org_name: str
    report_id: str
    begin_at: datetime | None
    end_at: datetime | None
    policies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.org_name}!{self.report_id}"[:400]

    @property
    def domains(self) -> list[str]:
        return [p["domain"] for p in self.policies if p.get("domain")]


def _when(value: Any) -> datetime | None:
    try:
        d = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return d.astimezone(UTC) if d.tzinfo else d.replace(tzinfo=UTC)


def _int(value: Any) -> int:
    try:
        return max(0, min(int(value), 10**12))
    except (TypeError, ValueError):
        return 0


def parse(data: bytes) -> TlsReportData:
    """Parse one RFC 8460 report. Raises Refused with the reason."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise Refused(f"not JSON: {e}"[:200]) from None
    if not isinstance(doc, dict) or "policies" not in doc:
        raise Refused("not an SMTP TLS report (no policies)")
    dr = doc.get("date-range") or {}
    rep = TlsReportData(str(doc.get("organization-name") or "")[:200], str(doc.get("report-id") or "")[:200],
                        _when(dr.get("start-datetime")), _when(dr.get("end-datetime")))
    if not rep.report_id:
        raise Refused("no report-id")
    for p in (doc.get("policies") or [])[:MAX_POLICIES]:
        if not isinstance(p, dict):
            continue
        pol = p.get("policy") or {}
        summ = p.get("summary") or {}
        details = []
        for d in (p.get("failure-details") or [])[:MAX_DETAILS]:
            if isinstance(d, dict):
                details.append({"result_type": str(d.get("result-type", ""))[:80],
                                "sending_mta_ip": str(d.get("sending-mta-ip", ""))[:64],
                                "receiving_mx": str(d.get("receiving-mx-hostname", ""))[:253],
                                "receiving_ip": str(d.get("receiving-ip", ""))[:64],
                                "count": _int(d.get("failed-session-count")),
                                "reason_code": str(d.get("failure-reason-code", ""))[:120]})
        mx = pol.get("mx-host")
        rep.policies.append({
            "type": str(pol.get("policy-type", ""))[:40],
            "domain": str(pol.get("policy-domain", "")).lower().rstrip(".")[:253],
            "mx": [str(m)[:253] for m in (mx if isinstance(mx, list) else [mx] if mx else [])][:20],
            "success": _int(summ.get("total-successful-session-count")),
            "failure": _int(summ.get("total-failure-session-count")),
            "failures": details})
    if not rep.domains:
        raise Refused("no policy-domain in the report")
    return rep
