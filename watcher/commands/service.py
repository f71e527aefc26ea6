"""omamori run, job, jobs, status: the service in the foreground, one job now, and how it is doing."""

from __future__ import annotations

import json
import logging
import re
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session, col, func, select

from watcher.commands import story as storyteller
from watcher.commands.invocation import actor, console, context, err, lang, said, say, word
from watcher.context import Context
from watcher.core import errorlog, lease
from watcher.core.brands import sync_brands
from watcher.core.models import (
    MOST_SEVERE_FIRST,
    Candidate,
    CandidateStatus,
    Finding,
    FindingStatus,
    JobState,
    Lease,
)
from watcher.core.texts import CATALOGUE
from watcher.discovery.ct.watchdog import lags
from watcher.schedule import JOBS, build_scheduler, job, run_job, start_services
from watcher.tasks import runtime


def setup_logging(level: str, log_file: Path | None = None) -> None:
    """Log to the terminal, or with ``log_file`` only to that file (``run --story``: the terminal is
    the story's, and the routine warnings of a busy scheduler are not)."""
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        logging.basicConfig(level=getattr(logging, level), format=fmt, force=True,
                            handlers=[logging.FileHandler(log_file, encoding="utf-8")])
    else:
        logging.basicConfig(level=getattr(logging, level), format=fmt)
    for noisy in ("apscheduler", "httpx", "httpcore", "scrapy", "urllib3", "websocket", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)



def run(
    allow_no_brands: Annotated[bool, typer.Option(
        "--allow-no-brands", help="start even with no brand configured (service.allow_no_brands)")] = False,
    story: Annotated[bool, typer.Option(
        "--story", help="print what happens (found, captured, confirmed, sent, down, findings, errors); "
                        "the log goes to --log-file")] = False,
    log_file: Annotated[Path | None, typer.Option(
        "--log-file", help="write the log here instead of the terminal (default with --story: "
                           "<state_dir>/omamori.log)")] = None,
) -> None:
    """Run the service in the foreground: the scheduler and the CT readers. Stops cleanly on Ctrl-C / SIGTERM.

    One instance per database is active; a second one waits as a standby and takes over when the
    first stops renewing its lease (it died, or lost the database). Without a brand it refuses to
    start (it would watch nothing) unless told so."""

    ctx = context()
    if not ctx.brands and not (allow_no_brands or ctx.settings.service.allow_no_brands):
        path = ctx.settings.path(ctx.settings.service.brands_file)
        why = say("cli.run.no_file" if not path.exists() else "cli.run.no_entries")
        err.print(f"[red]{escape(say('cli.run.no_brands', path=str(path), why=why))}[/]")
        raise typer.Exit(2)
    if story and log_file is None:
        log_file = ctx.settings.state_dir / "omamori.log"
    setup_logging(ctx.settings.service.log_level, log_file)
    recorder = errorlog.install(ctx.engine)  # every error logged from here on is kept for the health view
    log = logging.getLogger("omamori")
    warn_if_unguarded(ctx, log)
    with Session(ctx.engine) as s:
        counts = sync_brands(s, ctx.brands)
    log.info("brands synced: %s", counts)
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    conf = ctx.settings.service
    keeper = lease.Keeper(ctx.engine, "scheduler", ttl=conf.lease_seconds, now=ctx.now,
                          holder=lease.holder_id("run"))

    def standby(live: Lease | None) -> None:
        held_by = f"{live.holder} (until {live.expires_at:%H:%M:%S} UTC)" if live else "another instance"
        log.info("standby: the scheduler of this database is held by %s; taking over when it stops", held_by)

    teller: threading.Thread | None = None
    if story:
        console.print(escape(say("story.running", jobs=len(JOBS), log=log_file)), soft_wrap=True)
        teller = storyteller.start(ctx, stop, lang=lang(),
                                   emit=lambda line: console.print(escape(line), highlight=False, soft_wrap=True))
    # The task queue works on every instance, active or standby (on PostgreSQL with
    # tasks.worker_in_run; an in-process queue only serves this process's own jobs).
    tasks = runtime.start(ctx, stop, work=ctx.settings.tasks.worker_in_run, name=keeper.holder)
    log.info("task queue: %s%s", tasks.backend, ", working it here" if tasks.threads else "")
    while keeper.wait(stop, poll=conf.standby_poll_seconds, on_standby=standby):
        _lead(ctx, keeper, stop, log)
    keeper.release()
    stop.set()
    if teller is not None:
        teller.join(timeout=5)  # what the story still held is told before the last line
    tasks.close()
    errorlog.uninstall(recorder)
    log.info("stopped")


