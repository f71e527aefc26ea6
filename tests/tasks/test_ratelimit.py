"""Request spacing shared through the database: every host together keeps to one server's rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watcher.core import ratelimit
from watcher.core.db import make_engine


def test_slots_are_shared_by_every_process_on_the_database(db_url):
    one, two = make_engine(db_url), make_engine(db_url)  # two hosts' connection pools
    from watcher.core.db import upgrade

    upgrade(one)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    waits = [ratelimit.reserve(e, "rdap:rdap.example", 2.0, now=t0) for e in (one, two, one, two)]
    assert waits == [0.0, 2.0, 4.0, 6.0]
    assert ratelimit.reserve(one, "rdap:other.example", 2.0, now=t0) == 0.0  # per server
    # Time passes: a slot in the past is not owed.
    assert ratelimit.reserve(two, "rdap:rdap.example", 2.0, now=t0 + timedelta(seconds=60)) == 0.0
    one.dispose()
    two.dispose()
