"""Every job has a deadline: a run past it is stopped, recorded as failed, and never blocks the next runs.

Blocking I/O is cut under the job (the lab IMAP server dripping one byte at a time, as a hostile or
broken server does); a job blocked where nothing can reach it is abandoned loudly, not skipped.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from lab.imap import LabIMAP
from tests import jobs_for_tests
from tests.conftest import make_settings
from watcher import schedule
from watcher.context import build_context
from watcher.core.models import Event, Finding, JobState
from watcher.schedule import Job, run_job

DMARC_MAIL = (b"From: noreply-dmarc@google.com\r\nSubject: Report domain: hoshizora-sec.co.jp\r\n\r\n"
              + b"x" * 4000 + b"\r\n")


def _ctx(tmp_path: Path, clock, **jobs):
    settings = make_settings(tmp_path, jobs={"stop_grace_seconds": 1.0, **jobs})
    return build_context(settings, clock=clock)


@pytest.fixture
def test_jobs(monkeypatch):
    monkeypatch.setattr(schedule, "JOBS", (Job("ct_poll", jobs_for_tests.patient, "loops"),
                                           Job("health", jobs_for_tests.stuck, "blocks"),
                                           Job("dmarc_reports", schedule.job("dmarc_reports").run, "imap")))


@pytest.mark.reliability("a job loops past its deadline (0.5 s)",
                         "stopped at its next batch boundary, recorded as failed", area="jobs and the scheduler")
def test_a_job_past_its_deadline_is_stopped_at_a_batch_boundary_and_recorded_as_failed(tmp_path, clock, test_jobs,
                                                                                       observe):
    ctx = _ctx(tmp_path, clock, ct_poll={"interval_seconds": 30, "deadline_seconds": 0.5})
    t0 = time.monotonic()
    result = run_job(ctx, "ct_poll")  # the job loops for ever: it ends only if its deadline stops it
    took = time.monotonic() - t0
    assert not result["ok"] and "deadline of 0.5 s" in result["error"]
    with Session(ctx.engine) as s:
        assert s.get(JobState, "ct_poll").consecutive_failures == 1
        assert s.exec(select(Event).where(Event.action == "job.failed")).one().detail["job"] == "ct_poll"
    observe(f"ended after {took:.1f} s: '{result['error']}', 1 consecutive failure, a job.failed Event")


@pytest.mark.reliability("SIGTERM while a job loops", "the job stops at its next batch boundary; not counted as its failure",
                         area="jobs and the scheduler")
def test_a_shutdown_stops_a_job_without_counting_as_its_failure(tmp_path, clock, test_jobs, observe):
    ctx = _ctx(tmp_path, clock)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    result = run_job(ctx, "ct_poll", stop=stop)
    assert result["ok"] and result["stopped"] == "the service is stopping"
    with Session(ctx.engine) as s:
        assert s.get(JobState, "ct_poll").consecutive_failures == 0
        assert s.exec(select(Event).where(Event.action == "job.stopped")).one()
    observe(f"stopped after {result['seconds']:.1f} s ('{result['stopped']}'), a job.stopped Event, 0 failures")


@pytest.mark.reliability("the DMARC mailbox's IMAP server sends one byte every 0.5 s (deadline 2 s)",
                         "the socket is cut at the deadline; the run is recorded as failed", area="jobs and the scheduler")
def test_an_imap_server_dripping_bytes_cannot_hold_the_dmarc_job_past_its_deadline(tmp_path, clock, test_jobs,
                                                                                   observe):
    """The fault of issue 14: one byte every 0.5 s keeps every socket read under its timeout."""
    with LabIMAP(users={"dmarc@hoshizora-sec.co.jp": "pw"}) as server:
        server.add_message(DMARC_MAIL, folder="dmarc")
        server.drip_seconds = 0.5
        ctx = _ctx(tmp_path, clock, dmarc_reports={"interval_seconds": 3600, "deadline_seconds": 2})
        ctx.settings.imap.host, ctx.settings.imap.port, ctx.settings.imap.ssl = "127.0.0.1", server.port, False
        ctx.settings.imap.username = "dmarc@hoshizora-sec.co.jp"
        ctx.settings.imap.password = type(ctx.settings.imap.password)("pw")
        ctx.settings.imap.dmarc_folder = "dmarc"
        t0 = time.monotonic()
        result = run_job(ctx, "dmarc_reports")
        took = time.monotonic() - t0
        dripped, total = server.dripped, server.drip_total
    assert not result["ok"] and "deadline of 2 s" in result["error"]
    # Cut off at the deadline: a handful of the answer's bytes had trickled out, not the whole of it.
    assert 0 < dripped < total / 10, (dripped, total)
    observe(f"ended after {took:.1f} s, {dripped} of {total} bytes read: '{result['error']}'")


@pytest.mark.reliability("a job blocks where nothing can reach it (no batch boundary, no socket)",
                         "abandoned after deadline + grace; its next runs fail loudly (Finding) until it ends",
                         area="jobs and the scheduler")
def test_a_job_blocked_beyond_reach_is_abandoned_and_its_next_runs_fail_loudly(tmp_path, clock, test_jobs, observe):
    jobs_for_tests.RELEASE.clear()
    ctx = _ctx(tmp_path, clock, health={"interval_seconds": 30, "deadline_seconds": 0.3})
    first = run_job(ctx, "health")
    assert not first["ok"] and "abandoned" in first["error"]
    second = run_job(ctx, "health")  # not skipped in silence: a failure that names the stuck run
    assert not second["ok"] and "still stuck" in second["error"]
    third = run_job(ctx, "health")
    assert not third["ok"]
    with Session(ctx.engine) as s:
        finding = s.exec(select(Finding).where(Finding.kind == "job_failing")).one()
        assert finding.subject == "health"
    jobs_for_tests.RELEASE.set()  # the blocked call returns at last: the job runs again
    for _ in range(50):
        if not schedule._STUCK.get("health") or not schedule._STUCK["health"][0].is_alive():
            break
        time.sleep(0.05)
    ctx.settings.jobs.health.deadline_seconds = 5
    assert run_job(ctx, "health")["ok"]
    observe(f"1st run: '{first['error'][:60]}…'; 2nd: '{second['error'][-40:]}'; 3rd failed too and a "
            "job_failing Finding opened; once the call returned the next run was ok")


def test_a_job_held_by_a_dead_process_runs_again_once_its_lease_expires(tmp_path, clock, monkeypatch):
    """The job lease is short and renewed while a run lasts: a process killed mid-run (kill -9) holds
    its jobs for one lease time at most, not for the job's whole deadline."""
    from watcher.core import lease

    monkeypatch.setattr(schedule, "JOBS", (Job("health", jobs_for_tests.ok, "ok"),))
    ctx = _ctx(tmp_path, clock)
    ttl = 2 * ctx.settings.service.lease_seconds  # what run_job takes and renews
    lease.acquire(ctx.engine, "job:health", "run:dead-host:4242:0", ttl=ttl, now=ctx.now())
    skipped = run_job(ctx, "health")
    assert skipped["ok"] and "already running: run:dead-host:4242:0" in skipped["skipped"]
    clock.advance(seconds=ttl + 1)
    assert run_job(ctx, "health")["found"] == 3
