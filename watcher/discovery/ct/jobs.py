"""The ``ct_poll`` job: one pass over every log of the log list (see watcher.discovery.ct.reader)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from watcher.context import Context
from watcher.core.jobresult import JobIncomplete
from watcher.discovery.ct import loglist
from watcher.discovery.ct.reader import check_stale, read_logs
from watcher.discovery.ct.watchdog import check_lag, retire_unlisted

# One pass reads at most this many entries per log, so a job run stays bounded after a long pause;
# the next run goes on from the saved position.
MAX_ENTRIES_PER_RUN = 500_000


def configured_logs(ctx: Context) -> list[loglist.LogInfo]:
    ct = ctx.settings.ct
    return loglist.load(ctx.settings.path(ct.log_list), include=ct.include_logs, exclude=ct.exclude_logs)


def poll(ctx: Context) -> dict[str, Any]:
    """One pass over every log, then the watchdog. A log that could not be read (unavailable, failed
    verification, or a reader that raised) makes the run incomplete: the summary says what was read
    and the run is recorded as failed, never as "ok"."""
    if not ctx.settings.ct.read_logs:
        return {"skipped": "ct.read_logs is off"}
    logs = configured_logs(ctx)
    results = read_logs(ctx, logs, max_entries=MAX_ENTRIES_PER_RUN, stop=ctx.run.event)
    with Session(ctx.engine) as s:
        retired = retire_unlisted(ctx, s, [lg.log_id for lg in logs])
        stale = check_stale(ctx, s)
        lagging = check_lag(ctx, s)
    failed = [r for r in results if r.error]
    summary = {
        "logs": len(results),
        "entries": sum(r.read for r in results),
        "failed_entries": sum(r.failed for r in results),
        "matched": sum(r.matched for r in results),
        "candidates": sum(r.candidates for r in results),
        "logs_with_errors": [r.log for r in failed],
        "stale_logs": stale,
        "lagging_logs": lagging,
        **({"retired_logs": retired} if retired else {}),
    }
    if failed:
        raise JobIncomplete(f"{len(failed)} of {len(results)} CT logs not read: "
                            + "; ".join(f"{r.log}: {r.error[:200]}" for r in failed), summary)
    return summary
