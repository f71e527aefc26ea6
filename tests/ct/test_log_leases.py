"""One reader per CT log across hosts: a log leased to another host is left to it, and a reader that
lost its lease (paused past it while another host read on) commits nothing: no entry is read twice."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from tests.ct.labhelp import log_infos
from watcher.context import Context
from watcher.core import lease
from watcher.core.models import LogPosition
from watcher.discovery.ct.reader import LogReader, PositionMoved, RunResult, read_logs


def test_a_log_leased_to_another_host_is_left_to_it_until_the_lease_expires(lab_ct, ct_ctx: Context, clock) -> None:
    lab_ct.add_noise(300)
    lab_ct.integrate()
    [info] = log_infos(lab_ct, "rfc6962")
    lease.acquire(ct_ctx.engine, f"ct:{info.log_id}", "ct:other-host:1:x", ttl=60, now=clock.now())
    [res] = read_logs(ct_ctx, [info])
    assert res.read == 0 and "other-host" in res.extra["skipped"]
    clock.advance(seconds=61)  # the other host died: its lease expires, this host reads the log
    [res] = read_logs(ct_ctx, [info])
    assert res.read == lab_ct.sth.size and not res.error
    assert lease.current(ct_ctx.engine, f"ct:{info.log_id}", now=clock.now()) is None  # released after the pass


def test_a_reader_whose_position_moved_under_it_commits_nothing(lab_ct, ct_ctx: Context, matcher) -> None:
    lab_ct.add_noise(600)
    lab_ct.integrate()
    [info] = log_infos(lab_ct, "rfc6962")
    slow = LogReader(ct_ctx, info, matcher=matcher)
    slow.run(max_batches=1)  # both readers know the log; the slow one then pauses
    with Session(ct_ctx.engine) as s:
        start = s.exec(select(LogPosition)).one().next_index

    with Session(ct_ctx.engine, expire_on_commit=False) as s:
        pos = slow.position(s)
        items = slow.api.fetch(pos.next_index, pos.next_index + 256)
        LogReader(ct_ctx, info, matcher=matcher).run(max_batches=1)  # another host reads on meanwhile
        with pytest.raises(PositionMoved):
            slow._commit_batch(s, pos, items, RunResult(info.description))
    with Session(ct_ctx.engine) as s:
        pos = s.exec(select(LogPosition)).one()
    assert pos.next_index == start + 256 and pos.entries_processed == start + 256
