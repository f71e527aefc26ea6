"""Owned-domain checks as queue tasks: the ``inventory`` job refreshes the inventory and runs the
fleet checks itself, then defers one ``owned_check`` per owned apex; workers do them. On the suite's
throw-away PostgreSQL with procrastinate, and on SQLite with the in-process queue (the same tasks in
the process's threads). A task retried (its worker died) finds the same rows: nothing twice."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from lab.testing import wait_for
from tests.conftest import make_settings
from tests.owned.conftest import is_open, lab_sections
from tests.owned.test_inventory_job import registrations
from tests.owned.test_takeover import world
from watcher.context import Context, build_context
from watcher.core.brands import sync_brands
from watcher.core.models import Event, Finding, OwnedDomain
from watcher.owned import inventory
from watcher.schedule import run_job
from watcher.tasks import pgqueue, runtime
from watcher.tasks.nudge import QueueNudge


def _lab_ctx(tmp_path, db_url: str, clock, lab_dns, lab_web, lab_rdap, lab_whois, **tasks: object) -> Context:
    world(lab_dns)
    lab_web.publish("www.hoshizora-sec.co.jp", "official")
    sections = lab_sections(dns=lab_dns, web=lab_web, rdap=lab_rdap, whois=lab_whois)
    ctx = build_context(make_settings(tmp_path, db_url, tasks=dict(tasks), **sections), clock=clock)
    with Session(ctx.engine) as s:
        sync_brands(s, ctx.brands)
    registrations(ctx, lab_rdap, lab_whois)
    return ctx


def _findings(ctx: Context) -> Counter[tuple[str, str]]:
    with Session(ctx.engine) as s:
        return Counter((str(f.kind), f.subject) for f in s.exec(select(Finding)))


def _opened_events(ctx: Context) -> int:
    with Session(ctx.engine) as s:
        return len(list(s.exec(select(Event.id).where(col(Event.action) == "finding.opened"))))


def _jobs(ctx: Context) -> list[tuple[str, str, str]]:
    with ctx.engine.connect() as conn:
        return [(str(r[0]), str(r[1]), str(r[2])) for r in conn.execute(sa.text(
            "SELECT task_name, status::text, coalesce(args->>'apex', '') FROM procrastinate.procrastinate_jobs "
            "ORDER BY id"))]


@pytest.mark.postgres
def test_each_owned_apex_is_a_task_any_worker_does_and_a_retry_does_nothing_twice(
        pg_url, tmp_path, clock, lab_dns, lab_web, lab_rdap, lab_whois) -> None:
    ctx = _lab_ctx(tmp_path, pg_url, clock, lab_dns, lab_web, lab_rdap, lab_whois, poll_seconds=0.2)
    stop = threading.Event()
    running = runtime.start(ctx, stop, work=False)
    assert isinstance(ctx.nudge, QueueNudge)
    result = run_job(ctx, "inventory", actor="test")
    assert result["ok"], result
    apexes = inventory.apexes(ctx)
    assert "hzsec.com" in apexes and "hoshizora-sec.co.jp" in apexes
    assert result["tasks"] == len(apexes)
    # The scheduler did the inventory itself (DNS source, fleet checks), not the domain checks.
    with Session(ctx.engine) as s:
        assert s.exec(select(OwnedDomain).where(OwnedDomain.name == "hzsec.com")).one().registrar in ("", None)
    assert not is_open(ctx, "takeover_mx", "hzsec.com")
    # A second run while the tasks still wait queues nothing new (one lock per apex).
    assert run_job(ctx, "inventory", actor="test")["ok"]
    assert sorted(a for _, _, a in _jobs(ctx)) == apexes

    workers = [threading.Thread(target=pgqueue.run_worker, args=(ctx, stop), kwargs={"name": f"w{i}"}, daemon=True)
               for i in range(2)]
    for w in workers:
        w.start()
    wait_for(lambda: all(st == "succeeded" for _, st, _ in _jobs(ctx)), 120, "every owned_check done")
    assert is_open(ctx, "takeover_mx", "hzsec.com")  # the lab world's MX to a dead provider
    with Session(ctx.engine) as s:
        row = s.exec(select(OwnedDomain).where(OwnedDomain.name == "hzsec.com")).one()
    assert row.registrar and row.expires_at is not None  # the task asked RDAP for its apex
    before, opened = _findings(ctx), _opened_events(ctx)
    assert set(before.values()) == {1}

    # A worker killed mid-task: procrastinate runs the task again. Nothing is opened twice.
    from watcher.tasks.catalog import owned_check

    owned_check(ctx, apex="hzsec.com")
    owned_check(ctx, apex="hoshizora-sec.co.jp")
    assert _findings(ctx) == before and _opened_events(ctx) == opened
    stop.set()
    for w in workers:
        w.join(15)
    running.close()
    ctx.engine.dispose()


def test_on_sqlite_the_same_tasks_run_in_the_process(tmp_path, clock, lab_dns, lab_web, lab_rdap, lab_whois) -> None:
    ctx = _lab_ctx(tmp_path, "", clock, lab_dns, lab_web, lab_rdap, lab_whois)
    stop = threading.Event()
    running = runtime.start(ctx, stop, work=True)
    assert running.backend == "inprocess"
    result = run_job(ctx, "inventory", actor="test")
    assert result["ok"] and result["tasks"] == len(inventory.apexes(ctx))
    wait_for(lambda: is_open(ctx, "takeover_mx", "hzsec.com"), 60, "the in-process owned_check of hzsec.com")
    running.close()  # waits for the tasks still running
    inline = build_context(make_settings(tmp_path / "inline", "", **lab_sections(
        dns=lab_dns, web=lab_web, rdap=lab_rdap, whois=lab_whois)), clock=clock)
    with Session(inline.engine) as s:
        sync_brands(s, inline.brands)
    assert run_job(inline, "inventory", actor="test")["ok"]  # no queue: every check inline
    assert set(_findings(ctx)) == set(_findings(inline))  # the same findings either way
    ctx.engine.dispose()
    inline.engine.dispose()
