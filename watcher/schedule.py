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
from datetime import datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from watcher import health
from watcher.alerts import engine as alerts
from watcher.context import Context
from watcher.core import lease
from watcher.core.errorlog import RECORDED
from watcher.core.events import record
from watcher.core.findings import open_finding, resolve_finding
from watcher.core.jobresult import JobIncomplete
from watcher.core.models import FindingKind, JobState, Severity
from watcher.core.runcontrol import JobStopped, RunControl
from watcher.core.texts import text
from watcher.discovery import feeds, intake, permutations, pivots
from watcher.discovery.ct import certstream
from watcher.discovery.ct import jobs as ct_jobs
from watcher.owned import mailauth, template_watch
from watcher.report import customer_alerts, weekly
from watcher.sharing import share
from watcher.takedowns import blocklists, followup, replies
from watcher.tasks import runtime

log = logging.getLogger("omamori.schedule")
RECORD_TRIES = 3


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
    Job("feeds", feeds.run, "pull the phishing URL feeds ([[feeds]]) through the egress proxy"),
    Job("pivots", pivots.run, "find the siblings of confirmed cases: certificate, domain, address, page"),
    Job("snapshot", runtime.snapshot_job, "check due candidates: DNS, RDAP, capture, score, triage"),
    Job("takedowns", followup.run, "send queued requests, reminders and escalations; close when down"),
    Job("blocklists", blocklists.run, "submit confirmed phishing URLs to browser blocklists; check until listed"),
    Job("takedown_replies", replies.run, "read answers to takedown requests: bounces, tickets, replies"),
    Job("inventory", runtime.inventory_job, "check owned domains: expiry, locks, drop-catch, takeover"),
    Job("mailauth", mailauth.run, "check SPF, DKIM, DMARC, BIMI, MTA-STS of sending domains"),
    Job("dmarc_reports", mailauth.ingest_reports, "ingest DMARC aggregate, failure and TLS reports; name the senders"),
    Job("message_lint", template_watch.run, "lint the firm's mail and SMS templates for login links"),
    Job("weekly_report", weekly.weekly, "send the weekly report when it is due (once per week, across restarts)"),
    Job("health", health.run, "omamori watches itself: silent feeds, stale logs, failing jobs"),
    Job("alerts", alerts.run, "tell the team: new cases, approvals, stalled takedowns, findings"),
    Job("publish", customer_alerts.publish, "customer alert page and official-domains list, when they change"),
    Job("share", share.run, "STIX bundles of confirmed cases; push them to MISP where configured"),
    Job("queue", runtime.queue_job, "put the tasks of dead workers back in the queue"),
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


# Runs abandoned after their deadline whose thread has not ended yet: job name -> (thread, started).
_STUCK: dict[str, tuple[threading.Thread, datetime]] = {}
_STUCK_LOCK = threading.Lock()


