"""Leases: one holder at a time per name, on SQLite and on PostgreSQL, handed over when it expires."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from watcher.core import lease
from watcher.core.db import make_engine, upgrade

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url):
    e = make_engine(db_url)
    upgrade(e)
    yield e
    e.dispose()


def test_the_first_holder_gets_it_and_a_second_waits(engine):
    a = lease.acquire(engine, "scheduler", "a", ttl=30, now=T0)
    assert a is not None and a.token == 1 and a.expires_at == T0 + timedelta(seconds=30)
    assert lease.acquire(engine, "scheduler", "b", ttl=30, now=T0 + timedelta(seconds=10)) is None
    assert lease.current(engine, "scheduler", now=T0 + timedelta(seconds=10)).holder == "a"
    # the holder renews and re-acquires its own lease without changing hands
    again = lease.acquire(engine, "scheduler", "a", ttl=30, now=T0 + timedelta(seconds=20))
    assert again.token == 1 and again.expires_at == T0 + timedelta(seconds=50)


def test_an_expired_lease_changes_hands_and_the_old_holder_cannot_renew_it(engine):
    lease.acquire(engine, "scheduler", "a", ttl=30, now=T0)
    b = lease.acquire(engine, "scheduler", "b", ttl=30, now=T0 + timedelta(seconds=31))
    assert b is not None and b.token == 2  # the fencing token moved on
    assert lease.renew(engine, "scheduler", "a", ttl=30, now=T0 + timedelta(seconds=32)) is None
    assert lease.renew(engine, "scheduler", "b", ttl=30, now=T0 + timedelta(seconds=40)).expires_at == \
        T0 + timedelta(seconds=70)


def test_a_released_lease_is_free_at_once(engine):
    lease.acquire(engine, "job:ct_poll", "a", ttl=600, now=T0)
    assert lease.release(engine, "job:ct_poll", "a")
    assert lease.current(engine, "job:ct_poll", now=T0) is None
    assert lease.acquire(engine, "job:ct_poll", "b", ttl=600, now=T0).token == 2
    assert not lease.release(engine, "job:ct_poll", "a")  # not a's to release any more


def test_names_are_independent(engine):
    assert lease.acquire(engine, "job:a", "x", ttl=30, now=T0)
    assert lease.acquire(engine, "job:b", "y", ttl=30, now=T0)
    assert [r.name for r in lease.all_leases(engine)] == ["job:a", "job:b"]


def test_many_racing_holders_get_one_lease(engine):
    """Eight threads race for a free lease, then for the expired one: exactly one wins each time."""
    for when in (T0, T0 + timedelta(seconds=60)):
        winners: list[str] = []
        go = threading.Barrier(8)

        def race(i: int, when: datetime = when, winners: list[str] = winners, go: threading.Barrier = go) -> None:
            go.wait()
            if lease.acquire(engine, "scheduler", f"h{i}-{when.second}", ttl=30, now=when):
                winners.append(f"h{i}")

        threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(winners) == 1, winners


def test_a_keeper_waits_as_standby_then_takes_over(engine):
    now = [T0]
    first = lease.Keeper(engine, "scheduler", ttl=30, now=lambda: now[0], holder="first")
    second = lease.Keeper(engine, "scheduler", ttl=30, now=lambda: now[0], holder="second")
    assert first.try_acquire()
    told: list[str] = []
    stop = threading.Event()

    def standby(live):
        told.append(live.holder)
        now[0] += timedelta(seconds=31)  # the first holder died: its lease runs out

    assert second.wait(stop, poll=0, on_standby=standby)
    assert told == ["first"] and second.held.token == 2
    assert not first.renew() and first.lost.is_set()


def test_a_standby_asks_again_every_poll_and_takes_the_lease_at_its_first_ask_after_it_expired(engine):
    now = [T0]
    ttl, poll = timedelta(seconds=2), timedelta(seconds=0.3)
    first = lease.Keeper(engine, "scheduler", ttl=ttl.total_seconds(), now=lambda: now[0], holder="first")
    second = lease.Keeper(engine, "scheduler", ttl=ttl.total_seconds(), now=lambda: now[0], holder="second")
    assert first.try_acquire()  # and then dies: nothing renews it
    asked: list[float | None] = []

    class Polls(threading.Event):
        """The stop event, whose waits are the standby's pauses between asks: each moves the logical
        clock on by the pause instead of sleeping (a stand-in for time, so nothing here is timed)."""

        def wait(self, timeout: float | None = None) -> bool:
            asked.append(timeout)
            now[0] += timedelta(seconds=timeout or 0)
            return False

    assert second.wait(Polls(), poll=poll.total_seconds(), on_standby=lambda live: None)
    assert set(asked) == {poll.total_seconds()}
    taken = lease.current(engine, "scheduler", now=now[0])
    assert taken is not None and taken.holder == "second" and taken.token == 2
    # Not before the first holder's lease ran out, and at the first ask after that.
    assert T0 + ttl <= taken.acquired_at < T0 + ttl + poll
    assert taken.expires_at - taken.acquired_at == ttl
