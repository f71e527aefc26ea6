"""procrastinate on the PostgreSQL omamori already uses: the queue of ``omamori worker`` hosts.

Its tables live in their own PostgreSQL schema, ``procrastinate`` (every procrastinate connection
sets ``search_path`` to it), so omamori's Alembic-managed schema and procrastinate's never mix;
``ensure_schema`` creates it once per database (under an advisory lock: two hosts starting together
create it once). procrastinate is pinned to one minor version in pyproject.toml: its schema changes
between versions through its own migrations (``procrastinate/sql/migrations``).

A worker beats its heart into ``procrastinate_workers``; a worker killed outright (SIGKILL, a lost
host) stops beating, and ``retry_stalled`` (the scheduler's ``queue`` job) puts its running tasks
back in the queue. The tasks are idempotent by their database claims, so a retry never doubles a
candidate, a snapshot or a mail.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import sqlalchemy as sa
from procrastinate import App, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.schema import SchemaManager

from watcher.context import Context
from watcher.tasks.catalog import TASKS, Task
from watcher.tasks.queue import run_task

log = logging.getLogger("omamori.tasks")

SCHEMA = "procrastinate"
QUEUE = "omamori"
_SCHEMA_LOCK = 7_263_001  # pg_advisory_xact_lock key: one creator of the schema at a time


def conninfo(engine: sa.Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_schema(engine: sa.Engine) -> bool:
    """Create procrastinate's tables in their schema if missing; True when it created them."""
    with engine.begin() as conn:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
        if conn.exec_driver_sql(f"SELECT to_regclass('{SCHEMA}.procrastinate_jobs')").scalar():
            return False
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        conn.exec_driver_sql(f"SET LOCAL search_path TO {SCHEMA}")
        # The schema file is plain SQL with functions and triggers: sent as is, no parameters.
        raw: Any = conn.connection.driver_connection
        raw.execute(SchemaManager.get_schema())
    log.info("procrastinate's schema created in %s.%s", engine.url.database, SCHEMA)
    return True


def make_app(ctx: Context, *, stop: threading.Event | None = None, worker: str = "") -> App:
    """An App whose tasks run ``TASKS`` on ``ctx`` (a worker); also what the deferring side opens."""
    connector = PsycopgConnector(conninfo=conninfo(ctx.engine), min_size=1, max_size=4,
                                 kwargs={"options": f"-c search_path={SCHEMA}"})
    app = App(connector=connector)
    conf = ctx.settings.tasks
    for t in TASKS:
        app.task(name=t.name, queue=QUEUE, pass_context=False,
                 retry=RetryStrategy(max_attempts=conf.max_attempts, exponential_wait=2))(_runner(ctx, t, stop, worker))
    return app


def _runner(ctx: Context, t: Task, stop: threading.Event | None, worker: str) -> Any:
    def run(**kwargs: Any) -> dict[str, Any]:
        return run_task(ctx, t, kwargs, stop=stop, worker=worker)

    run.__name__ = f"task_{t.name}"
    return run


class PgQueue:
    """Defers tasks into procrastinate's tables (any thread; the connector keeps a pool)."""

    def __init__(self, ctx: Context) -> None:
        self.app = make_app(ctx)
        self.app.open()

    def defer(self, task: Task, *, lock: str | None = None, **kwargs: Any) -> None:
        try:
            self.app.configure_task(name=task.name, queue=QUEUE, queueing_lock=lock).defer(**kwargs)
        except AlreadyEnqueued:
            pass  # the same work already waits in the queue

    def close(self) -> None:
        self.app.close()


def run_worker(ctx: Context, stop: threading.Event, *, name: str) -> None:
    """Work the queue until ``stop``: ``tasks.concurrency`` tasks at once, each in its own thread."""
    conf = ctx.settings.tasks
    app = make_app(ctx, stop=stop, worker=name)

    async def main() -> None:
        async with app.open_async():
            work = asyncio.ensure_future(app.run_worker_async(
                queues=[QUEUE], name=name, concurrency=conf.concurrency, install_signal_handlers=False,
                fetch_job_polling_interval=conf.poll_seconds, update_heartbeat_interval=conf.heartbeat_seconds,
                stalled_worker_timeout=conf.stalled_after_seconds,
                shutdown_graceful_timeout=ctx.settings.jobs.stop_grace_seconds))
            while not stop.is_set() and not work.done():
                await asyncio.sleep(0.2)
            if not work.done():
                work.cancel()
            try:
                await work
            except asyncio.CancelledError:
                pass

    asyncio.run(main())


def retry_stalled(ctx: Context) -> dict[str, Any]:
    """Tasks of workers that stopped beating their heart go back in the queue; dead workers are pruned."""
    conf = ctx.settings.tasks
    # The common case, nobody died, costs one query; procrastinate's own manager only when needed.
    with ctx.engine.connect() as conn:
        dead = conn.exec_driver_sql(
            f"SELECT EXISTS (SELECT 1 FROM {SCHEMA}.procrastinate_workers WHERE last_heartbeat < "
            f"now() - make_interval(secs => %(s)s)) OR EXISTS (SELECT 1 FROM {SCHEMA}.procrastinate_jobs "
            "WHERE status = 'doing' AND worker_id IS NULL)", {"s": conf.stalled_after_seconds}).scalar()
    if not dead:
        return {"retried": 0, "workers_pruned": 0}
    app = make_app(ctx)

    async def go() -> dict[str, Any]:
        async with app.open_async():
            stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=conf.stalled_after_seconds))
            for job in stalled:
                await app.job_manager.retry_job(job)
                log.warning("task %s #%s of a dead worker is queued again", job.task_name, job.id)
            pruned = await app.job_manager.prune_stalled_workers(conf.stalled_after_seconds)
            return {"retried": len(stalled), "workers_pruned": len(pruned)}

    return asyncio.run(go())


def counts(ctx: Context) -> dict[str, int]:
    """Tasks by status (for ``omamori status``)."""
    with ctx.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"SELECT status::text, count(*) FROM {SCHEMA}.procrastinate_jobs GROUP BY 1").all()
    return {str(r[0]): int(r[1]) for r in rows}
