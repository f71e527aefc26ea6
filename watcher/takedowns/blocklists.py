"""The ``blocklists`` job: every confirmed phishing URL to the browser blocklists, then until listed.

A takedown takes hours to days; a blocklist protects customers within minutes (the browser warns
before the page loads). So every URL of a confirmed case goes to each configured service
(``watcher.clients.blocklists``) once, each submission an Event with the service's answer, and
the job then asks each service whether it lists the URL yet: the first listing of a case gives its
time-to-blocklisted, shown beside its time-to-down (``case_times``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from watcher.clients import blocklists as clients
from watcher.context import Context
from watcher.core.events import record
from watcher.core.models import (
    BlocklistStatus,
    BlocklistSubmission,
    Brand,
    Candidate,
    CandidateStatus,
    TakedownRequest,
)
from watcher.core.texts import t

log = logging.getLogger("omamori.takedowns")

ACTOR = "blocklists"
# Cases whose URLs go (and stay) on the lists: confirmed ones and those with requests out.
ACTIVE = (CandidateStatus.CONFIRMED, CandidateStatus.REPORTED)


def phishing_urls(cand: Candidate) -> list[str]:
    """The URLs a victim reaches (the reported paths; the bare site when discovery saw only a name)."""
    urls = [u for u in cand.urls if u.startswith(("http://", "https://"))]
    return list(dict.fromkeys(urls or [f"https://{cand.domain}/"]))


def submit_new(ctx: Context) -> dict[str, int]:
    services = clients.services(ctx.settings)
    counts = {"submitted": 0, "submit_failed": 0}
    if not services:
        return counts
    with ctx.session() as s:
        cands = s.exec(select(Candidate).where(col(Candidate.status).in_(ACTIVE))).all()
        done = {(b.candidate_id, b.service, b.url) for b in s.exec(select(BlocklistSubmission).where(
            col(BlocklistSubmission.candidate_id).in_([c.id for c in cands]))).all()}
        brands = {b.id: b.name for b in s.exec(select(Brand)).all()}
    for cand in cands:
        for service in services:
            for url in phishing_urls(cand):
                if (cand.id, service.name, url) in done:
                    continue
                brand = brands.get(cand.brand_id, "") if cand.brand_id else ""
                comment = t("takedown.blocklist_comment", "en", brand=brand or "-", domain=cand.domain)
                answer = service.submit(url, brand=brand, comment=comment)
                counts["submitted" if answer.ok else "submit_failed"] += 1
                with ctx.session() as s:
                    assert cand.id is not None
                    row = BlocklistSubmission(candidate_id=cand.id, service=service.name, url=url,
                                              status=BlocklistStatus.SUBMITTED if answer.ok else BlocklistStatus.FAILED,
                                              external_id=answer.external_id, submitted_at=ctx.now(),
                                              answer=answer.data, error=answer.error[:2000])
                    s.add(row)
                    s.flush()
                    record(s, ACTOR, "blocklist.submitted" if answer.ok else "blocklist.failed", row,
                           {"service": service.name, "url": url, "candidate": cand.domain, "status": answer.status,
                            "external_id": answer.external_id, "answer": answer.data, "error": answer.error},
                           at=ctx.now())
                    s.commit()
    return counts


def check_listed(ctx: Context) -> dict[str, int]:
    by_name = {s.name: s for s in clients.services(ctx.settings)}
    counts = {"listed": 0, "not_yet": 0}
    with ctx.session() as s:
        pending = s.exec(select(BlocklistSubmission).where(
            BlocklistSubmission.status == BlocklistStatus.SUBMITTED)).all()
    for row in pending:
        service = by_name.get(row.service)
        if service is None:
            continue
        answer = service.lookup(row.url, row.external_id)
        now = ctx.now()
        with ctx.session() as s:
            fresh = s.get(BlocklistSubmission, row.id)
            if fresh is None:
                continue
            fresh.last_checked_at = now
            if answer.listed:
                fresh.status, fresh.listed_at = BlocklistStatus.LISTED, now
                fresh.time_to_listed_seconds = max(0.0, (now - fresh.submitted_at).total_seconds())
                fresh.answer = answer.data
                record(s, ACTOR, "blocklist.listed", fresh,
                       {"service": fresh.service, "url": fresh.url, "answer": answer.data,
                        "time_to_listed_seconds": fresh.time_to_listed_seconds}, at=now)
                counts["listed"] += 1
            else:
                counts["not_yet"] += 1
            s.add(fresh)
            s.commit()
    return counts


def run(ctx: Context) -> dict[str, Any]:
    """The ``blocklists`` job: submit what is new, then ask about what is not listed yet."""
    out: dict[str, Any] = {"services": [s.name for s in clients.services(ctx.settings)]}
    out.update(submit_new(ctx))
    out.update(check_listed(ctx))
    return out


def first_listing(session: Session, candidate_ids: Iterable[int]) -> tuple[datetime | None, datetime | None]:
    """(first accepted submission, first listing) over the hostnames of one site: the two ends of its
    time-to-blocklisted. A refused submission starts no clock (nothing was asked of the service)."""
    ids = [i for i in candidate_ids if i is not None]
    subs = session.exec(select(BlocklistSubmission).where(col(BlocklistSubmission.candidate_id).in_(ids))).all() \
        if ids else []
    submitted = min((b.submitted_at for b in subs if b.status != BlocklistStatus.FAILED), default=None)
    listed = min((b.listed_at for b in subs if b.listed_at), default=None)
    return submitted, listed


def case_times(session: Session, cand: Candidate) -> dict[str, Any]:
    """A case's two clocks: time-to-blocklisted (first submission -> first listing) and time-to-down
    (first request sent -> the site seen gone), in seconds; None while still running."""
    assert cand.id is not None
    subs = session.exec(select(BlocklistSubmission).where(BlocklistSubmission.candidate_id == cand.id)).all()
    reqs = session.exec(select(TakedownRequest).where(TakedownRequest.candidate_id == cand.id)).all()
    submitted, listed = first_listing(session, [cand.id])
    sent = min((r.sent_at for r in reqs if r.sent_at), default=None)
    down = cand.down_at if cand.status == CandidateStatus.DOWN or cand.down_at else None
    return {
        "first_submitted_at": submitted, "first_listed_at": listed,
        "time_to_blocklisted_seconds": (listed - submitted).total_seconds() if listed and submitted else None,
        "listed_by": sorted({b.service for b in subs if b.status == BlocklistStatus.LISTED}),
        "first_sent_at": sent, "down_at": down,
        "time_to_down_seconds": max(0.0, (down - sent).total_seconds()) if down and sent else None,
        "mode": next((r.mode.value for r in reqs), ""),
    }