def _lead(ctx: Context, keeper: lease.Keeper, stop: threading.Event, log: logging.Logger) -> None:
    """The active instance: jobs and services run until SIGTERM or until the lease is lost."""
    term = threading.Event()  # this term as the active instance: set on SIGTERM or a lost lease
    sched = build_scheduler(ctx, term)
    sched.start()
    threads = start_services(ctx, term)
    assert keeper.held is not None
    log.info("omamori running: %d jobs, %d services, database %s, lease token %d", len(sched.get_jobs()),
             len(threads), ctx.engine.url.render_as_string(hide_password=True), keeper.held.token)
    while not stop.wait(keeper.renew_every):
        if not keeper.renew():
            log.error("the scheduler lease was lost (taken over by another instance): stopping every job")
            break
    term.set()
    sched.shutdown(wait=True)
    for t in threads:
        t.join(timeout=10)


def warn_if_unguarded(ctx: Context, log: logging.Logger) -> None:
    """Production without an egress proxy: every fetch of a phishing site leaves from the firm's own
    network. The guard still refuses private addresses, but say it loudly at every start."""
    settings = ctx.settings
    if settings.service.lab_mode or settings.crawl.proxy:
        return
    log.warning("crawl.proxy is empty: omamori fetches hostile sites directly from this host's network. "
                "Set crawl.proxy to an egress proxy outside the firm's network (see README, Real use).")


