"""Every error the service logs is kept as an Event, so the health view can say what went wrong.

A job's exception, a certstream frame that could not be recorded, a "database is locked" anywhere:
each is logged where it happens (the code that knows what failed says so), and this handler turns
the log record into an ``error.logged`` Event. Before it, such errors lived only in the terminal and
the health view said "no problems" while jobs crashed.

The handler never writes from the thread that logs: a record goes on a queue and one writer thread
stores it (a logging call inside a failing transaction must not open another one, nor wait on the
lock that failed). A record the writer cannot store after a few tries is printed to stderr, not lost
in silence, and never raises into the code that logged it.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from watcher.core.events import record

ACTION = "error.logged"
# Loggers whose errors are the service's own (jobs, clients, the scheduler running them).
WATCHED = ("omamori", "apscheduler", "watcher")
# Words that make a warning worth keeping: a write that could not be made is an error in all but name.
LOCKED = "database is locked"
# ``extra={RECORDED: True}`` on a log call whose error the caller stores itself (a job's failure is
# its ``job.failed`` Event): kept once, not twice.
RECORDED = "omamori_recorded"


class ErrorRecorder(logging.Handler):
    """A logging handler: ERROR and above (and any "database is locked") from ``WATCHED`` loggers
    become ``error.logged`` Events, written by one background thread."""

    def __init__(self, engine: sa.Engine, *, actor: str = "omamori", tries: int = 5) -> None:
        super().__init__(level=logging.WARNING)
        self.engine = engine
        self.actor = actor
        self.tries = tries
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=10000)
        self._writer = threading.Thread(target=self._write_loop, name="omamori-errorlog", daemon=True)
        self._writer.start()

    def emit(self, rec: logging.LogRecord) -> None:
        if threading.current_thread() is self._writer:
            return  # the writer's own trouble: never recurse
        if rec.name.split(".")[0] not in WATCHED or getattr(rec, RECORDED, False):
            return
        try:
            message = rec.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(rec.msg)
        if rec.levelno < logging.ERROR and LOCKED not in message:
            return
        detail: dict[str, Any] = {"logger": rec.name, "level": rec.levelname, "message": message[:2000]}
        if rec.exc_info and rec.exc_info[0] is not None:
            detail["exception"] = f"{rec.exc_info[0].__name__}: {rec.exc_info[1]}"[:1000]
        job = threading.current_thread().name
        if job.startswith("job-"):
            detail["job"] = job.removeprefix("job-")
        detail["at"] = datetime.fromtimestamp(rec.created, UTC).isoformat()
        try:
            self._queue.put_nowait(detail)
        except queue.Full:  # a storm of errors: the terminal/log file still has every one
            pass

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is not None:
                    self._store(item)
            finally:
                self._queue.task_done()
            if item is None:
                return

    def _store(self, detail: dict[str, Any]) -> None:
        at = datetime.fromisoformat(detail["at"])
        for attempt in range(self.tries):
            try:
                with Session(self.engine) as s:
                    record(s, self.actor, ACTION, ("log", None), detail, at=at)
                    s.commit()
                return
            except Exception as e:  # the database is away or busy: wait a little and try again
                if attempt == self.tries - 1:
                    print(f"omamori: could not record an error in the database ({type(e).__name__}: {e}); "
                          f"the error was: {detail.get('message')}", file=sys.stderr)
                    return
                time.sleep(0.5 * (attempt + 1))

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every queued record is stored (tests, and the service before it stops)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        self.flush()
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass
        super().close()


def install(engine: sa.Engine, *, actor: str = "omamori") -> ErrorRecorder:
    """Attach an ``ErrorRecorder`` to the root logger (once per engine); returns it."""
    root = logging.getLogger()
    for h in root.handlers:
        if isinstance(h, ErrorRecorder) and h.engine is engine:
            return h
    handler = ErrorRecorder(engine, actor=actor)
    root.addHandler(handler)
    return handler


def uninstall(handler: ErrorRecorder) -> None:
    logging.getLogger().removeHandler(handler)
    handler.close()
