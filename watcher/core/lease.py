"""Leases: one holder at a time for a named piece of work, across processes and hosts, on one database.

A lease is a row (``Lease``: name, holder, token, expires_at). Whoever holds an unexpired lease may do
the work; a holder that dies stops renewing, the lease expires, and another takes it. It works the
same on SQLite and PostgreSQL because every change is one conditional ``UPDATE`` (or the first
``INSERT``), which both databases make atomic: two processes racing for an expired lease both run
the same ``UPDATE ... WHERE holder = me OR expires_at <= now``, and only one of them changes a row.

Used by ``omamori run`` (lease ``scheduler``: one active scheduler per database, the others wait as
standbys) and by every job run (lease ``job:<name>``: a job never runs twice at once, even from
``omamori job NAME`` beside the service). Meant to be reused by anything else that must run once
per database (a task queue, one reader per CT log)::

    holder = lease.holder_id()
    if lease.acquire(engine, "ct:log-id", holder, ttl=60, now=clock.now()):
        ...                       # do a bounded piece of work, then
        lease.renew(engine, "ct:log-id", holder, ttl=60, now=clock.now())   # before ttl runs out
        lease.release(engine, "ct:log-id", holder)

The ``token`` grows by one each time the lease changes hands (a fencing token): work that writes
results can store the token it was done under and refuse results from an older holder.

Time is the callers' clock (``now``): hosts sharing a database must keep their clocks in step
(NTP), and a ttl should be well above any skew between them.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from watcher.core.models import Lease

log = logging.getLogger("omamori.lease")


@dataclass(frozen=True)
class Held:
    """A lease as its holder sees it after acquiring or renewing it."""

    name: str
    holder: str
    token: int
    expires_at: datetime


def holder_id(role: str = "") -> str:
    """A holder id unique to this process and call: host, pid and a random part (pids are reused)."""
    parts = [socket.gethostname()[:60], str(os.getpid()), uuid.uuid4().hex[:8]]
    if role:
        parts.insert(0, role)
    return ":".join(parts)


def _ttl(ttl: float | timedelta) -> timedelta:
    return ttl if isinstance(ttl, timedelta) else timedelta(seconds=float(ttl))


def acquire(engine: sa.Engine, name: str, holder: str, *, ttl: float | timedelta, now: datetime) -> Held | None:
    """Take the lease if it is free, expired or already ours; None when someone else holds it."""
    expires = now + _ttl(ttl)
    table = Lease.__table__  # type: ignore[attr-defined]
    same = table.c.holder == holder
    with engine.begin() as conn:
        changed = conn.execute(
            table.update()
            .where(table.c.name == name, sa.or_(same, table.c.expires_at <= now))
            .values(
                token=sa.case((same, table.c.token), else_=table.c.token + 1),
                acquired_at=sa.case((same, table.c.acquired_at), else_=now),
                holder=holder, renewed_at=now, expires_at=expires,
            )
        ).rowcount
    if not changed:
        try:
            with engine.begin() as conn:
                conn.execute(table.insert().values(name=name, holder=holder, token=1, acquired_at=now,
                                                   renewed_at=now, expires_at=expires))
        except sa.exc.IntegrityError:
            return None  # the row exists and is someone else's, live
    return _held(engine, name, holder)


def renew(engine: sa.Engine, name: str, holder: str, *, ttl: float | timedelta, now: datetime) -> Held | None:
    """Extend our lease; None when it is no longer ours (taken over after it expired)."""
    table = Lease.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        changed = conn.execute(
            table.update().where(table.c.name == name, table.c.holder == holder)
            .values(renewed_at=now, expires_at=now + _ttl(ttl))
        ).rowcount
    return _held(engine, name, holder) if changed else None


def release(engine: sa.Engine, name: str, holder: str) -> bool:
    """Give the lease up now (it expires at once) so a standby need not wait for the ttl."""
    table = Lease.__table__  # type: ignore[attr-defined]
    past = datetime(1970, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        changed = conn.execute(
            table.update().where(table.c.name == name, table.c.holder == holder).values(expires_at=past)
        ).rowcount
    return bool(changed)


def current(engine: sa.Engine, name: str, *, now: datetime) -> Lease | None:
    """The live lease of ``name`` (unexpired), or None when nobody holds it."""
    with Session(engine, expire_on_commit=False) as s:
        row = s.get(Lease, name)
    return row if row is not None and row.expires_at > now else None


def all_leases(engine: sa.Engine) -> list[Lease]:
    with Session(engine, expire_on_commit=False) as s:
        return list(s.exec(select(Lease).order_by(Lease.name)))


def _held(engine: sa.Engine, name: str, holder: str) -> Held | None:
    with Session(engine, expire_on_commit=False) as s:
        row = s.get(Lease, name)
    if row is None or row.holder != holder:
        return None
    return Held(name=row.name, holder=row.holder, token=row.token, expires_at=row.expires_at)


class Keeper:
    """Holds one lease for a long-running process: wait as a standby until it is free, then renew it
    every third of its ttl. ``lost`` is set when a renewal finds the lease gone (the database was
    unreachable for longer than the ttl and another holder took over): the work must stop."""

    def __init__(self, engine: sa.Engine, name: str, *, ttl: float, now: Callable[[], datetime],
                 holder: str | None = None) -> None:
        self.engine = engine
        self.name = name
        self.ttl = float(ttl)
        self.now = now
        self.holder = holder or holder_id()
        self.held: Held | None = None
        self.lost = threading.Event()

    def try_acquire(self) -> bool:
        try:
            self.held = acquire(self.engine, self.name, self.holder, ttl=self.ttl, now=self.now())
        except sa.exc.OperationalError as e:  # the database is down: not ours until it is back
            log.warning("lease %s: database unreachable: %s", self.name, str(e).splitlines()[0])
            self.held = None
        if self.held:
            self.lost.clear()
        return self.held is not None

    def wait(self, stop: threading.Event, *, poll: float, on_standby: Callable[[Lease | None], None]) -> bool:
        """Block until the lease is ours (True) or ``stop`` is set (False)."""
        told = False
        while not stop.is_set():
            if self.try_acquire():
                return True
            if not told:
                try:
                    on_standby(current(self.engine, self.name, now=self.now()))
                except sa.exc.OperationalError:
                    on_standby(None)
                told = True
            stop.wait(poll)
        return False

    def renew(self) -> bool:
        """Renew now; False (and ``lost`` set) when the lease is no longer ours."""
        try:
            self.held = renew(self.engine, self.name, self.holder, ttl=self.ttl, now=self.now())
        except sa.exc.OperationalError as e:
            # Still ours until it expires; past that another holder may have it.
            log.warning("lease %s: renewal failed: %s", self.name, str(e).splitlines()[0])
            if self.held is not None and self.now() < self.held.expires_at:
                return True
            self.held = None
        if self.held is None:
            self.lost.set()
            return False
        return True

    def release(self) -> None:
        try:
            release(self.engine, self.name, self.holder)
        except sa.exc.OperationalError:
            pass  # it expires by itself
        self.held = None

    @property
    def renew_every(self) -> float:
        return max(self.ttl / 3, 0.2)


class Renewing:
    """``with Renewing(engine, name, holder, ttl=..., now=...) as held:`` hold a lease for a bounded
    piece of work, renewed in the background every third of ``ttl``: a holder killed mid-way frees
    it within ``ttl``. ``held`` is False when someone else holds it (then do not do the work)."""

    def __init__(self, engine: sa.Engine, name: str, holder: str, *, ttl: float,
                 now: Callable[[], datetime]) -> None:
        self.engine, self.name, self.holder, self.ttl, self.now = engine, name, holder, float(ttl), now
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.held = False

    def __enter__(self) -> bool:
        self.held = acquire(self.engine, self.name, self.holder, ttl=self.ttl, now=self.now()) is not None
        if self.held:
            self._thread = threading.Thread(target=self._renew, name=f"lease-{self.name}", daemon=True)
            self._thread.start()
        return self.held

    def _renew(self) -> None:
        while not self._done.wait(max(self.ttl / 3, 0.2)):
            try:
                if renew(self.engine, self.name, self.holder, ttl=self.ttl, now=self.now()) is None:
                    return
            except sa.exc.OperationalError:
                continue

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.held:
            try:
                release(self.engine, self.name, self.holder)
            except sa.exc.OperationalError:
                pass  # it expires by itself
