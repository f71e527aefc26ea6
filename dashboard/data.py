"""Cached reads: the query module behind ``st.cache_data`` with short TTLs.

Several people look at the same queue; a 10-second cache turns their reruns (every click reruns the
script) into one query, while a decision clears the cache so its author sees the change at once.
The key of every cached call is the database URL plus plain arguments, so two configs (two test
databases) never share results.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine

from dashboard import queries as q
from watcher.context import Context, build_context
from watcher.core.config import Settings, load_settings
from watcher.core.db import make_engine

TTL = 10  # seconds: fresh enough for triage, and a write clears it anyway
SLOW_TTL = 60  # health, inventory, reports: they change by the job, not by the minute


def settings() -> Settings:
    # Read every run (a TOML parse): a user's role removed from the config takes effect at once.
    return load_settings()


@st.cache_resource(show_spinner=False)
def _context(source: str, database_url: str) -> Context:
    return build_context(load_settings(source or None))


def context(s: Settings) -> Context:
    return _context(str(s.source or ""), s.database_url)


@st.cache_resource(show_spinner=False)
def engine(db: str) -> Engine:
    return make_engine(db)


def clear() -> None:
    """After a write: the next read of every view is fresh."""
    st.cache_data.clear()


@st.cache_data(ttl=SLOW_TTL, show_spinner=False)
def brands(db: str) -> list[q.Row]:
    return q.brands(engine(db))


@st.cache_data(ttl=TTL, show_spinner=False)
def status_counts(db: str) -> dict[str, int]:
    return q.status_counts(engine(db))


@st.cache_data(ttl=TTL, show_spinner=False)
def queue_page(db: str, statuses: tuple[str, ...], brand_id: int | None, sources: tuple[str, ...],
               verdicts: tuple[str, ...], since: datetime | None, contains: str, limit: int,
               offset: int) -> tuple[list[q.Row], int]:
    f = q.QueueFilter(statuses=statuses, brand_id=brand_id, sources=sources, verdicts=verdicts, since=since,
                      domain_contains=contains)
    return q.queue_page(engine(db), f, limit=limit, offset=offset)


@st.cache_data(ttl=TTL, show_spinner=False)
def candidate_bundle(db: str, candidate_id: int) -> dict[str, Any] | None:
    """Everything the candidate view reads, in one cached call."""
    e = engine(db)
    cand = q.candidate(e, candidate_id)
    if cand is None:
        return None
    reqs = q.candidate_requests(e, candidate_id)
    return {
        "candidate": cand,
        # The evidence: the last capture that showed the site live; the latest check beside it.
        "snapshot": q.evidence_snapshot(e, candidate_id) or q.latest_snapshot(e, candidate_id),
        "latest": q.latest_snapshot(e, candidate_id),
        "snapshots": q.snapshot_timeline(e, candidate_id),
        "events": q.object_events(e, "candidate", candidate_id),
        "requests": reqs,
        "request_events": q.request_events(e, [r["id"] for r in reqs]),
    }


@st.cache_data(ttl=TTL, show_spinner=False)
def takedown_overview(db: str, now: datetime, remind_after_hours: float) -> dict[str, Any]:
    e = engine(db)
    return {
        "by_recipient": q.open_by_recipient(e),
        "findings": q.takedown_findings(e),
        "outcomes": q.request_outcomes(e),
        "reminders": q.reminders_due(e, now, remind_after_hours),
        "ttd": q.time_to_down_hours(e),
        "cases": q.takedown_cases(e),
        "needs_person": q.needs_person(e),
    }


@st.cache_data(ttl=TTL, show_spinner=False)
def open_requests_page(db: str, limit: int, offset: int) -> tuple[list[q.Row], int]:
    return q.open_requests_page(engine(db), limit=limit, offset=offset)


@st.cache_data(ttl=SLOW_TTL, show_spinner=False)
def owned(db: str, limit: int, offset: int) -> dict[str, Any]:
    e = engine(db)
    rows, total = q.owned_domains(e, limit=limit, offset=offset)
    return {"rows": rows, "total": total, "expiry": q.expiry_points(e), "findings": q.owned_findings(e),
            "certificates": q.owned_certificates(e)}


@st.cache_data(ttl=TTL, show_spinner=False)
def decidable_findings(db: str) -> list[q.Row]:
    return q.decidable_findings(engine(db))


@st.cache_data(ttl=SLOW_TTL, show_spinner=False)
def mail(db: str, sending_domains: tuple[str, ...], since: datetime) -> dict[str, Any]:
    e = engine(db)
    return {"state": q.mail_state(e, sending_domains), "checked_at": q.job_last_ok(e, "mailauth"),
            "dmarc": q.dmarc_summary(e, since)}


@st.cache_data(ttl=SLOW_TTL, show_spinner=False)
def road_to_reject(db: str, now: datetime, days: int, target: float, lang: str) -> list[q.Row]:
    return q.road_to_reject(engine(db), now, days, target, lang)


@st.cache_data(ttl=SLOW_TTL, show_spinner=False)
def mail_reports(db: str, since: datetime) -> dict[str, Any]:
    e = engine(db)
    return {"failures": q.failure_reports(e, since), "tls": q.tls_reports(e, since),
            "smime": q.open_findings(e, kinds=[q.K.SMIME]), "templates": q.open_findings(e, kinds=[q.K.MESSAGE_LINK])}


@st.cache_data(ttl=TTL, show_spinner=False)
def health(db: str) -> dict[str, Any]:
    e = engine(db)
    return {"logs": q.log_positions(e), "jobs": q.job_states(e), "failures": q.job_failures(e),
            "findings": q.self_findings(e), "feeds": q.feed_states(e)}


@st.cache_data(ttl=TTL, show_spinner=False)
def needs_me(db: str, since: datetime) -> dict[str, Any]:
    """Everything the first view reads, in one cached call."""
    e = engine(db)
    return {"counts": q.needs_me(e), "in_flight": q.in_flight(e), "auto": q.auto_handled(e, since)}


def last_looked(db: str, actor: str) -> datetime | None:
    return q.last_looked(engine(db), actor)
