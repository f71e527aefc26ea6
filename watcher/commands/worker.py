"""omamori worker: work the task queue (checks, takedowns) on this host, beside any number of others."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated, Any

import typer
from rich.markup import escape

from watcher.commands.invocation import context, err, say
from watcher.commands.service import setup_logging
from watcher.core import lease
from watcher.tasks import runtime


def worker(
    concurrency: Annotated[int | None, typer.Option("--concurrency", "-n", min=1, max=32,
                                                    help="tasks at once (default tasks.concurrency)")] = None,
) -> None:
    """Work the task queue until Ctrl-C / SIGTERM: candidate checks (DNS, RDAP, capture, score) and the
    takedown side. Needs PostgreSQL (database.url); run as many as the work needs, on any hosts.
    A worker killed outright leaves its tasks to the scheduler's ``queue`` job, which queues them again."""
    ctx = context()
    setup_logging(ctx.settings.service.log_level)
    log = logging.getLogger("omamori.worker")
    if runtime.backend(ctx) != "procrastinate":
        err.print(f"[red]{escape(say('cli.worker.needs_pg'))}[/]")
        raise typer.Exit(2)
    if concurrency is not None:
        ctx.settings.tasks.concurrency = concurrency
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping after the running tasks reach a batch boundary", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    name = lease.holder_id("worker")
    running = runtime.start(ctx, stop, work=True, name=name)
    log.info("worker %s: %d tasks at once, database %s", name, ctx.settings.tasks.concurrency,
             ctx.engine.url.render_as_string(hide_password=True))
    while not stop.wait(0.5):
        if not any(t.is_alive() for t in running.threads):
            log.error("the worker loop ended by itself")
            break
    stop.set()
    running.close()
    log.info("stopped")
