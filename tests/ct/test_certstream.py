"""The certstream client against the lab's certstream server (a real websocket server)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlmodel import Session, select

from watcher.context import Context
from watcher.core.clock import FrozenClock
from watcher.core.models import Candidate, Finding, FindingStatus, JobState
from watcher.discovery.ct.certstream import CertstreamClient, service


def _wait(cond: Callable[[], bool], timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def _domains(ctx: Context) -> set[str]:
    with Session(ctx.engine) as s:
        return set(s.exec(select(Candidate.domain)))


def test_matches_arrive_and_survive_a_dropped_connection(lab_certstream, ct_ctx: Context, matcher) -> None:
    client = CertstreamClient(ct_ctx, lab_certstream.url, matcher=matcher, backoff=0.1, liveness_every=0)
    stop = threading.Event()
    t = threading.Thread(target=client.run, args=(stop,), daemon=True)
    t.start()
    try:
        assert _wait(lambda: lab_certstream.client_count() == 1)
        lab_certstream.log.add_noise(20)
        lab_certstream.log.add_certificate(["www-hoshizora-sec-co-jp.k7x2.top"], precert=True)
        assert _wait(lambda: "www-hoshizora-sec-co-jp.k7x2.top" in _domains(ct_ctx))
        lab_certstream.drop_clients()
        assert _wait(lambda: client.connections == 2 and lab_certstream.client_count() == 1)
        lab_certstream.log.add_certificate(["hoshizora-sec.co.jp.login-check.cn"])
        assert _wait(lambda: "hoshizora-sec.co.jp.login-check.cn" in _domains(ct_ctx))
    finally:
        stop.set()
        t.join(timeout=10)
    assert not t.is_alive()  # clean stop
    with Session(ct_ctx.engine) as s:
        c = s.exec(select(Candidate).where(Candidate.domain == "www-hoshizora-sec-co-jp.k7x2.top")).one()
        state = s.get(JobState, "certstream")
    assert c.source.value == "certstream" and c.facts["precert"] is True and c.facts["issuer"] == "Lab Trusted CA"
    assert state is not None and state.last_ok_at is not None and state.last_summary["updates"] >= 22


def test_silence_opens_and_resolves_a_finding(lab_certstream, ct_ctx: Context, matcher) -> None:
    clock = ct_ctx.clock
    assert isinstance(clock, FrozenClock)
    client = CertstreamClient(ct_ctx, lab_certstream.url, matcher=matcher, backoff=0.1, liveness_every=0)
    stop = threading.Event()
    lab_certstream.heartbeat_interval = 3600  # no heartbeats: only certificates are frames here
    t = threading.Thread(target=client.run, args=(stop,), daemon=True)
    t.start()

    def finding() -> Finding | None:
        with Session(ct_ctx.engine) as s:
            return s.exec(select(Finding).where(Finding.kind == "feed_silent")).first()

    try:
        assert _wait(lambda: lab_certstream.client_count() == 1)
        time.sleep(1.2)  # let the one heartbeat already scheduled by the server go by
        clock.advance(minutes=ct_ctx.settings.ct.certstream_silence_minutes + 1)
        assert _wait(lambda: (f := finding()) is not None and f.status == FindingStatus.OPEN)
        lab_certstream.log.add_noise(3)
        assert _wait(lambda: (f := finding()) is not None and f.status == FindingStatus.RESOLVED)
    finally:
        stop.set()
        t.join(timeout=10)


def test_service_without_urls_returns_and_with_a_dead_server_keeps_trying(ct_ctx: Context) -> None:
    stop = threading.Event()
    service(ct_ctx, stop)  # no URLs configured: returns at once
    ct_ctx.settings.ct.certstream_urls = ["ws://127.0.0.1:9/"]  # nothing listens on the discard port
    t = threading.Thread(target=service, args=(ct_ctx, stop), daemon=True)
    t.start()
    time.sleep(0.3)
    assert t.is_alive()
    stop.set()
    t.join(timeout=10)
    assert not t.is_alive()
