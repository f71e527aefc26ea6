"""One JOBS table drives APScheduler, ``omamori job NAME`` and the tests.

A job is a plain function ``(ctx) -> dict`` (its summary). ``run_job`` wraps every run: it records
the run in JobState and the Event log, and a failure never stops the scheduler: the job is retried
at its next interval, and after ``jobs.failing_after`` consecutive failures a Finding opens (and
resolves itself on the next success).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlmodel import Session

from watcher import health
from watcher.capture import snapshot
from watcher.context import Context
from watcher.core.events import record
from watcher.core.findings import open_finding, resolve_finding
from watcher.core.models import FindingKind, JobState, Severity
from watcher.core.texts import text
from watcher.discovery import intake, permutations
from watcher.discovery.ct import certstream
from watcher.discovery.ct import jobs as ct_jobs
from watcher.owned import inventory, mailauth
from watcher.report import weekly
from watcher.takedowns import blocklists, followup, replies

log = logging.getLogger("omamori.schedule")


JobFunction = Callable[[Context], dict[str, Any] | None]
ServiceFunction = Callable[[Context, threading.Event], None]


@dataclass(frozen=True)
class Job:
    name: str  # the CLI name and the key under [jobs] in config
    run: JobFunction
    summary: str  # one line for --help and the dashboard


JOBS: tuple[Job, ...] = (
    Job("ct_poll", ct_jobs.poll, "read new entries of every CT log and match them"),
    Job("permutations", permutations.scan, "generate typosquat permutations and resolve them"),
    Job("intake", intake.poll, "read reports from the abuse mailbox and feeds"),
    Job("snapshot", snapshot.run_due, "check due candidates: DNS, RDAP, capture, score, triage"),
    Job("takedowns", followup.run, "send queued requests, reminders and escalations; close when down"),
    Job("blocklists", blocklists.run, "submit confirmed phishing URLs to browser blocklists; check until listed"),
    Job("takedown_replies", replies.run, "read answers to takedown requests: bounces, tickets, replies"),
    Job("inventory", inventory.run, "check owned domains: expiry, locks, drop-catch, takeover"),
    Job("mailauth", mailauth.run, "check SPF, DKIM, DMARC, BIMI, MTA-STS of sending domains"),
    Job("dmarc_reports", mailauth.ingest_reports, "ingest DMARC aggregate reports"),
    Job("weekly_report", weekly.weekly, "render and mail the weekly domain-inventory report"),
    Job("health", health.run, "omamori watches itself: silent feeds, stale logs, failing jobs"),
)

# Long-running parts of `omamori run` (not interval jobs), each in its own thread until ``stop``.
SERVICES: tuple[tuple[str, ServiceFunction], ...] = (
    ("certstream", certstream.service),
)


def job(name: str) -> Job:
    for j in JOBS:
        if j.name == name:
            return j
    raise KeyError(f"no job {name!r}; jobs are: {', '.join(j.name for j in JOBS)}")


def run_job(ctx: Context, name: str, *, actor: str = "scheduler") -> dict[str, Any]:
    """Run one job now, recording the run. Never raises for a job's own failure."""
    j = job(name)
    started = ctx.now()
    with Session(ctx.engine, expire_on_commit=False) as s:
        state = s.get(JobState, name) or JobState(name=name)
        state.last_started_at = started
        s.add(state)
        s.commit()
    t0 = time.monotonic()
    error = ""
    summary: dict[str, Any] = {}
    try:
        summary = j.run(ctx) or {}
    except Exception as e:  # a job's failure is data, not a crash of the service
        error = f"{type(e).__name__}: {e}"
        log.error("job %s failed: %s\n%s", name, error, traceback.format_exc())
    elapsed = round(time.monotonic() - t0, 3)
    finished = ctx.now()
    with Session(ctx.engine, expire_on_commit=False) as s:
        state = s.get(JobState, name) or JobState(name=name)
        state.last_finished_at = finished
        state.runs += 1
        if error:
            state.consecutive_failures += 1
            state.last_error = error[:2000]
            record(s, actor, "job.failed", ("job", None), {"job": name, "error": error[:2000], "seconds": elapsed},
                   at=finished)
            if state.consecutive_failures >= ctx.settings.jobs.failing_after:
                open_finding(s, FindingKind.JOB_FAILING, name,
                             text("self.job_failing", job=name, n=state.consecutive_failures),
                             severity=Severity.HIGH, detail=error[:2000], now=finished,
                             data={"failures": state.consecutive_failures})
        else:
            state.consecutive_failures = 0
            state.last_ok_at = finished
            state.last_error = ""
            state.last_summary = _jsonable(summary)
            record(s, actor, "job.ran", ("job", None), {"job": name, "seconds": elapsed, **state.last_summary},
                   at=finished)
            resolve_finding(s, FindingKind.JOB_FAILING, name, now=finished)
        s.add(state)
        s.commit()
    return {"job": name, "ok": not error, "error": error, "seconds": elapsed, **summary}


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        out[k] = v if isinstance(v, str | int | float | bool | type(None) | list | dict) else str(v)
    return out


def build_scheduler(ctx: Context) -> BackgroundScheduler:
    sched = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone="UTC",
    )
    for j in JOBS:
        conf = getattr(ctx.settings.jobs, j.name)
        if not conf.enabled:
            continue
        sched.add_job(run_job, "interval", seconds=conf.interval_seconds, args=[ctx, j.name], id=j.name,
                      name=j.summary, next_run_time=ctx.now(), replace_existing=True)
    return sched


def start_services(ctx: Context, stop: threading.Event) -> list[threading.Thread]:
    threads = []
    for name, fn in SERVICES:
        t = threading.Thread(target=fn, args=(ctx, stop), name=f"omamori-{name}", daemon=True)
        t.start()
        threads.append(t)
    return threads
