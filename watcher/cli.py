"""The ``omamori`` command line: the service, one-off jobs, and tools for staff.

Capabilities add their own command groups in their own modules (``SUBCOMMANDS``); this file holds
the commands of the foundation and the wiring.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import Session, func, select

from watcher.config import ROOT, ConfigError, load_settings
from watcher.context import Context, build_context

app = typer.Typer(
    name="omamori",
    help="omamori — brand protection and phishing takedown for securities firms (JSDA guideline IV.4).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
brands_app = typer.Typer(help="The protected brands (data/brands.toml).", no_args_is_help=True)
db_app = typer.Typer(help="The database: schema migrations.", no_args_is_help=True)
user_app = typer.Typer(help="Dashboard users.", no_args_is_help=True)
app.add_typer(brands_app, name="brands")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")

console = Console()
err = Console(stderr=True)

# Command groups of the capabilities: (name, "module:typer_app"). A module that is not there yet is
# skipped, so a partial checkout still has a working CLI.
SUBCOMMANDS: tuple[tuple[str, str], ...] = (
    ("ct", "watcher.ct.cli:app"),
    ("permutations", "watcher.permutations:cli"),
    ("intake", "watcher.intake:cli"),
    ("takedown", "watcher.takedowns:cli"),
    ("inventory", "watcher.inventory:cli"),
    ("mailauth", "watcher.mailauth:cli"),
    ("report", "watcher.report:cli"),
    ("data", "watcher.refdata:cli"),
    ("capture", "watcher.capture:cli"),
)
# Single commands of the capabilities: (name, "module:function").
COMMANDS: tuple[tuple[str, str], ...] = (
    ("match", "watcher.ct.cli:match"),
    ("lint-messages", "watcher.lint:lint_messages"),
)


class _State:
    config: Path | None = None
    ctx: Context | None = None


def _context(migrate: bool = True) -> Context:
    if _State.ctx is None:
        try:
            _State.ctx = build_context(load_settings(_State.config), migrate=migrate)
        except ConfigError as e:
            err.print(f"[red]config error:[/] {e}", highlight=False)
            raise typer.Exit(2) from None
    return _State.ctx


def context() -> Context:
    """The Context for command modules of the capabilities (built once per command)."""
    return _context()


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("apscheduler", "httpx", "httpcore", "scrapy", "urllib3", "websocket", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@app.callback()
def _main(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="config file (default data/config.toml)",
                                                envvar="OMAMORI_CONFIG")] = None,
) -> None:
    _State.config = config
    _State.ctx = None


@app.command()
def run() -> None:
    """Run the service in the foreground: the scheduler and the CT readers. Stops cleanly on Ctrl-C / SIGTERM."""
    from watcher.brands import sync_brands
    from watcher.schedule import build_scheduler, start_services

    ctx = _context()
    _setup_logging(ctx.settings.service.log_level)
    log = logging.getLogger("omamori")
    with Session(ctx.engine) as s:
        counts = sync_brands(s, ctx.brands)
    log.info("brands synced: %s", counts)
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    sched = build_scheduler(ctx)
    sched.start()
    threads = start_services(ctx, stop)
    log.info("omamori running: %d jobs, %d services, database %s", len(sched.get_jobs()), len(threads),
             ctx.engine.url.render_as_string(hide_password=True))
    stop.wait()
    sched.shutdown(wait=True)
    for t in threads:
        t.join(timeout=10)
    log.info("stopped")


@app.command("job")
def job_cmd(
    name: Annotated[str, typer.Argument(help="job name; `omamori jobs` lists them")],
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Run one job now and print its summary."""
    from watcher.schedule import job, run_job

    ctx = _context()
    _setup_logging(ctx.settings.service.log_level)
    try:
        job(name)
    except KeyError as e:
        err.print(f"[red]{e.args[0]}[/]")
        raise typer.Exit(2) from None
    result = run_job(ctx, name, actor=f"cli:{_user()}")
    if as_json:
        print(json.dumps(result, ensure_ascii=False, default=str))
    else:
        for k, v in result.items():
            console.print(f"[bold]{k}[/]: {v}", highlight=False)
    if not result["ok"]:
        raise typer.Exit(1)


