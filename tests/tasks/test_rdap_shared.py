"""RDAP across hosts: two workers (two Contexts: their own connection pools and memory, one
PostgreSQL) ask the lab registry once per name per ``rdap.cache_hours`` between them, and keep to one
request spacing per server between them."""

from __future__ import annotations

import pytest

from tests.conftest import make_settings
from tests.owned.conftest import lab_sections
from watcher.context import build_context
from watcher.core.rdapcache import AnswerStore
from watcher.tasks import runtime

pytestmark = pytest.mark.postgres


def test_two_workers_ask_the_registry_once_per_name_and_share_its_pace(pg_url, tmp_path, clock, lab_rdap) -> None:
    names = [f"hoshizora-sec-{i}.com" for i in range(4)]
    for n in names:
        lab_rdap.set_domain(n, registrar="Lab Registrar K.K.")
    sections = lab_sections(rdap=lab_rdap)
    # One request a minute per server: a second request must wait a whole minute, whoever sends it.
    sections["rdap"].update(cache_hours=12, requests_per_minute=1)
    settings = make_settings(tmp_path, pg_url, **sections)
    one, two = build_context(settings, clock=clock), build_context(settings, clock=clock)
    waits: dict[str, list[float]] = {"one": [], "two": []}
    one.rdap.sleep, two.rdap.sleep = waits["one"].append, waits["two"].append  # recorded, not slept

    first = one.rdap.domain(f"www.{names[0]}")
    assert first.registrar == "Lab Registrar K.K." and lab_rdap.requests == 1
    again = two.rdap.domain(names[0])  # the other worker: the stored answer, not the registry
    assert (again.registrar, again.expires_at, again.exists) == (first.registrar, first.expires_at, True)
    assert lab_rdap.requests == 1

    # The pace is the server's, not each worker's: the second request (from the other worker) waits
    # for the slot after the first one's, the third for the one after that.
    two.rdap.domain(names[1])
    one.rdap.domain(names[2])
    assert lab_rdap.requests == 3
    assert waits["two"][-1] > 30 and waits["one"][-1] > waits["two"][-1] + 30

    # A crawler batch reads what is stored in one query; only the name nobody asked goes out, and
    # its answer is written with the batch's (one upsert), for the other worker to read.
    with one.rdap.batch(domains=names, addresses=["192.0.2.10"]):
        for n in names:
            assert one.rdap.domain(n).exists
    assert lab_rdap.requests == 4
    assert two.rdap.domain(names[3]).exists and lab_rdap.requests == 4
    # A name that is not registered is an answer too; a failure is not (asked again next time).
    assert two.rdap.domain("hoshizora-nowhere.com").exists is False
    assert one.rdap.domain("hoshizora-nowhere.com").exists is False and lab_rdap.requests == 5
    lab_rdap.fail("hoshizora-broken.com", status=500)
    assert two.rdap.domain("hoshizora-broken.com").error
    assert one.rdap.domain("hoshizora-broken.com").exists is False and lab_rdap.requests == 7

    # Past the TTL every worker asks again, once: the first to ask refreshes it for the other.
    clock.advance(hours=13)
    one.rdap.domain(names[0])
    two.rdap.domain(names[0])
    assert lab_rdap.requests == 8
    # A name DNS does not know keeps its "not registered" for a month, for every worker; a name
    # that resolves is asked again after the TTL (a registration shows in DNS first).
    assert two.rdap.domain("hoshizora-nowhere.com", nxdomain=True).exists is False and lab_rdap.requests == 8
    assert one.rdap.domain("hoshizora-nowhere.com").exists is False and lab_rdap.requests == 9
    # The scheduler's queue job drops answers no worker would use any more.
    assert runtime.queue_job(one)["rdap_answers_pruned"] == 0
    clock.advance(days=31)
    assert runtime.queue_job(one)["rdap_answers_pruned"] == 6  # four names, nowhere, broken
    assert AnswerStore(one.engine).load("domain", names, newer_than=clock.now().replace(year=2000)) == {}
    for c in (one, two):
        c.rdap.close()
        c.engine.dispose()


def test_a_recheck_of_a_dead_name_reads_the_registrys_not_registered_for_a_month(
        pg_url, tmp_path, clock, lab_dns, lab_rdap) -> None:
    from sqlmodel import Session

    from watcher.capture import snapshot
    from watcher.core.models import Source
    from watcher.discovery.discover import OwnedIndex, Sighting, discover

    sections = lab_sections(dns=lab_dns, rdap=lab_rdap)
    sections["rdap"].update(cache_hours=12)
    settings = make_settings(tmp_path, pg_url, **sections)
    one = build_context(settings, clock=clock)
    with Session(one.engine, expire_on_commit=False) as s:  # a lookalike nobody registered: NXDOMAIN
        cid = discover(s, Sighting("hoshizora-gone.top", Source.CT), OwnedIndex([]), now=one.now()).candidate.id
        s.commit()
    first = snapshot.check_candidate(one, cid)
    assert first.rdap["domain"]["exists"] is False and lab_rdap.requests == 1
    clock.advance(days=7)  # the next re-check, on another worker, long past rdap.cache_hours
    two = build_context(settings, clock=clock)
    again = snapshot.check_candidate(two, cid)
    assert again.rdap["domain"]["exists"] is False and lab_rdap.requests == 1
    clock.advance(days=24)  # a month on: asked again
    snapshot.check_candidate(two, cid)
    assert lab_rdap.requests == 2
    for c in (one, two):
        c.rdap.close()
        c.engine.dispose()
