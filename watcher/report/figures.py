"""The numbers management reads, counted per site (a ``Case``), never per e-mail or per hostname.

- ``week(session, start, end)``: what happened in one window — sites found, confirmed, taken down,
  still open at its end; time to down and time to blocklisted (median and 90th percentile, hours).
- ``trend(session, end, weeks=8)``: the same figures for each of the last weeks, oldest first.
- ``site_rows``: one row per site active in the window, for the detail page and the CSV.
- ``decisions``: what waits for a person — approvals, candidates to judge, stalled takedowns,
  critical and high findings.

Time to down of a site: from its first takedown request sent (its confirmation when no request went
out) to the moment its case closed with a hostname down. Time to blocklisted: from the first
blocklist submission to the first listing (``blocklist_hours``).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from watcher.core import casefacts
from watcher.core.casefacts import CaseFacts, live_cases, requests_of
from watcher.core.models import (
    CandidateStatus,
    CaseStatus,
    Finding,
    FindingGroup,
    FindingStatus,
    RequestStatus,
    Severity,
)
from watcher.core.texts import WORDS
from watcher.takedowns.blocklists import first_listing

SEVERE = (Severity.CRITICAL, Severity.HIGH)


def hours(seconds: float) -> float:
    return round(seconds / 3600, 1)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (the value a reader can find in the list), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _in(t: datetime | None, start: datetime, end: datetime) -> bool:
    return t is not None and start <= t < end


def went_down(f: CaseFacts) -> bool:
    return f.case.status == CaseStatus.CLOSED and any(c.status == CandidateStatus.DOWN for c in f.hosts)


def down_seconds(session: Session, f: CaseFacts) -> float | None:
    if not went_down(f) or f.case.closed_at is None:
        return None
    sent = [r.sent_at for r in requests_of(session, f) if r.sent_at]
    since = min(sent) if sent else f.confirmed_at
    if since is None:
        return None
    return max(0.0, (f.case.closed_at - since).total_seconds())


def blocklist_hours(session: Session, f: CaseFacts) -> float | None:
    """Hours from the site's first accepted blocklist submission to its first listing
    (``takedowns.blocklists.first_listing``, the clock the dashboard shows too); None while unlisted."""
    submitted, listed = first_listing(session, f.candidate_ids())
    if submitted is None or listed is None:
        return None
    return hours(max(0.0, (listed - submitted).total_seconds()))


def _listed_at(session: Session, f: CaseFacts) -> datetime | None:
    return first_listing(session, f.candidate_ids())[1]


@dataclass
class Week:
    start: datetime
    end: datetime
    new_sites: int
    confirmed_sites: int
    down_sites: int
    open_sites: int
    ttd_hours: list[float]
    ttb_hours: list[float]
    severe_findings: int
    findings_opened: int
    findings_resolved: int

    @property
    def median_ttd(self) -> float | None:
        m = median(self.ttd_hours)
        return round(m, 1) if m is not None else None

    @property
    def p90_ttd(self) -> float | None:
        return percentile(self.ttd_hours, 90)

    @property
    def median_ttb(self) -> float | None:
        m = median(self.ttb_hours)
        return round(m, 1) if m is not None else None

    @property
    def p90_ttb(self) -> float | None:
        return percentile(self.ttb_hours, 90)

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "new_sites": self.new_sites,
                "confirmed_sites": self.confirmed_sites, "down_sites": self.down_sites, "open_sites": self.open_sites,
                "median_ttd_hours": self.median_ttd, "p90_ttd_hours": self.p90_ttd,
                "median_ttb_hours": self.median_ttb, "p90_ttb_hours": self.p90_ttb,
                "blocklisted_sites": len(self.ttb_hours), "severe_findings": self.severe_findings,
                "findings_opened": self.findings_opened, "findings_resolved": self.findings_resolved}


def week(session: Session, start: datetime, end: datetime, cases: list[CaseFacts] | None = None) -> Week:
    cases = live_cases(session) if cases is None else cases
    new = [f for f in cases if _in(f.case.opened_at, start, end)]
    confirmed = [f for f in cases if _in(f.confirmed_at, start, end)]
    down = [f for f in cases if went_down(f) and _in(f.case.closed_at, start, end)]
    still_open = [f for f in cases if f.confirmed_at is not None and f.confirmed_at < end
                  and (f.case.closed_at is None or f.case.closed_at >= end)]
    ttd = [hours(s) for s in (down_seconds(session, f) for f in down) if s is not None]
    ttb = [h for f in cases if _in(_listed_at(session, f), start, end)
           for h in [blocklist_hours(session, f)] if h is not None]
    findings = list(session.exec(select(Finding)))
    severe = [f for f in findings if f.severity in SEVERE and f.status != FindingStatus.ACCEPTED
              and f.kind.group != FindingGroup.TAKEDOWN and f.opened_at < end
              and (f.resolved_at is None or f.resolved_at >= end)]
    return Week(start, end, len(new), len(confirmed), len(down), len(still_open), ttd, ttb, len(severe),
                sum(1 for f in findings if _in(f.opened_at, start, end)),
                sum(1 for f in findings if _in(f.resolved_at, start, end)))


def trend(session: Session, end: datetime, weeks: int = 8) -> list[Week]:
    """The last ``weeks`` weeks ending at ``end``, oldest first."""
    cases = live_cases(session)
    return [week(session, end - timedelta(days=7 * (i + 1)), end - timedelta(days=7 * i), cases)
            for i in reversed(range(weeks))]


def site_rows(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """One row per site that was confirmed, asked about, taken down or still open in the window."""
    rows = []
    for f in live_cases(session):
        reqs = requests_of(session, f)
        sent = [r for r in reqs if r.sent_at]
        active = (_in(f.confirmed_at, start, end) or any(_in(r.sent_at, start, end) for r in reqs)
                  or _in(f.case.closed_at, start, end)
                  or (f.confirmed and f.case.status == CaseStatus.OPEN))
        if not active or not f.confirmed:
            continue
        secs = down_seconds(session, f)
        rows.append({"case": f.id, "site": f.site, "hosts": len(f.hosts),
                     "hostnames": " ".join(c.domain for c in f.hosts), "status": f.case.status.value,
                     "down": went_down(f), "confirmed_at": f.confirmed_at.isoformat() if f.confirmed_at else "",
                     "requests": len(sent), "recipients": len({r.recipient for r in sent}),
                     "ttd_hours": hours(secs) if secs is not None else None,
                     "ttb_hours": blocklist_hours(session, f)})
    rows.sort(key=lambda r: (r["status"] != "open", r["case"]))
    return rows


def decisions(session: Session, *, high_score: int) -> list[dict[str, Any]]:
    """What waits for a person, most urgent first: each item a catalogue key and its parameters."""
    out: list[dict[str, Any]] = []
    for f in live_cases(session, status=CaseStatus.OPEN):
        reqs = requests_of(session, f)
        drafts = [r for r in reqs if r.status == RequestStatus.DRAFT]
        if drafts:
            out.append({"rank": 1, "key": "report.decide.approve", "params": {"site": f.site, "n": len(drafts)}})
        failed = [r for r in reqs if r.status == RequestStatus.FAILED]
        stalled = [x for x in session.exec(select(Finding).where(
            Finding.status == FindingStatus.OPEN, col(Finding.subject).in_([c.domain for c in f.hosts])))
            if x.kind.group == FindingGroup.TAKEDOWN]
        if failed or stalled:
            why = failed[0].last_error[:120] if failed else stalled[0].title[:120]
            out.append({"rank": 2, "key": "report.decide.stalled", "params": {"site": f.site, "why": why}})
        if not f.confirmed:
            best = max((c.score for c in f.hosts if c.status == CandidateStatus.CHECKED), default=-1)
            if best >= high_score:
                out.append({"rank": 3, "key": "report.decide.review", "params": {"site": f.site, "score": best}})
    for fnd in session.exec(select(Finding).where(Finding.status == FindingStatus.OPEN)):
        if fnd.severity in SEVERE and fnd.kind.group != FindingGroup.TAKEDOWN:
            out.append({"rank": 0 if fnd.severity == Severity.CRITICAL else 4, "key": "report.decide.finding",
                        "params": {"severity": {"key": f"{WORDS['severity']}.{fnd.severity.value}", "params": {}},
                                   "title": fnd.title_text or fnd.title}})
    out.sort(key=lambda d: d["rank"])
    return out


def person_confirmed(session: Session, f: CaseFacts) -> bool:
    return casefacts.person_confirmation(session, f) is not None
