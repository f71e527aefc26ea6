"""omamori watches itself: a silent certstream feed, a stale CT log, a failing job opens a Finding.

The CT reader and the certstream client record their own state (LogPosition, JobState of
``certstream``); this job only compares that state with the clock and the configured limits.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from watcher.context import Context
from watcher.core.findings import open_finding, resolve_finding
from watcher.core.models import FindingKind, JobState, LogPosition, Severity
from watcher.core.texts import text
from watcher.discovery.ct.watchdog import check_lag


def run(ctx: Context) -> dict[str, Any]:
    now = ctx.now()
    opened = 0
    with Session(ctx.engine, expire_on_commit=False) as s:
        stale = timedelta(minutes=ctx.settings.ct.stale_after_minutes)
        for pos in s.exec(select(LogPosition).where(LogPosition.state != "retired")):
            last = pos.last_growth_at or pos.updated_at
            if last and now - last > stale:
                open_finding(s, FindingKind.CT_LOG_STALE, pos.url,
                             text("self.ct_log_stale", log=pos.description or pos.url, since=f"{last:%Y-%m-%d %H:%M}"),
                             severity=Severity.MEDIUM, now=now, data={"log_id": pos.log_id})
                opened += 1
            else:
                resolve_finding(s, FindingKind.CT_LOG_STALE, pos.url, now=now)
        if ctx.settings.ct.certstream_urls:
            silence = timedelta(minutes=ctx.settings.ct.certstream_silence_minutes)
            state = s.get(JobState, "certstream")
            last_ok = state.last_ok_at if state else None
            if last_ok is None or now - last_ok > silence:
                title = (text("self.feed_silent_since", feed="certstream", since=f"{last_ok:%Y-%m-%d %H:%M}")
                         if last_ok else text("self.feed_silent_start", feed="certstream"))
                open_finding(s, FindingKind.FEED_SILENT, "certstream", title,
                             severity=Severity.HIGH, now=now)
                opened += 1
            else:
                resolve_finding(s, FindingKind.FEED_SILENT, "certstream", now=now)
        s.commit()
        lagging = check_lag(ctx, s)
    return {"opened": opened, "lagging_logs": lagging}