def job_cmd(
    name: Annotated[str, typer.Argument(help="job name; `omamori jobs` lists them")],
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Run one job now and print its summary."""

    ctx = context()
    setup_logging(ctx.settings.service.log_level)
    try:
        job(name)
    except KeyError:
        err.print(f"[red]{escape(say('cli.job.unknown', name=name))}[/]")
        raise typer.Exit(2) from None
    recorder = errorlog.install(ctx.engine)
    try:
        result = run_job(ctx, name, actor=actor())
    finally:
        errorlog.uninstall(recorder)
    if as_json:
        print(json.dumps(result, ensure_ascii=False, default=str))
    else:
        for k, v in result.items():
            console.print(f"[bold]{k}[/]: {v}", highlight=False)
    if not result["ok"]:
        raise typer.Exit(1)


def jobs_cmd() -> None:
    """List the jobs and their intervals."""

    settings = context(migrate=False).settings
    t = Table(*(say(f"cli.col.{c}") for c in ("job", "every", "enabled", "what")))
    for j in JOBS:
        conf = getattr(settings.jobs, j.name)
        t.add_row(j.name, _duration(conf.interval_seconds), say("cli.yes" if conf.enabled else "cli.no"),
                  say(f"self.job.{j.name}") if f"self.job.{j.name}" in CATALOGUE else j.summary)
    console.print(t)


def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Jobs and their last runs, candidates by status, open findings, CT log positions."""
    from watcher.schedule import JOBS

    ctx = context()
    with Session(ctx.engine) as s:
        states = {j.name: j for j in s.exec(select(JobState))}
        by_status = dict(s.exec(select(Candidate.status, func.count()).group_by(Candidate.status)).all())
        # Most severe first, then newest: a critical takeover must never fall off the end of the list.
        rank = sa.case(*((col(Finding.severity) == sev, i) for i, sev in enumerate(MOST_SEVERE_FIRST)), else_=9)
        findings = list(s.exec(select(Finding).where(Finding.status == FindingStatus.OPEN)
                               .order_by(rank, col(Finding.opened_at).desc()).limit(STATUS_FINDINGS)))
        n_findings = s.exec(select(func.count()).select_from(Finding)
                            .where(Finding.status == FindingStatus.OPEN)).one()
        by_severity = dict(s.exec(select(Finding.severity, func.count()).where(Finding.status == FindingStatus.OPEN)
                                  .group_by(Finding.severity)).all())
        logs = lags(ctx, s)
    tasks = _task_counts(ctx)
    if as_json:
        print(json.dumps({
            "tasks": tasks,
            "jobs": {n: {"last_ok_at": st.last_ok_at, "failures": st.consecutive_failures, "error": st.last_error}
                     for n, st in states.items()},
            "candidates": {str(k): v for k, v in by_status.items()},
            "open_findings": n_findings,
            "open_findings_by_severity": {str(k): v for k, v in by_severity.items()},
            "ct_logs": [lag.as_dict() for lag in logs],
        }, default=str, ensure_ascii=False))
        return
    console.print(say("cli.status.database", url=ctx.engine.url.render_as_string(hide_password=True)),
                  highlight=False)
    t = Table(*(say(f"cli.col.{c}") for c in ("job", "last_run", "last_ok", "failures", "last_error")),
              title=say("cli.status.jobs"))
    for j in JOBS:
        st = states.get(j.name)
        t.add_row(j.name, _ts(st.last_finished_at if st else None), _ts(st.last_ok_at if st else None),
                  str(st.consecutive_failures if st else 0), escape(st.last_error[:60] if st else ""))
    console.print(t)
    total = sum(by_status.values())
    ordered = sorted(by_status.items(), key=lambda kv: list(CandidateStatus).index(CandidateStatus(kv[0])))
    counts = _counts((word("status", k), v) for k, v in ordered)
    console.print(escape(say("cli.status.candidates", total=total)
                         + (say("cli.status.by_status", counts=counts) if by_status else "")), highlight=False)
    severities = _counts((word("severity", sev), by_severity[sev]) for sev in MOST_SEVERE_FIRST if by_severity.get(sev))
    console.print(escape(say("cli.status.findings", n=n_findings)
                         + (say("cli.status.by_status", counts=severities) if severities else "")), highlight=False)
    console.print(escape(say("cli.status.tasks", counts=_counts((word("task", k), v) for k, v in sorted(tasks.items()))
                             or say("cli.none"))), highlight=False)
    for f in findings:
        colour = SEVERITY_COLOUR.get(f.severity.value, "")
        tag = escape(f"[{word('severity', f.severity)}]")  # rich would read [critical] as markup and print nothing
        line = f"{tag} {escape(_subject(f.subject))}: {escape(said(f.title_text, f.title or f.kind))}"
        console.print(f"  [{colour}]{line}[/]" if colour else f"  {line}", highlight=False)
    if n_findings > len(findings):
        console.print("  " + escape(say("cli.status.more", n=n_findings - len(findings))), highlight=False)
    if logs:
        limits = ctx.settings.ct
        t = Table(*(say(f"cli.col.{c}") for c in ("ct_log", "behind_entries", "behind_minutes", "state", "last_error")),
                  title=say("cli.status.ct_logs", entries=f"{limits.lag_max_entries:,}",
                            minutes=f"{limits.lag_max_minutes:g}"))
        for lag in logs:
            late = lag.entries > limits.lag_max_entries or lag.minutes > limits.lag_max_minutes
            style = "[red]" if late else ""
            t.add_row(lag.log, f"{style}{lag.entries:,}", f"{style}{lag.minutes:.0f}", word("ctstate", lag.state),
                      lag.error[:60])
        console.print(t)


def _subject(subject: str) -> str:
    """A finding's subject as a person names it: a request is TD-<id>, as in its letter's subject."""
    return re.sub(r"^request:(\d+)$", r"TD-\1", subject)


def _counts(pairs: Any) -> str:
    """``new=3, checked=4`` (en) or ``新規 3、確認待ち 4`` (ja)."""
    parts = [say("cli.status.count", what=what, n=n) for what, n in pairs]
    return say("cli.list_sep").join(parts)


STATUS_FINDINGS = 20  # findings listed by `omamori status`; the rest are counted
SEVERITY_COLOUR = {"critical": "bold red", "high": "red", "medium": "yellow"}


def _ts(v: Any) -> str:
    return v.strftime("%Y-%m-%d %H:%M:%S") if v else "-"


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"




def _task_counts(ctx: Context) -> dict[str, int]:
    """The queue's tasks by status (PostgreSQL); an in-process queue keeps none in the database."""
    if runtime.backend(ctx) != "procrastinate":
        return {}
    from watcher.tasks import pgqueue

    try:
        return pgqueue.counts(ctx)
    except Exception:  # the queue's schema is created at the first `omamori run` / `omamori worker`
        return {}
