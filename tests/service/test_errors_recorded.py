"""Health tells the truth: every error the service logs is kept as an Event, and SQLite takes the
demo's jobs running all at once without a single "database is locked"."""

from __future__ import annotations

import logging
import shutil
import threading
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from lab.demo import DEMO_BRANDS, DEMO_SCENARIO, ROOT, omamori_config
from watcher.context import build_context
from watcher.core import errorlog
from watcher.core.brands import sync_brands
from watcher.core.clock import FrozenClock
from watcher.core.config import load_settings
from watcher.core.models import Event
from watcher.schedule import run_job


def _errors(engine) -> list[Event]:
    with Session(engine) as s:
        return list(s.exec(select(Event).where(col(Event.action) == errorlog.ACTION).order_by(col(Event.id))))


def test_an_error_logged_anywhere_in_the_service_becomes_an_event(ctx):
    recorder = errorlog.install(ctx.engine)
    try:
        try:
            raise ValueError("frame without leaf_cert")
        except ValueError:
            logging.getLogger("omamori.certstream").exception("certstream: could not record a match")
        logging.getLogger("omamori.certstream").warning("certstream: could not record liveness: "
                                                        "(sqlite3.OperationalError) database is locked")
        logging.getLogger("omamori.capture").warning("a routine warning: not an error")
        logging.getLogger("somebody.else").error("another library's error is its own business")
        recorder.flush()
    finally:
        errorlog.uninstall(recorder)
    got = [e.detail for e in _errors(ctx.engine)]
    assert [d["message"] for d in got] == ["certstream: could not record a match",
                                           "certstream: could not record liveness: "
                                           "(sqlite3.OperationalError) database is locked"]
    assert got[0]["exception"] == "ValueError: frame without leaf_cert"
    assert got[0]["logger"] == "omamori.certstream"


def test_a_failed_job_is_recorded_once_as_its_failure(ctx, monkeypatch):
    from tests import jobs_for_tests
    from watcher import schedule
    from watcher.schedule import Job

    monkeypatch.setattr(schedule, "JOBS", (Job("health", jobs_for_tests.broken, "broken"),))
    recorder = errorlog.install(ctx.engine)
    try:
        assert not run_job(ctx, "health")["ok"]
        recorder.flush()
    finally:
        errorlog.uninstall(recorder)
    with Session(ctx.engine) as s:
        failed = s.exec(select(Event).where(Event.action == "job.failed")).all()
    assert len(failed) == 1 and "the log server answered 500" in failed[0].detail["error"]
    assert _errors(ctx.engine) == []  # the job's own failure Event says it; not twice


def test_the_demos_jobs_run_at_once_on_sqlite_without_lock_errors(lab_world, tmp_path):
    """The permutation scan records thousands of names while the demo's frequent jobs keep writing,
    with a short busy timeout: a scan that held SQLite's write lock for all its names at once made
    every other job's write fail with "database is locked"."""
    world = lab_world(DEMO_SCENARIO, run_events=False, noise_rate=0)
    world.fire_pending()
    state = tmp_path / "state"
    inbox, dmarc = state / "abuse-inbox", state / "dmarc-reports"
    text = omamori_config(world.endpoints(), state, brands_file=DEMO_BRANDS, eml_dir=inbox, dmarc_dir=dmarc)
    inbox.mkdir()
    dmarc.mkdir()
    for src in (ROOT / "data" / "lab" / "mail").glob("*.eml"):
        shutil.copy(src, inbox)
    cfg = state / "config.toml"
    cfg.write_text(text + "\n[database]\nbusy_timeout_ms = 2000\n", encoding="utf-8")
    ctx = build_context(load_settings(cfg, environ={}), clock=FrozenClock(datetime.now(UTC)))
    with Session(ctx.engine) as s:
        sync_brands(s, ctx.brands)
    recorder = errorlog.install(ctx.engine)
    results: list[dict] = []
    scanning = threading.Event()

    def scan() -> None:
        scanning.set()
        try:
            results.append(run_job(ctx, "permutations", actor="test"))
        finally:
            scanning.clear()

    def frequent() -> None:  # what the scheduler runs every few seconds, meanwhile
        scanning.wait(10)
        while scanning.is_set():
            for name in ("intake", "health", "alerts", "takedowns"):
                results.append(run_job(ctx, name, actor="test"))

    try:
        threads = [threading.Thread(target=scan), threading.Thread(target=frequent)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        recorder.flush()
    finally:
        errorlog.uninstall(recorder)
        ctx.engine.dispose()
    failed = [r for r in results if not r["ok"]]
    assert not failed, failed
    assert len(results) > 4 and any(r["job"] == "permutations" and r["existing"] for r in results)
    locked = [e.detail for e in _errors(ctx.engine) if "locked" in str(e.detail)]
    assert not locked, locked
