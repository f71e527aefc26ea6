"""Two `omamori run` on one database (one SQLite file; one PostgreSQL database of the suite's
throw-away cluster): one is active, the other waits as a standby; each job runs once per interval;
after kill -9 of the active one the standby takes the lease once the dead one's has expired; SIGTERM
stops the service cleanly, giving the lease up.

The handover is proved by the lease rows the instances write (their own clocks' times), not by a
stopwatch: the standby's acquisition is at or after the dead holder's expiry, and both held the lease
for the configured time. The seconds each wait took are reported as observations.
Short lease times (2 s) keep the test fast; production uses 30 s.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from lab.testing import wait_for
from tests.conftest import EXAMPLE_BRANDS
from watcher.core.config import ROOT
from watcher.core.db import make_engine, upgrade
from watcher.core.models import Event, Lease
from watcher.schedule import JOBS

INTERVAL = 2.0
LEASE = timedelta(seconds=2)  # service.lease_seconds of the config below
RELEASED = datetime(1970, 1, 1, tzinfo=UTC)  # the expiry lease.release writes: free at once
# Every job but the one watched (a job added later must not run in this test's scheduler).
JOBS_OFF = tuple(j.name for j in JOBS if j.name != "health")


def _config(base: Path, db_url: str) -> Path:
    jobs = "\n".join(f"{j} = {{ enabled = false, interval_seconds = 60 }}" for j in JOBS_OFF)
    path = base / "config.toml"
    path.write_text(
        f'[service]\nstate_dir = "{base / "state"}"\nbrands_file = "{EXAMPLE_BRANDS}"\nlab_mode = true\n'
        f'lease_seconds = {LEASE.total_seconds():g}\nstandby_poll_seconds = 0.3\n\n[database]\nurl = "{db_url}"\n\n'
        f'[jobs]\n{jobs}\nhealth = {{ enabled = true, interval_seconds = {INTERVAL} }}\n', encoding="utf-8")
    return path


def _start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "watcher", "--config", str(config), "run"], cwd=ROOT,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _lease(engine) -> Lease | None:
    with Session(engine, expire_on_commit=False) as s:
        return s.get(Lease, "scheduler")


def _holder(engine) -> str:
    row = _lease(engine)
    return row.holder if row is not None else ""


def _of(process: subprocess.Popen[bytes]) -> str:
    """The start of the holder id `omamori run` writes (``run:host:pid:random``)."""
    return f"run:{os.uname().nodename[:60]}:{process.pid}:"


def _runs(engine) -> list:
    with Session(engine) as s:
        events = s.exec(select(Event).where(col(Event.action).in_(["job.ran", "job.failed"]))
                        .order_by(col(Event.at))).all()
    # when each run started (an Event is written when a run ends): a late start under load shows
    # as one short gap, two schedulers as two runs at nearly the same moment
    return [e.at - timedelta(seconds=float(e.detail.get("seconds") or 0)) for e in events
            if e.detail.get("job") == "health"]


@pytest.mark.reliability("two `omamori run` on one {db_url} database, then kill -9 of the active one, then SIGTERM",
                         "one active, one standby; each job once per interval; the standby takes the lease only "
                         "once the dead one's expired, both holding it for the configured 2 s; exit 0 on SIGTERM, "
                         "the lease given up", area="jobs and the scheduler")
def test_one_active_scheduler_per_database_and_a_standby_that_takes_over(tmp_path, db_url, observe):
    config = _config(tmp_path, db_url or f"sqlite:///{tmp_path / 'omamori.db'}")
    engine = make_engine(db_url)
    upgrade(engine)  # the schema first, so the test can watch the lease from the start
    first = _start(config, tmp_path / "first.log")
    second = None
    try:
        wait_for(lambda: _holder(engine).startswith(_of(first)), 60, "the first instance takes the lease")
        second = _start(config, tmp_path / "second.log")
        wait_for(lambda: "standby" in (tmp_path / "second.log").read_text(), 60, "the second instance waits")
        time.sleep(3 * INTERVAL)
        runs = _runs(engine)
        assert len(runs) >= 2
        gaps = [(b - a).total_seconds() for a, b in pairwise(runs)]
        assert min(gaps) >= INTERVAL * 0.5, gaps  # once per interval, never once per instance
        both = len(runs)

        alive = _lease(engine)
        assert alive is not None and alive.holder.startswith(_of(first))
        first.send_signal(signal.SIGKILL)
        first.wait()
        # The dead holder's last word: nothing renews it any more. (Read before the standby can have taken
        # it, unless the first had already stopped renewing while alive: then the check below is the
        # weaker one, against its lease as last seen alive.)
        dead = _lease(engine)
        assert dead is not None
        final = dead.holder.startswith(_of(first))
        if not final:
            dead = alive
        took = wait_for(lambda: _holder(engine).startswith(_of(second)), 60, "the standby takes over")
        taken = _lease(engine)
        assert taken is not None
        assert taken.acquired_at >= dead.expires_at, (taken.acquired_at, dead.expires_at)  # never while it was live
        assert taken.token == dead.token + 1  # handed over once, nobody between
        # Each instance held it for the configured time (a standby on the default 30 s would show here).
        assert dead.expires_at - dead.renewed_at == LEASE
        assert taken.expires_at - taken.renewed_at == LEASE
        before = len(_runs(engine))
        wait_for(lambda: len(_runs(engine)) > before, 20, "the new active instance runs the jobs")
        runs = _runs(engine)
        gaps = [(b - a).total_seconds() for a, b in pairwise(runs)]
        assert min(gaps) >= INTERVAL * 0.5, gaps

        t0 = time.monotonic()
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0  # a hang guard, not a measure
        stopped = time.monotonic() - t0
        given_up = _lease(engine)
        # Released, not left to expire: a next standby takes over at once.
        assert given_up is not None and given_up.holder == taken.holder and given_up.expires_at == RELEASED
        observe(f"{both} runs of the interval-{INTERVAL:g}s job while both ran (smallest gap {min(gaps):.1f} s); "
                f"standby took the lease {took:.1f} s after kill -9, "
                f"{(taken.acquired_at - dead.expires_at).total_seconds():.1f} s after it expired "
                f"({'its final row' if final else 'as last seen alive'}; token "
                f"{dead.token} -> {taken.token}, lease {LEASE.total_seconds():g} s); exit 0 {stopped:.1f} s "
                f"after SIGTERM, lease released")
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        engine.dispose()
