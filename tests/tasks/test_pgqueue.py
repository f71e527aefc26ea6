"""procrastinate on the suite's throw-away PostgreSQL: its schema in its own PostgreSQL schema,
queueing locks that fold a burst of nudges into one task, a worker that runs tasks, and the tasks of
a dead worker (no heartbeat) put back in the queue by the scheduler's ``queue`` job."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from tests.conftest import make_settings
from watcher.context import build_context
from watcher.tasks import pgqueue, runtime
from watcher.tasks.catalog import task
from watcher.tasks.nudge import QueueNudge

pytestmark = pytest.mark.postgres


def _jobs(ctx) -> list[tuple[str, str, int]]:
    with ctx.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT task_name, status::text, attempts FROM procrastinate.procrastinate_jobs ORDER BY id"))]


def test_the_queue_defers_once_per_lock_and_a_worker_runs_it(pg_url, tmp_path, clock):
    ctx = build_context(make_settings(tmp_path, pg_url, tasks={"poll_seconds": 0.2}), clock=clock)
    assert runtime.backend(ctx) == "procrastinate"
    assert pgqueue.ensure_schema(ctx.engine) is True
    assert pgqueue.ensure_schema(ctx.engine) is False  # once per database
    with ctx.engine.connect() as conn:  # omamori's own schema holds none of procrastinate's tables
        assert conn.execute(sa.text("SELECT to_regclass('public.procrastinate_jobs')")).scalar() is None
    stop = threading.Event()
    running = runtime.start(ctx, stop, work=False)
    assert isinstance(ctx.nudge, QueueNudge)
    for _ in range(5):
        ctx.nudge.due()  # a burst of reports: one dispatch task waits
    assert _jobs(ctx) == [("dispatch", "todo", 0)]
    worker = threading.Thread(target=pgqueue.run_worker, args=(ctx, stop), kwargs={"name": "test"}, daemon=True)
    worker.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _jobs(ctx) != [("dispatch", "succeeded", 1)]:
        time.sleep(0.2)
    stop.set()
    worker.join(10)
    running.close()
    assert _jobs(ctx) == [("dispatch", "succeeded", 1)]
    ctx.engine.dispose()


def test_the_tasks_of_a_dead_worker_are_queued_again(pg_url, tmp_path, clock):
    ctx = build_context(make_settings(tmp_path, pg_url, tasks={"stalled_after_seconds": 2}), clock=clock)
    pgqueue.ensure_schema(ctx.engine)
    queue = pgqueue.PgQueue(ctx)
    queue.defer(task("dispatch"))
    queue.close()
    with ctx.engine.begin() as conn:  # a worker took it, then died (SIGKILL): its heartbeat is old
        conn.execute(sa.text("SET LOCAL search_path TO procrastinate"))  # its triggers name their tables so
        wid = conn.execute(sa.text("INSERT INTO procrastinate.procrastinate_workers (last_heartbeat) "
                                   "VALUES (now() - interval '1 hour') RETURNING id")).scalar()
        conn.execute(sa.text("UPDATE procrastinate.procrastinate_jobs SET status = 'doing', worker_id = :w, "
                             "attempts = 1"), {"w": wid})
    out = runtime.queue_job(ctx)
    assert (out["retried"], out["workers_pruned"]) == (1, 1)
    assert [(n, st) for n, st, _ in _jobs(ctx)] == [("dispatch", "todo")]
    ctx.engine.dispose()
