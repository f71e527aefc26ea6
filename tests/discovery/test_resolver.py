"""The resolver against the lab's real DNS server: profiles, many names at once, wildcards, failures."""

from __future__ import annotations

from typing import Any

from tests.discovery.conftest import dns_section
from watcher.clients.resolver import Resolver
from watcher.core.config import DnsSettings


def _resolver(lab_dns: Any, **extra: Any) -> Resolver:
    return Resolver(DnsSettings(**dns_section(lab_dns, **extra)))


def test_profile_many_records_every_type_and_status(lab_dns: Any) -> None:
    lab_dns.add_zone("hoshizora-sec.co")
    lab_dns.set("hoshizora-sec.co", "A", "203.0.113.7")
    lab_dns.set("hoshizora-sec.co", "MX", "10 mail.hoshizora-sec.co")
    lab_dns.set("www.hoshizora-sec.co", "CNAME", "hoshizora-sec.co")
    lab_dns.set("v6.example.test", "AAAA", "2001:db8::1")
    res = _resolver(lab_dns).profile_many(["hoshizora-sec.co", "www.hoshizora-sec.co", "nothing-here.test",
                                           "v6.example.test"])
    p = res["hoshizora-sec.co"]
    assert p.exists and p.records["A"] == ["203.0.113.7"]
    assert p.records["MX"] == ["10 mail.hoshizora-sec.co."]
    assert p.records["NS"] == ["ns1.lab-dns.test", "ns2.lab-dns.test"]
    assert p.statuses["AAAA"] == "nodata"
    www = res["www.hoshizora-sec.co"]
    assert www.records["CNAME"] == ["hoshizora-sec.co"] and www.records["A"] == ["203.0.113.7"]
    gone = res["nothing-here.test"]
    assert not gone.exists and gone.nxdomain and set(gone.statuses.values()) == {"nxdomain"}
    assert res["v6.example.test"].addresses == ["2001:db8::1"]


def test_nxdomain_costs_one_query(lab_dns: Any) -> None:
    r = _resolver(lab_dns)
    before = lab_dns.queries
    r.profile_many([f"missing{i}.example.test" for i in range(20)])
    assert lab_dns.queries - before == 20


def test_servfail_and_timeout_are_recorded_not_raised(lab_dns: Any) -> None:
    lab_dns.set("broken.example.test", "A", "192.0.2.1")
    lab_dns.set_rcode("broken.example.test", "SERVFAIL")
    lab_dns.set("ok.example.test", "A", "192.0.2.2")
    res = _resolver(lab_dns).profile_many(["broken.example.test", "ok.example.test"])
    assert res["broken.example.test"].statuses["A"] == "servfail"
    assert not res["broken.example.test"].exists
    assert res["ok.example.test"].exists

    # A slow server: every query takes longer than the timeout (retries included), nothing raises.
    lab_dns.delay = 0.3
    slow = _resolver(lab_dns, timeout=0.1, retries=1)
    res = slow.profile_many(["ok.example.test"])
    assert res["ok.example.test"].statuses["A"] == "timeout"
    assert not res["ok.example.test"].exists


def test_a_dead_server_is_a_timeout(lab_dns: Any) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # a bound port that never answers
        s.bind(("127.0.0.1", 0))
        r = Resolver(DnsSettings(nameservers=["127.0.0.1"], port=s.getsockname()[1], timeout=0.1, retries=1))
        a = r.profile_sync("anything.example.test", ["A"])
    assert a.statuses["A"] == "timeout"


def test_wildcard_detection(lab_dns: Any) -> None:
    lab_dns.set_wildcard("top", "192.0.2.80")
    lab_dns.set("example.test", "A", "192.0.2.1")
    r = _resolver(lab_dns)
    assert r.is_wildcard("top")
    assert not r.is_wildcard("test")
    assert not r.is_wildcard("example.test")


def test_progress_is_reported(lab_dns: Any) -> None:
    seen: list[tuple[int, int]] = []
    _resolver(lab_dns).profile_many([f"n{i}.example.test" for i in range(5)], progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (5, 5) and len(seen) == 5


def test_rate_limit_is_honoured(lab_dns: Any) -> None:
    import time

    r = _resolver(lab_dns, rate_limit=50.0)
    t0 = time.monotonic()
    r.profile_many([f"n{i}.example.test" for i in range(75)])  # 50 in the first burst, then 25 at 50/s
    assert time.monotonic() - t0 >= 0.4


def test_tcp_when_configured(lab_dns: Any) -> None:
    lab_dns.set("tcp.example.test", "A", "192.0.2.7")
    r = _resolver(lab_dns, use_tcp=True)
    assert r.profile_sync("tcp.example.test", ["A"]).records["A"] == ["192.0.2.7"]
    assert r.profile_sync("none.example.test", ["A"]).statuses["A"] == "nxdomain"


def test_large_answer(lab_dns: Any) -> None:
    # 60 A records, more than 512 bytes. The lab's server (dnslib) sends them over UDP without setting
    # TC, so the TCP fallback for truncated answers is not exercised here; use_tcp is, above.
    many = [f"203.0.113.{i}" for i in range(1, 61)]
    lab_dns.set("big.example.test", "A", many)
    got = _resolver(lab_dns).profile_sync("big.example.test", ["A"]).records["A"]
    assert sorted(got) == sorted(many)
