"""The queue of a running process: which backend, and the Context's nudge wired to it."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from watcher.capture import snapshot
from watcher.context import Context
from watcher.core.rdapcache import AnswerStore
from watcher.owned import inventory
from watcher.tasks import catalog
from watcher.tasks.nudge import QueueNudge
from watcher.tasks.queue import Queue, ThreadQueue

log = logging.getLogger("omamori.tasks")


def backend(ctx: Context) -> str:
    """"procrastinate" (PostgreSQL, shared by every host) or "inprocess" (this process's threads)."""
    chosen = ctx.settings.tasks.backend
    if chosen == "auto":
        return "procrastinate" if ctx.engine.dialect.name == "postgresql" else "inprocess"
    return chosen


@dataclass
class Running:
    queue: Queue
    backend: str
    threads: list[threading.Thread] = field(default_factory=list)
    grace: float = 8.0  # a worker's running tasks get this long to reach a batch boundary

    def close(self) -> None:
        for t in self.threads:
            t.join(timeout=self.grace)
        self.queue.close()


def start(ctx: Context, stop: threading.Event, *, work: bool, name: str = "") -> Running:
    """Open the queue for ``ctx`` and install its nudge; with ``work``, also work the queue here
    (an in-process queue always works here: it has no other worker)."""
    kind = backend(ctx)
    queue: Queue
    if kind == "procrastinate":
        if ctx.engine.dialect.name != "postgresql":
            raise ValueError("tasks.backend = \"procrastinate\" needs PostgreSQL (database.url)")
        from watcher.tasks import pgqueue

        pgqueue.ensure_schema(ctx.engine)
        queue = pgqueue.PgQueue(ctx)
    else:
        queue = ThreadQueue(ctx, workers=ctx.settings.tasks.concurrency, stop=stop)
    ctx.nudge = QueueNudge(queue, batch=ctx.settings.tasks.check_batch)
    ctx.keep_crawler = ctx.settings.crawl.keep_browser
    running = Running(queue, kind, grace=ctx.settings.jobs.stop_grace_seconds + 3)
    if work and kind == "procrastinate":
        from watcher.tasks import pgqueue

        t = threading.Thread(target=pgqueue.run_worker, args=(ctx, stop), kwargs={"name": name or "worker"},
                             name="omamori-worker", daemon=True)
        t.start()
        running.threads.append(t)
    return running


# ---------------------------------------------------------------- jobs the scheduler runs


def snapshot_job(ctx: Context) -> dict[str, Any]:
    """The ``snapshot`` job: with a queue, claim the due candidates and defer one check per batch
    (workers do them); without one (``omamori job``, tests), check them here."""
    if isinstance(ctx.nudge, QueueNudge):
        return catalog.dispatch(ctx)
    return snapshot.run_due(ctx)


def inventory_job(ctx: Context) -> dict[str, Any]:
    """The ``inventory`` job: refresh the inventory and run the fleet checks here; with a queue, then
    one ``owned_check`` task per owned apex (any worker does it); without one, every domain check here."""
    if not isinstance(ctx.nudge, QueueNudge):
        return inventory.run(ctx)
    out = inventory.refresh(ctx)
    apexes = inventory.apexes(ctx)
    for apex in apexes:  # the lock: an apex whose task still waits (a slow queue) is not queued twice
        ctx.nudge.queue.defer(catalog.task("owned_check"), lock=f"owned:{apex}", apex=apex)
    out["tasks"] = len(apexes)
    return out


def queue_job(ctx: Context) -> dict[str, Any]:
    """The ``queue`` job: tasks of dead workers go back in the queue (PostgreSQL)."""
    if backend(ctx) != "procrastinate":
        return {"skipped": "in-process queue: nothing to recover"}
    from watcher.tasks import pgqueue

    pgqueue.ensure_schema(ctx.engine)
    out = pgqueue.retry_stalled(ctx)
    hours = max(ctx.settings.rdap.cache_hours, ctx.settings.rdap.unregistered_cache_hours)
    # The shared RDAP answers no host would use any more (names no longer checked).
    out["rdap_answers_pruned"] = AnswerStore(ctx.engine).prune(before=ctx.now() - timedelta(hours=hours))
    return out
