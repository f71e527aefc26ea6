"""Stopping a job: its deadline, the service shutting down, or the scheduler lease lost.

Jobs run in threads, and Python cannot kill a thread. So a run is stopped in two ways at once:

- **cooperatively**: long loops call ``ctx.run.check()`` (or read ``ctx.run.stopping``) at batch
  boundaries; ``check`` raises ``JobStopped``, and the batch in hand is either committed whole
  before the check or not at all;
- **by force for blocking I/O**: whatever can block (an IMAP socket a server drips one byte at a
  time into, the crawler subprocess) registers an abort with ``ctx.run.on_abort(fn)``; the
  watchdog in ``watcher.schedule.run_job`` calls it the moment the run must stop (closing the
  socket, terminating the subprocess), so the blocked call returns with an error at once.

``event`` is a ``threading.Event`` set when the run must stop, for code that already takes one
(the CT reader's ``stop``). Outside a job (the CLI's one-off commands) ``UNBOUNDED`` never stops.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger("omamori.run")


class JobStopped(Exception):
    """The run was told to stop (deadline, shutdown, lease lost); raised at a batch boundary."""


class RunControl:
    def __init__(self, name: str = "", *, deadline_seconds: float | None = None,
                 stop: threading.Event | None = None) -> None:
        self.name = name
        self.deadline_seconds = deadline_seconds
        self.deadline = None if deadline_seconds is None else time.monotonic() + deadline_seconds
        self.service_stop = stop  # shared by every run of the service: SIGTERM, lease lost
        self.event = threading.Event()
        self.reason = ""
        self._aborts: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    @property
    def stopping(self) -> str:
        """Why the run must stop now, or '' while it may go on."""
        if not self.reason:
            if self.service_stop is not None and self.service_stop.is_set():
                self._stop("the service is stopping")
            elif self.deadline is not None and time.monotonic() >= self.deadline:
                self._stop(f"its deadline of {self.deadline_seconds:g} s passed")
        return self.reason

    @property
    def deadline_passed(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def check(self) -> None:
        """Raise JobStopped when the run must stop; call at every batch boundary of a long loop."""
        why = self.stopping
        if why:
            raise JobStopped(why)

    def remaining(self, cap: float) -> float:
        """Seconds left before the deadline, at most ``cap`` (a socket timeout never outlives the run)."""
        if self.deadline is None:
            return cap
        return max(0.1, min(cap, self.deadline - time.monotonic()))

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True when woken because the run must stop."""
        end = time.monotonic() + seconds
        while not self.stopping:
            left = end - time.monotonic()
            if left <= 0:
                return False
            self.event.wait(min(left, 0.5))
        return True

    def on_abort(self, fn: Callable[[], None]) -> Callable[[], None]:
        """Register ``fn`` to be called once when the run must stop; returns an unregister function.
        Called at once if the run is already stopping."""
        if self.deadline is None and self.service_stop is None:
            return _nothing  # an unbounded run never aborts: keep nothing
        with self._lock:
            if self.reason:
                call_now = True
            else:
                self._aborts.append(fn)
                call_now = False
        if call_now:
            _call(fn)

        def forget() -> None:
            with self._lock:
                if fn in self._aborts:
                    self._aborts.remove(fn)
        return forget

    @contextmanager
    def aborting(self, fn: Callable[[], None]) -> Iterator[None]:
        """``with ctx.run.aborting(sock.close): ...``: ``fn`` unblocks the I/O inside if the run must stop."""
        forget = self.on_abort(fn)
        try:
            yield
        finally:
            forget()

    def abort(self, reason: str) -> None:
        """Stop the run now: set the reason and the event and call every registered abort."""
        self._stop(reason)

    def _stop(self, reason: str) -> None:
        with self._lock:
            if self.reason:
                return
            self.reason = reason
            aborts, self._aborts = self._aborts, []
        self.event.set()
        for fn in aborts:
            _call(fn)


def _nothing() -> None:
    return None


def _call(fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception:  # an abort that fails must not stop the others
        log.exception("an abort hook failed")


UNBOUNDED = RunControl("")
