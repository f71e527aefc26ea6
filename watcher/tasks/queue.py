"""Where a deferred task goes: this process's threads, or procrastinate's tables on PostgreSQL.

``lock`` is a queueing lock: while a task with the same lock waits in the queue, deferring another
one is a no-op (a burst of nudges makes one task, not a hundred).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from watcher.context import Context
from watcher.core.runcontrol import JobStopped, RunControl
from watcher.tasks.catalog import Task

log = logging.getLogger("omamori.tasks")


class Queue(Protocol):
    def defer(self, task: Task, *, lock: str | None = None, **kwargs: Any) -> None: ...
    def close(self) -> None: ...


def run_task(ctx: Context, task: Task, kwargs: dict[str, Any], *, stop: threading.Event | None = None,
             worker: str = "") -> dict[str, Any]:
    """Run one task under its deadline; a failure is logged and re-raised (the queue retries it)."""
    control = RunControl(f"task:{task.name}", deadline_seconds=task.deadline_seconds, stop=stop)
    try:
        out = task.run(ctx.for_run(control), **kwargs)
    except JobStopped as e:
        log.info("task %s stopped: %s", task.name, e)
        raise
    log.info("task %s%s: %s", task.name, f" ({worker})" if worker else "", out)
    return out


class ThreadQueue:
    """In-process: SQLite's one process (``omamori run``). Lost with the process, which is fine:
    what the tasks do is found again by the periodic jobs (due candidates, queued requests)."""

    def __init__(self, ctx: Context, *, workers: int, stop: threading.Event | None = None) -> None:
        self.ctx = ctx
        self.stop = stop
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="omamori-task")
        self.waiting: set[str] = set()
        self.lock = threading.Lock()

    def defer(self, task: Task, *, lock: str | None = None, **kwargs: Any) -> None:
        if lock is not None:
            with self.lock:
                if lock in self.waiting:
                    return
                self.waiting.add(lock)
        try:
            self.pool.submit(self._run, task, lock, kwargs)
        except RuntimeError:  # shutting down
            self._forget(lock)

    def _forget(self, lock: str | None) -> None:
        if lock is not None:
            with self.lock:
                self.waiting.discard(lock)

    def _run(self, task: Task, lock: str | None, kwargs: dict[str, Any]) -> None:
        self._forget(lock)  # running: a new nudge may queue the next one
        if self.stop is not None and self.stop.is_set():
            return
        try:
            run_task(self.ctx, task, kwargs, stop=self.stop)
        except Exception:  # the periodic jobs find the work again
            log.exception("task %s failed", task.name)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
