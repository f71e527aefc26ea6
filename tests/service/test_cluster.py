"""Many hands: two `omamori run` and three `omamori worker` on one PostgreSQL database, against the
lab's story, with one worker and the active scheduler killed outright (SIGKILL) mid-way.

The story still completes (the clone is captured, confirmed by the auto rule, reported, suspended by
the lab registrar, seen gone and closed), and the database and the lab's mailbox show that nothing
was done twice or skipped: every candidate once, every takedown mail at most once, every CT entry
read exactly once (the log keeps growing with background certificates the whole time, so the
readers are busy when the scheduler dies).

Short leases and heartbeats (a few seconds) keep it fast; production uses 30 s.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from functools import partial
from itertools import pairwise
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lab.demo import DEMO_BRANDS, DEMO_INTERVALS, DEMO_SCENARIO, omamori_config
from lab.testing import wait_for
from watcher.core.config import ROOT
from watcher.core.db import make_engine, upgrade
from watcher.core.models import (
    Candidate,
    CandidateStatus,
    Event,
    Lease,
    LogPosition,
    RequestStatus,
    Snapshot,
    TakedownRequest,
)

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.slow]

CLONE = "hoshizora-sec-login.top"
NOISE_PER_SECOND = 40  # background certificates: the CT readers never run out of work


def _env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMAMORI_")}
    env.update({
        "OMAMORI_DATABASE__URL": db_url,
        "OMAMORI_SERVICE__LEASE_SECONDS": "3", "OMAMORI_SERVICE__STANDBY_POLL_SECONDS": "0.5",
        "OMAMORI_TASKS__WORKER_IN_RUN": "false", "OMAMORI_TASKS__CONCURRENCY": "2",
        "OMAMORI_TASKS__STALLED_AFTER_SECONDS": "4", "OMAMORI_TASKS__HEARTBEAT_SECONDS": "1",
        "OMAMORI_TASKS__POLL_SECONDS": "0.5", "OMAMORI_TASKS__CLAIM_SECONDS": "60",
        "OMAMORI_TASKS__CHECK_BATCH": "4", "OMAMORI_CT__LEASE_SECONDS": "5",
        "OMAMORI_JOBS__STOP_GRACE_SECONDS": "3",
    })
    return env


def _omamori(config: Path, env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "watcher", "--config", str(config), *args], cwd=ROOT, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _log_tails(logs: Path) -> str:
    """What a failed wait says: the end of every process's log (all of them are copied where
    OMAMORI_TEST_KEEP_LOGS points, to read in full)."""
    keep = os.environ.get("OMAMORI_TEST_KEEP_LOGS")
    if keep:
        shutil.copytree(logs, keep, dirs_exist_ok=True)
    return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:] for p in sorted(logs.glob("*.log")))


def _busy_worker(logs: list[Path]) -> int | None:
    """The index of a worker in the middle of a check task (its log started one and has not ended it)."""
    for i, log in enumerate(logs):
        text = log.read_text(errors="replace")
        started = len(re.findall(r"Starting job check", text))
        ended = len(re.findall(r"Job check\[\d+\].* ended with status", text))
        if started > ended:
            return i
    return None


def test_two_schedulers_three_workers_and_two_kill_9s_the_story_completes_once(lab_world, pg_url, tmp_path):
    world = lab_world(DEMO_SCENARIO, run_events=False, suspend_delay=0.5, noise_rate=0)
    world.fire_pending()
    state = tmp_path / "state"
    inbox, dmarc = state / "abuse-inbox", state / "dmarc-reports"
    inbox.mkdir(parents=True)
    dmarc.mkdir()
    for src in (ROOT / "data" / "lab" / "mail").glob("*.eml"):
        shutil.copy(src, inbox)
    intervals = {**DEMO_INTERVALS, "ct_poll": 1, "snapshot": 3, "takedowns": 3, "queue": 2,
                 "inventory": 3600, "mailauth": 3600, "dmarc_reports": 3600, "weekly_report": 3600}
    config = state / "config.toml"
    config.write_text(omamori_config(world.endpoints(), state, brands_file=DEMO_BRANDS, eml_dir=inbox,
                                     dmarc_dir=dmarc, intervals=intervals), encoding="utf-8")
    env = _env(pg_url)
    logs = tmp_path / "logs"
    logs.mkdir()
    # The database is polled 4 times a second, not 20: the processes under test need the 2 cores.
    wait = partial(wait_for, every=0.25, explain=lambda: _log_tails(logs))
    engine = make_engine(pg_url)
    upgrade(engine)
    subprocess.run([sys.executable, "-m", "watcher", "--config", str(config), "brands", "sync"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    world.apply("noise", rate=NOISE_PER_SECOND)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in ("run-a", "run-b"):
            procs[name] = _omamori(config, env, logs / f"{name}.log", "run")
        worker_logs = [logs / f"worker-{i}.log" for i in range(3)]
        for i, log in enumerate(worker_logs):
            procs[f"worker-{i}"] = _omamori(config, env, log, "worker")

        def active_pid() -> int | None:
            with Session(engine) as s:
                row = s.get(Lease, "scheduler")
            return int(row.holder.split(":")[2]) if row is not None else None

        wait(lambda: active_pid() in (procs["run-a"].pid, procs["run-b"].pid), 60, "a scheduler is active")

        # Mid-way: a worker in the middle of a check, and the active scheduler while its CT readers read.
        wait(lambda: _busy_worker(worker_logs) is not None, 120, "a worker runs a check task")
        victim = _busy_worker(worker_logs)
        assert victim is not None
        procs[f"worker-{victim}"].send_signal(signal.SIGKILL)
        procs[f"worker-{victim}"].wait()
        leader = "run-a" if active_pid() == procs["run-a"].pid else "run-b"
        procs[leader].send_signal(signal.SIGKILL)
        procs[leader].wait()
        standby = "run-b" if leader == "run-a" else "run-a"
        handover = wait(lambda: active_pid() == procs[standby].pid, 60, "the standby takes over")

        def clone_closed() -> bool:
            with Session(engine) as s:
                clone = s.exec(select(Candidate).where(Candidate.domain == CLONE)).first()
                if clone is None or clone.status != CandidateStatus.DOWN:
                    return False
                reqs = s.exec(select(TakedownRequest).where(TakedownRequest.candidate_id == clone.id)).all()
                return any(r.status == RequestStatus.CLOSED and r.time_to_down_seconds is not None for r in reqs)

        wait(clone_closed, 240, "the clone is reported, suspended, seen gone and closed")

        # The log stops growing; the readers catch up to its last entry.
        world.apply("noise", rate=0)
        world.integrate_ct()
        size = world.ct.sth.size

        def caught_up() -> bool:
            with Session(engine) as s:
                return all(p.next_index >= size for p in s.exec(select(LogPosition)))

        wait(caught_up, 60, f"the CT readers reach entry {size}")
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    with Session(engine) as s:
        # Every candidate once.
        dup = s.exec(select(Candidate.domain, func.count()).group_by(Candidate.domain)
                     .having(func.count() > 1)).all()
        assert dup == []
        discovered = Counter(e.object_id for e in s.exec(select(Event).where(Event.action == "candidate.discovered")))
        assert discovered and max(discovered.values()) == 1
        # Every CT entry exactly once: the position moved by each committed batch, and the match
        # events name each (log, index, name) once.
        for pos in s.exec(select(LogPosition)):
            assert pos.next_index == size
            assert pos.entries_processed + pos.entries_failed == pos.next_index, pos
        matched = Counter((e.detail.get("log"), e.detail.get("index"), e.detail.get("name"))
                          for e in s.exec(select(Event).where(Event.action == "ct.matched")))
        assert matched and max(matched.values()) == 1, matched.most_common(3)
        # No check recorded twice: one snapshot.taken per Snapshot, and no candidate checked twice at once.
        n_snaps = s.exec(select(func.count()).select_from(Snapshot)).one()
        taken = s.exec(select(func.count()).select_from(Event).where(Event.action == "snapshot.taken")).one()
        assert n_snaps == taken
        times: dict[int, list] = {}
        for sn in s.exec(select(Snapshot).order_by(col(Snapshot.taken_at))):
            times.setdefault(sn.candidate_id, []).append(sn.taken_at)
        for cid, ts in times.items():
            gaps = [(b - a).total_seconds() for a, b in pairwise(ts)]
            assert all(g > 1.0 for g in gaps), (cid, gaps)
        sent = Counter(e.object_id for e in s.exec(select(Event).where(Event.action == "takedown.sent")))
        assert sent and max(sent.values()) == 1
        with engine.connect() as conn:
            retried = conn.execute(sa.text("SELECT count(*) FROM procrastinate.procrastinate_jobs "
                                           "WHERE status = 'succeeded' AND attempts > 1")).scalar()
    # Every takedown mail at most once (the lab's SMTP server kept each one it received).
    ids = Counter(m.message["Message-ID"] for m in world.smtp.messages())
    assert ids and max(ids.values()) == 1, ids.most_common(3)
    print(f"cluster: {len(discovered)} candidates, {n_snaps} snapshots, {len(ids)} mails, {size} CT entries, "
          f"{retried} tasks retried after the kill; the standby took over {handover:.1f} s after kill -9")
    engine.dispose()
