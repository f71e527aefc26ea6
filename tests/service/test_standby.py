"""Two `omamori run` on one database (one SQLite file; one PostgreSQL database of the suite's
throw-away cluster): one is active, the other waits as a standby; each job runs once per interval;
kill -9 of the active one hands over within a minute; SIGTERM stops the service within 10 s.

Short lease times (2 s) keep the test fast; production uses 30 s.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
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
# Every job but the one watched (a job added later must not run in this test's scheduler).
JOBS_OFF = tuple(j.name for j in JOBS if j.name != "health")


def _config(base: Path, db_url: str) -> Path:
    jobs = "\n".join(f"{j} = {{ enabled = false, interval_seconds = 60 }}" for j in JOBS_OFF)
    path = base / "config.toml"
    path.write_text(
        f'[service]\nstate_dir = "{base / "state"}"\nbrands_file = "{EXAMPLE_BRANDS}"\nlab_mode = true\n'
        f'lease_seconds = 2\nstandby_poll_seconds = 0.3\n\n[database]\nurl = "{db_url}"\n\n'
        f'[jobs]\n{jobs}\nhealth = {{ enabled = true, interval_seconds = {INTERVAL} }}\n', encoding="utf-8")
    return path


def _start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "watcher", "--config", str(config), "run"], cwd=ROOT,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _holder(engine) -> str:
    with Session(engine) as s:
        row = s.get(Lease, "scheduler")
        return row.holder if row is not None else ""


def _runs(engine) -> list:
    with Session(engine) as s:
        events = s.exec(select(Event).where(col(Event.action).in_(["job.ran", "job.failed"]))
                        .order_by(col(Event.at))).all()
    # when each run started (an Event is written when a run ends): a late start under load shows
    # as one short gap, two schedulers as two runs at nearly the same moment
    return [e.at - timedelta(seconds=float(e.detail.get("seconds") or 0)) for e in events
            if e.detail.get("job") == "health"]


@pytest.mark.reliability("two `omamori run` on one {db_url} database, then kill -9 of the active one, then SIGTERM",
                         "one active, one standby; each job once per interval; handover within a minute; exit "
                         "within 10 s of SIGTERM", area="jobs and the scheduler")
def test_one_active_scheduler_per_database_and_a_standby_that_takes_over(tmp_path, db_url, observe):
    config = _config(tmp_path, db_url or f"sqlite:///{tmp_path / 'omamori.db'}")
    engine = make_engine(db_url)
    upgrade(engine)  # the schema first, so the test can watch the lease from the start
    first = _start(config, tmp_path / "first.log")
    second = None
    try:
        wait_for(lambda: _holder(engine).startswith(f"run:{os.uname().nodename[:60]}:{first.pid}:"), 60,
                 "the first instance takes the lease")
        second = _start(config, tmp_path / "second.log")
        wait_for(lambda: "standby" in (tmp_path / "second.log").read_text(), 60, "the second instance waits")
        time.sleep(3 * INTERVAL)
        runs = _runs(engine)
        assert len(runs) >= 2
        gaps = [(b - a).total_seconds() for a, b in pairwise(runs)]
        assert min(gaps) >= INTERVAL * 0.5, gaps  # once per interval, never once per instance
        both = len(runs)

        first.send_signal(signal.SIGKILL)
        first.wait()
        took = wait_for(lambda: _holder(engine).startswith(f"run:{os.uname().nodename[:60]}:{second.pid}:"), 60,
                        "the standby takes over")
        assert took < 10  # lease (2 s) + standby poll (0.3 s) + start
        before = len(_runs(engine))
        wait_for(lambda: len(_runs(engine)) > before, 20, "the new active instance runs the jobs")
        runs = _runs(engine)
        gaps = [(b - a).total_seconds() for a, b in pairwise(runs)]
        assert min(gaps) >= INTERVAL * 0.5, gaps

        t0 = time.monotonic()
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=10) == 0
        stopped = time.monotonic() - t0
        assert stopped < 10
        observe(f"{both} runs of the interval-{INTERVAL:g}s job while both ran (smallest gap {min(gaps):.1f} s); "
                f"standby took over {took:.1f} s after kill -9 (lease 2 s); exit 0 {stopped:.1f} s after SIGTERM")
        assert _holder(engine) == "" or _lease_free(engine)
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        engine.dispose()


def _lease_free(engine) -> bool:
    from datetime import UTC, datetime

    with Session(engine) as s:
        row = s.get(Lease, "scheduler")
        return row is None or row.expires_at <= datetime.now(UTC)