def run_job(ctx: Context, name: str, *, actor: str = "scheduler",
            stop: threading.Event | None = None) -> dict[str, Any]:
    """Run one job now, recording the run. Never raises for a job's own failure.

    The job runs in its own thread under a ``RunControl`` (its deadline, and ``stop``: the service
    shutting down or its lease lost); this thread watches it, aborts its blocking I/O when it must
    stop, and gives it ``jobs.stop_grace_seconds`` to reach a batch boundary. A run that is still
    blocked after that is abandoned and recorded as failed; until its thread ends, every next run of
    that job fails at once, loudly, instead of being skipped in silence. The lease ``job:<name>``
    keeps one run of a job at a time across processes (``omamori job`` beside the service).
    """
    j = job(name)
    jobs_conf = ctx.settings.jobs
    deadline = jobs_conf.deadline(name)
    started = ctx.now()
    t0 = time.monotonic()
    with _STUCK_LOCK:
        stuck = _STUCK.get(name)
        if stuck is not None and not stuck[0].is_alive():
            _STUCK.pop(name)
            stuck = None
    if stuck is not None:
        error = f"the run started at {stuck[1]:%Y-%m-%d %H:%M:%S} UTC is still stuck after its deadline"
        return _record(ctx, name, actor, started, error=error, summary={}, elapsed=0.0)
    holder = lease.holder_id(f"job:{name}")
    lease_name = f"job:{name}"
    # Renewed while the run goes on, so a process killed mid-run frees its jobs within seconds (not
    # after the whole deadline); an abandoned stuck run keeps it for its deadline, see below.
    ttl = max(2 * ctx.settings.service.lease_seconds, 5.0)
    held = lease.acquire(ctx.engine, lease_name, holder, ttl=ttl, now=started)
    if held is None:
        other = lease.current(ctx.engine, lease_name, now=started)
        who = other.holder if other is not None else "another process"
        log.info("job %s is already running (%s): skipped", name, who)
        return {"job": name, "ok": True, "error": "", "seconds": 0.0, "skipped": f"already running: {who}"}
    with Session(ctx.engine, expire_on_commit=False) as s:
        state = s.get(JobState, name) or JobState(name=name)
        state.last_started_at = started
        s.add(state)
        s.commit()
    control = RunControl(name, deadline_seconds=deadline, stop=stop)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["summary"] = j.run(ctx.for_run(control)) or {}
        except JobStopped as e:
            outcome["stopped"] = str(e)
        except JobIncomplete as e:  # it ran, but not all of it worked: the summary stays, the run failed
            outcome["summary"], outcome["error"] = e.summary, str(e)
            log.error("job %s incomplete: %s", name, e, extra={RECORDED: True})
        except Exception as e:  # a job's failure is data, not a crash of the service
            if control.reason:  # its I/O was closed under it because it had to stop
                outcome["stopped"] = control.reason
            else:
                outcome["error"] = f"{type(e).__name__}: {e}"
                log.error("job %s failed: %s\n%s", name, outcome["error"], traceback.format_exc(),
                          extra={RECORDED: True})

    worker = threading.Thread(target=work, name=f"job-{name}", daemon=True)
    worker.start()
    renewed = time.monotonic()
    while worker.is_alive():
        worker.join(0.25)
        if control.stopping:
            worker.join(jobs_conf.stop_grace_seconds)
            break
        if time.monotonic() - renewed > ttl / 3:
            renewed = time.monotonic()
            try:
                lease.renew(ctx.engine, lease_name, holder, ttl=ttl, now=ctx.now())
            except Exception as e:  # the database hiccuped: the run goes on, the next renewal may work
                log.warning("job %s: lease renewal failed: %s", name, e)
    elapsed = round(time.monotonic() - t0, 3)
    summary: dict[str, Any] = outcome.get("summary", {})
    error = outcome.get("error", "")
    if worker.is_alive():
        with _STUCK_LOCK:
            _STUCK[name] = (worker, started)
        # The stuck thread may still write: no other process runs this job for a whole deadline.
        lease.renew(ctx.engine, lease_name, holder, ttl=deadline + jobs_conf.stop_grace_seconds + 60,
                    now=ctx.now())
        error = (f"stopped: {control.reason}; still blocked {jobs_conf.stop_grace_seconds:g} s later, "
                 f"abandoned (its next runs fail until it ends)")
        log.error("job %s: %s", name, error, extra={RECORDED: True})
    elif control.reason:  # it had to stop: whatever it returned is partial
        if "deadline" in control.reason:
            error = f"stopped: {control.reason}"
        else:  # a shutdown is not the job's failure: recorded, and the job runs again at its next start
            lease.release(ctx.engine, lease_name, holder)
            return _record(ctx, name, actor, started, error="", summary={"stopped": control.reason},
                           elapsed=elapsed, stopped=True)
    if not worker.is_alive():
        lease.release(ctx.engine, lease_name, holder)
    return _record(ctx, name, actor, started, error=error, summary=summary, elapsed=elapsed)


def _record(ctx: Context, name: str, actor: str, started: datetime, *, error: str, summary: dict[str, Any],
            elapsed: float, stopped: bool = False) -> dict[str, Any]:
    """Store the run's outcome; a busy database is waited for (a few tries), since an outcome that is
    not stored is a failure nobody sees."""
    for attempt in range(RECORD_TRIES):
        try:
            return _record_once(ctx, name, actor, started, error=error, summary=summary, elapsed=elapsed,
                                stopped=stopped)
        except OperationalError as e:
            if attempt == RECORD_TRIES - 1:
                raise
            log.warning("job %s: could not record its run (%s); trying again", name, e.orig)
            time.sleep(1.0 + attempt)
    raise AssertionError("unreachable")


def _record_once(ctx: Context, name: str, actor: str, started: datetime, *, error: str, summary: dict[str, Any],
                 elapsed: float, stopped: bool = False) -> dict[str, Any]:
    finished = ctx.now()
    with Session(ctx.engine, expire_on_commit=False) as s:
        state = s.get(JobState, name) or JobState(name=name)
        state.last_finished_at = finished
        state.runs += 1
        if stopped:
            record(s, actor, "job.stopped", ("job", None), {"job": name, "seconds": elapsed, **summary}, at=finished)
        elif error:
            state.consecutive_failures += 1
            state.last_error = error[:2000]
            if summary:
                state.last_summary = _jsonable(summary)
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


def build_scheduler(ctx: Context, stop: threading.Event | None = None) -> BackgroundScheduler:
    """Every enabled job at its interval. A job's first run is one interval after its last start
    recorded in JobState (now if it never ran or is overdue), so a scheduler taking over from
    another, or restarted, keeps each job to once per interval."""
    with Session(ctx.engine) as s:
        last = {st.name: st.last_started_at for st in s.exec(select(JobState))}
    now = ctx.now()
    sched = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone="UTC",
    )
    for j in JOBS:
        conf = getattr(ctx.settings.jobs, j.name)
        if not conf.enabled:
            continue
        previous = last.get(j.name)
        first = max(now, previous + timedelta(seconds=conf.interval_seconds)) if previous else now
        sched.add_job(run_job, "interval", seconds=conf.interval_seconds, args=[ctx, j.name],
                      kwargs={"stop": stop}, id=j.name, name=j.summary, next_run_time=first,
                      replace_existing=True)
    return sched


def start_services(ctx: Context, stop: threading.Event) -> list[threading.Thread]:
    threads = []
    for name, fn in SERVICES:
        t = threading.Thread(target=fn, args=(ctx, stop), name=f"omamori-{name}", daemon=True)
        t.start()
        threads.append(t)
    return threads