@app.command("jobs")
def jobs_cmd() -> None:
    """List the jobs and their intervals."""
    from watcher.schedule import JOBS

    settings = _context(migrate=False).settings
    t = Table("job", "every", "enabled", "what it does")
    for j in JOBS:
        conf = getattr(settings.jobs, j.name)
        t.add_row(j.name, _duration(conf.interval_seconds), "yes" if conf.enabled else "no", j.summary)
    console.print(t)


@app.command()
def check(name: Annotated[str, typer.Argument(help="a domain name or URL")]) -> None:
    """Look at one domain now and print what omamori sees (normalisation, DNS, RDAP, match, records)."""
    from watcher.discover import OwnedIndex, host_of
    from watcher.models import Candidate
    from watcher.names import InvalidName

    ctx = _context()
    try:
        n, _url = host_of(name)
    except InvalidName as e:
        err.print(f"[red]invalid name:[/] {e}")
        raise typer.Exit(2) from None
    console.print(f"[bold]{n.ascii}[/]  ({n.unicode})  registrable: {n.registrable or '-'}  site: {n.site or '-'}")
    with Session(ctx.engine) as s:
        owner = OwnedIndex.from_brands(ctx.brands, s).owner_of(n.ascii)
    if owner:
        console.print(f"[green]ours[/]: within {owner}")
    prof = ctx.resolver.profile_sync(n.ascii)
    for rtype, status in prof.statuses.items():
        console.print(f"  DNS {rtype:5} {status:8} {', '.join(prof.records.get(rtype, []))}", highlight=False)
    for label, target in (("match", "watcher.ct.matcher:explain"), ("rdap", "watcher.rdap:explain")):
        fn = _optional(target)
        if fn is None:
            continue
        try:
            for line in fn(ctx, n.ascii):
                console.print(f"  {label}: {line}", highlight=False)
        except Exception as e:  # show what failed, keep showing the rest
            console.print(f"  {label}: [red]{type(e).__name__}: {e}[/]", highlight=False)
    with Session(ctx.engine) as s:
        cand = s.exec(select(Candidate).where(Candidate.domain == n.ascii)).first()
    if cand:
        console.print(f"  candidate #{cand.id}: {cand.status.value}, verdict {cand.verdict.value}, score {cand.score}")
        for r in cand.reasons:
            console.print(f"    - {r['detail']} (+{r['points']})", highlight=False)
    elif not owner:
        console.print("  not a candidate yet")


