"""The permutation scan end to end: lab DNS → resolver → discover → PermutationState, rescan finds new names."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from watcher.context import Context
from watcher.core.models import Candidate, Event, PermutationState, Source
from watcher.discovery.permutations import scan


def _candidates(ctx: Context) -> dict[str, Candidate]:
    with ctx.session() as s:
        return {c.domain: c for c in s.exec(select(Candidate))}


def test_scan_discovers_registered_lookalikes_and_skips_wildcards(dns_ctx: Context, lab_dns: Any) -> None:
    lab_dns.set("hoshizora-sec.co", "A", "203.0.113.10")
    lab_dns.set("hosizora-sec.co.jp", "A", "203.0.113.11")
    lab_dns.set("hoshizora-sec-co-jp.com", "MX", "10 mx.example.test")  # exists without an address
    lab_dns.set("hoshizora-sec.com", "A", "192.0.2.1")  # our own defensive registration
    lab_dns.set_wildcard("cn", "192.0.2.99")  # a wildcard TLD: every *.cn "exists"
    lab_dns.set("hoshizora-sec-login.cn", "A", "203.0.113.12")  # ...but this one has its own address
    lab_dns.set_rcode("hoshizora-sec.xyz", "SERVFAIL")
    summary = scan(dns_ctx, domains=["hoshizora-sec.co.jp"])
    cands = _candidates(dns_ctx)
    assert set(cands) == {"hoshizora-sec.co", "hosizora-sec.co.jp", "hoshizora-sec-co-jp.com",
                          "hoshizora-sec-login.cn"}
    c = cands["hosizora-sec.co.jp"]
    assert c.source == Source.PERMUTATION and c.brand_id is not None
    assert c.reasons[0]["detail"] == "hosizora-sec.co.jp is a typosquat of hoshizora-sec.co.jp (fuzzer: omission)"
    assert c.reasons[0]["text"]["key"] == "discovery.permutation"  # said in the reader's language
    assert c.facts["fuzzer"] == "omission" and c.facts["dns"]["records"]["A"] == ["203.0.113.11"]
    assert cands["hoshizora-sec-co-jp.com"].facts["fuzzer"] == "co-jp"
    assert summary["wildcard_zones"] == ["cn"]
    assert summary["wildcard_skipped"] >= 50
    assert summary["failed"] >= 1  # the SERVFAIL name is recorded, not fatal
    assert summary["existing"] == 4 and summary["new_candidates"] == 4
    assert summary["newly_registered"] == []  # a first scan cannot tell new from old


def test_rescan_records_newly_registered_names(dns_ctx: Context, lab_dns: Any, clock: Any) -> None:
    lab_dns.set("hoshizora-sec.co", "A", "203.0.113.10")
    scan(dns_ctx, domains=["hoshizora-sec.co.jp"])
    first = clock.now()
    clock.advance(days=1)
    lab_dns.set("hoshizora-sec-kabu.top", "A", "203.0.113.20")  # registered overnight
    summary = scan(dns_ctx, domains=["hoshizora-sec.co.jp"])
    assert summary["newly_registered"] == ["hoshizora-sec-kabu.top"]
    assert summary["new_candidates"] == 1
    cand = _candidates(dns_ctx)["hoshizora-sec-kabu.top"]
    details = [r["detail"] for r in cand.reasons]
    assert f"newly registered since {first:%Y-%m-%d}" in details
    assert "hoshizora-sec-kabu.top is a typosquat of hoshizora-sec.co.jp (fuzzer: finance-words)" in details
    with dns_ctx.session() as s:
        ev = s.exec(select(Event).where(Event.action == "permutation.registered")).all()
        st = s.exec(select(PermutationState).where(PermutationState.name == "hoshizora-sec-kabu.top")).one()
        old = s.exec(select(PermutationState).where(PermutationState.name == "hoshizora-sec.co")).one()
    assert [e.detail["name"] for e in ev] == ["hoshizora-sec-kabu.top"]
    assert st.exists and st.first_seen_existing_at == clock.now() and st.fuzzer == "finance-words"
    assert old.exists and old.first_seen_existing_at == first  # not "new" again


def test_a_flaky_answer_does_not_erase_what_we_knew(dns_ctx: Context, lab_dns: Any, clock: Any) -> None:
    lab_dns.set("hoshizora-sec.co", "A", "203.0.113.10")
    scan(dns_ctx, domains=["hoshizora-sec.co.jp"])
    lab_dns.set_rcode("hoshizora-sec.co", "SERVFAIL")
    clock.advance(days=1)
    scan(dns_ctx, domains=["hoshizora-sec.co.jp"])
    lab_dns.set_rcode("hoshizora-sec.co", None)
    clock.advance(days=1)
    summary = scan(dns_ctx, domains=["hoshizora-sec.co.jp"])
    assert summary["newly_registered"] == []


def test_scan_job_takes_the_brands_official_domains(dns_ctx: Context, lab_dns: Any) -> None:
    lab_dns.set("kaede-sec.jp", "A", "203.0.113.31")
    summary = scan(dns_ctx, brand="kaede")
    assert summary["domains"] == 1  # kaede-sec.co.jp
    cand = _candidates(dns_ctx)["kaede-sec.jp"]
    assert cand.brand_id is not None and cand.facts["base"] == "kaede-sec.co.jp"


@pytest.mark.slow
def test_scan_job_covers_every_official_domain(dns_ctx: Context, lab_dns: Any) -> None:
    lab_dns.set("hzsec.top", "A", "203.0.113.30")
    lab_dns.set("kaede-sec.jp", "A", "203.0.113.31")
    summary = scan(dns_ctx)
    assert summary["domains"] == 5  # hoshizora: 4 official domains, kaede: 1
    assert {"hzsec.top", "kaede-sec.jp"} <= set(_candidates(dns_ctx))


def test_lapsed_domains_are_left_to_the_dropcatch_watch(dns_ctx: Context, lab_dns: Any) -> None:
    lab_dns.set("hoshizora-fx.jp", "A", "203.0.113.40")  # a finance-words permutation, and our lapsed domain
    lab_dns.set("hoshizora-kabu.jp", "A", "203.0.113.41")
    scan(dns_ctx, domains=["hoshizora.jp"])
    cands = _candidates(dns_ctx)
    assert "hoshizora-kabu.jp" in cands and "hoshizora-fx.jp" not in cands
