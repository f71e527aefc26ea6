"""The lab DNS server queried with BIND's `dig` (UDP and TCP) and with dnspython."""

from __future__ import annotations

import shutil
import subprocess
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import pytest

from lab.dns import LabDNS

needs_dig = pytest.mark.skipif(shutil.which("dig") is None, reason="dig missing (apt-get install bind9-dnsutils)")


def dig(server: LabDNS, name: str, rtype: str = "A", tcp: bool = False) -> tuple[str, list[str]]:
    """(status, answer lines) as dig prints them."""
    args = ["dig", f"@{server.host}", "-p", str(server.port), "+time=2", "+tries=1", "+noall", "+comments",
            "+answer", name, rtype]
    if tcp:
        args.append("+tcp")
    out = subprocess.run(args, capture_output=True, text=True, timeout=10, check=True).stdout
    status = out.split("status: ", 1)[1].split(",", 1)[0]
    answers = [line for line in out.splitlines() if line and not line.startswith(";")]
    return status, answers


@pytest.fixture
def zone(lab_dns: LabDNS) -> LabDNS:
    d = lab_dns
    d.add_zone("hoshizora-sec.co.jp")
    d.set("hoshizora-sec.co.jp", "A", "192.0.2.10")
    d.set("www.hoshizora-sec.co.jp", "A", ["192.0.2.10", "192.0.2.11"])
    d.set("www.hoshizora-sec.co.jp", "AAAA", "2001:db8::10")
    d.set("hoshizora-sec.co.jp", "MX", ["10 mail.hoshizora-sec.co.jp", "20 mail2.hoshizora-sec.co.jp"])
    d.set("campaign.hoshizora-sec.co.jp", "CNAME", "edge.hoshizora-sec.co.jp")
    d.set("edge.hoshizora-sec.co.jp", "CNAME", "www.hoshizora-sec.co.jp")
    d.set("old.hoshizora-sec.co.jp", "CNAME", "hoshizora-old.azurewebsites.net")
    d.set("s1._domainkey.hoshizora-sec.co.jp", "TXT", "v=DKIM1; k=rsa; p=" + "A" * 392)
    return d


@needs_dig
@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_records_over_udp_and_tcp(zone: LabDNS, tcp: bool) -> None:
    status, ans = dig(zone, "www.hoshizora-sec.co.jp", "A", tcp)
    assert status == "NOERROR" and sorted(a.split()[-1] for a in ans) == ["192.0.2.10", "192.0.2.11"]
    assert dig(zone, "www.hoshizora-sec.co.jp", "AAAA", tcp)[1][0].endswith("2001:db8::10")
    mx = dig(zone, "hoshizora-sec.co.jp", "MX", tcp)[1]
    assert sorted(a.split()[-2] for a in mx) == ["10", "20"]
    assert dig(zone, "hoshizora-sec.co.jp", "NS", tcp)[1][0].endswith("ns1.lab-dns.test.")
    assert "SOA" in dig(zone, "hoshizora-sec.co.jp", "SOA", tcp)[1][0]
    status, ans = dig(zone, "campaign.hoshizora-sec.co.jp", "A", tcp)  # the whole chain in one answer
    assert [a.split()[3] for a in ans] == ["CNAME", "CNAME", "A", "A"]


@needs_dig
def test_long_txt_is_split_into_255_byte_strings(zone: LabDNS) -> None:
    _, ans = dig(zone, "s1._domainkey.hoshizora-sec.co.jp", "TXT", tcp=True)
    strings = ans[0].split("\t")[-1].split('" "')
    assert len(strings) == 2 and len(strings[0].strip('"')) == 255
    r = dns.resolver.Resolver(configure=False)
    r.nameservers, r.port = [zone.host], zone.port
    txt = r.resolve("s1._domainkey.hoshizora-sec.co.jp", "TXT")[0]
    assert b"".join(txt.strings).decode() == "v=DKIM1; k=rsa; p=" + "A" * 392


@needs_dig
def test_negative_answers_are_answered(zone: LabDNS) -> None:
    # dig asks once (+tries=1) and fails the check when nothing comes back: each of these is an answer.
    assert dig(zone, "nothing.hoshizora-sec.co.jp")[0] == "NXDOMAIN"
    assert dig(zone, "unknown-name.example")[0] == "NXDOMAIN"
    assert dig(zone, "old.hoshizora-sec.co.jp")[0] == "NXDOMAIN"  # dangling CNAME
    assert dig(zone, "www.hoshizora-sec.co.jp", "MX") == ("NOERROR", [])  # NODATA
    # An authoritative negative answer carries the zone's SOA (RFC 2308), so a resolver caches it
    # instead of asking again.
    for name, rtype in (("nothing.hoshizora-sec.co.jp", "A"), ("www.hoshizora-sec.co.jp", "MX")):
        resp = dns.query.udp(dns.message.make_query(name, rtype), zone.host, port=zone.port, timeout=5)
        assert resp.flags & dns.flags.AA and not resp.answer
        assert [rr.rdtype for rr in resp.authority] == [dns.rdatatype.SOA]
    zone.set_rcode("hoshizora-sec.co.jp", "SERVFAIL")
    assert dig(zone, "www.hoshizora-sec.co.jp")[0] == "SERVFAIL"
    zone.set_rcode("hoshizora-sec.co.jp", "NXDOMAIN")
    assert dig(zone, "www.hoshizora-sec.co.jp", tcp=True)[0] == "NXDOMAIN"
    zone.set_rcode("hoshizora-sec.co.jp", None)
    assert dig(zone, "www.hoshizora-sec.co.jp")[0] == "NOERROR"


@needs_dig
def test_runtime_edits_and_wildcards(zone: LabDNS) -> None:
    zone.delete("www.hoshizora-sec.co.jp", "A")
    assert dig(zone, "www.hoshizora-sec.co.jp") == ("NOERROR", [])  # AAAA remains
    zone.delete("www.hoshizora-sec.co.jp")
    assert dig(zone, "www.hoshizora-sec.co.jp")[0] == "NXDOMAIN"
    zone.set_wildcard("wild.test", "198.51.100.7")
    status, ans = dig(zone, "anything.deep.wild.test", tcp=True)
    assert status == "NOERROR" and ans[0].split()[0] == "anything.deep.wild.test."
    assert ans[0].endswith("198.51.100.7")


def test_delay_and_dnspython(zone: LabDNS) -> None:
    zone.delay = 0.05
    q = dns.message.make_query("hoshizora-sec.co.jp", "A")
    t = time.perf_counter()
    resp = dns.query.udp(q, zone.host, port=zone.port, timeout=2)
    assert time.perf_counter() - t >= 0.05
    assert resp.answer[0][0].address == "192.0.2.10"
    resp = dns.query.tcp(dns.message.make_query("nope.hoshizora-sec.co.jp", "A"), zone.host, port=zone.port, timeout=2)
    assert resp.rcode() == dns.rcode.NXDOMAIN
    assert resp.authority and resp.authority[0].rdtype == dns.rdatatype.SOA  # type: ignore[attr-defined]