@app.command()
def add(
    url: Annotated[str, typer.Argument(help="the suspicious URL or domain")],
    brand: Annotated[str | None, typer.Option(help="brand slug it impersonates")] = None,
    note: Annotated[str, typer.Option(help="what the reporter said")] = "",
    reporter: Annotated[str, typer.Option(help="who reported it (default: you)")] = "",
) -> None:
    """Report a suspicious URL (it becomes a candidate and is checked soon)."""
    from watcher.intake import submit_url

    ctx = _context()
    who = reporter or _user()
    if brand:
        try:
            ctx.brand(brand)
        except KeyError as e:
            err.print(f"[red]{e.args[0]}[/]")
            raise typer.Exit(2) from None
    with Session(ctx.engine, expire_on_commit=False) as s:
        out = submit_url(ctx, s, url, reporter=who, note=note, channel="cli", brand=brand)
        s.commit()
    if out.candidate is None:
        err.print(f"[yellow]not added:[/] {out.skipped}")
        raise typer.Exit(1)
    verb = "added" if out.created else "already known, updated"
    console.print(f"candidate #{out.candidate.id} {out.candidate.domain}: {verb}")


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Jobs and their last runs, candidates by status, open findings, CT log positions."""
    from watcher.models import Candidate, Finding, FindingStatus, JobState, LogPosition
    from watcher.schedule import JOBS

    ctx = _context()
    with Session(ctx.engine) as s:
        states = {j.name: j for j in s.exec(select(JobState))}
        by_status = dict(s.exec(select(Candidate.status, func.count()).group_by(Candidate.status)).all())
        findings = list(s.exec(select(Finding).where(Finding.status == FindingStatus.OPEN)
                               .order_by(Finding.opened_at.desc()).limit(20)))  # type: ignore[attr-defined]
        n_findings = s.exec(select(func.count()).select_from(Finding)
                            .where(Finding.status == FindingStatus.OPEN)).one()
        logs = list(s.exec(select(LogPosition)))
    if as_json:
        print(json.dumps({
            "jobs": {n: {"last_ok_at": st.last_ok_at, "failures": st.consecutive_failures, "error": st.last_error}
                     for n, st in states.items()},
            "candidates": {str(k): v for k, v in by_status.items()},
            "open_findings": n_findings,
            "ct_logs": [{"url": p.url, "next_index": p.next_index, "tree_size": p.tree_size, "state": p.state}
                        for p in logs],
        }, default=str, ensure_ascii=False))
        return
    console.print(f"database: {ctx.engine.url.render_as_string(hide_password=True)}", highlight=False)
    t = Table("job", "last run (UTC)", "last ok", "failures", "last error", title="jobs")
    for j in JOBS:
        st = states.get(j.name)
        t.add_row(j.name, _ts(st.last_finished_at if st else None), _ts(st.last_ok_at if st else None),
                  str(st.consecutive_failures if st else 0), (st.last_error[:60] if st else ""))
    console.print(t)
    console.print("candidates: " + (", ".join(f"{k}={v}" for k, v in sorted(by_status.items())) or "none"))
    console.print(f"open findings: {n_findings}")
    for f in findings:
        console.print(f"  [{f.severity.value}] {f.kind} {f.subject}: {f.title}", highlight=False)
    if logs:
        t = Table("CT log", "next index", "tree size", "state", title="CT logs")
        for p in logs:
            t.add_row(p.description or p.url, str(p.next_index), str(p.tree_size), p.state)
        console.print(t)


@brands_app.command("sync")
def brands_sync() -> None:
    """Write data/brands.toml into the database (idempotent)."""
    from watcher.brands import sync_brands

    ctx = _context()
    if not ctx.brands:
        err.print(f"[yellow]no brands in {ctx.settings.path(ctx.settings.service.brands_file)}[/]")
    with Session(ctx.engine) as s:
        counts = sync_brands(s, ctx.brands, actor=f"cli:{_user()}")
    console.print(", ".join(f"{k}: {v}" for k, v in counts.items()))


@brands_app.command("list")
def brands_list() -> None:
    """Show the protected brands and their official domains."""
    ctx = _context(migrate=False)
    for b in ctx.brands:
        console.print(f"[bold]{b.slug}[/] {b.name} {b.name_ja}: {', '.join(b.official_domains)}", highlight=False)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Bring the database schema up to date (safe to repeat)."""
    from watcher.db import current_revision, upgrade

    ctx = _context(migrate=False)
    before = current_revision(ctx.engine)
    upgrade(ctx.engine, revision)
    console.print(f"schema: {before or 'empty'} -> {current_revision(ctx.engine)}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the database and of this code."""
    from watcher.db import current_revision, head_revision

    ctx = _context(migrate=False)
    console.print(f"database: {current_revision(ctx.engine) or 'empty'}; code: {head_revision()}")


@user_app.command("hash-password")
def hash_password_cmd() -> None:
    """Read a password (twice, hidden) and print the hash for [[dashboard.users]] in config."""
    from watcher.auth import hash_password

    pw = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    print(hash_password(pw))


@app.command()
def dashboard(port: Annotated[int | None, typer.Option(help="port (default from config)")] = None) -> None:
    """Serve the Streamlit dashboard."""
    ctx = _context()
    env = dict(os.environ)
    if _State.config:
        env["OMAMORI_CONFIG"] = str(_State.config.resolve())
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
           "--server.headless", "true", "--server.port", str(port or ctx.settings.dashboard.port),
           "--server.address", ctx.settings.dashboard.address, "--browser.gatherUsageStats", "false"]
    # Become Streamlit (exec), so a supervisor's SIGTERM reaches it instead of leaving it orphaned.
    os.chdir(ROOT)
    os.execve(sys.executable, cmd, env)


def _optional(target: str) -> Any:
    module, attr = target.split(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except ModuleNotFoundError as e:
        if e.name and module.startswith(e.name):
            return None
        raise
    except AttributeError:
        return None


def _register_capabilities() -> None:
    for name, target in SUBCOMMANDS:
        sub = _optional(target)
        if sub is not None:
            app.add_typer(sub, name=name)
    for name, target in COMMANDS:
        fn = _optional(target)
        if fn is not None:
            app.command(name)(fn)


def _user() -> str:
    try:
        return os.getlogin()
    except OSError:
        return os.environ.get("USER", "unknown")


def _ts(v: Any) -> str:
    return v.strftime("%Y-%m-%d %H:%M:%S") if v else "-"


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


_register_capabilities()


def main() -> None:
    app()
