"""RDAP and WHOIS: parsing real-shaped answers, and the client against the lab's RDAP and WHOIS servers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings
from tests.discovery.conftest import FIXTURES
from watcher.clients.rdap import RdapClient, epp_status, parse_date, parse_domain, parse_network
from watcher.clients.whois import parse, split_server
from watcher.core.clock import FrozenClock


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-20T04:12:33Z", datetime(2026, 11, 20, 4, 12, 33, tzinfo=UTC)),
    ("2026-11-21T23:11:55.0Z", datetime(2026, 11, 21, 23, 11, 55, tzinfo=UTC)),
    ("2027-11-23T09:00:00+09:00", datetime(2027, 11, 23, 0, 0, tzinfo=UTC)),
    ("2026-11-23", datetime(2026, 11, 23, tzinfo=UTC)),
    ("2026/11/25 10:00:00 (JST)", datetime(2026, 11, 25, 1, 0, tzinfo=UTC)),
    ("2026/11/25", datetime(2026, 11, 25, tzinfo=UTC)),
    ("25-Nov-2026", datetime(2026, 11, 25, tzinfo=UTC)),
    ("2026-11-25 10:00:00 UTC", datetime(2026, 11, 25, 10, tzinfo=UTC)),
    ("not a date", None), ("", None), (None, None), (12345, None),
])
def test_dates_in_several_forms(text: Any, expected: datetime | None) -> None:
    assert parse_date(text) == expected


def test_epp_status_words() -> None:
    assert epp_status("clientTransferProhibited") == "client transfer prohibited"
    assert epp_status("client hold") == "client hold"
    assert epp_status("serverHold") == "server hold"


def test_verisign_com_registrar_nested_abuse() -> None:
    reg = parse_domain(_fixture("rdap-verisign-com.json"), "hoshizora-sec-support.com")
    assert reg.name == "hoshizora-sec-support.com" and reg.exists and not reg.error
    assert (reg.registrar, reg.registrar_iana_id) == ("GoDaddy.com, LLC", "146")
    assert (reg.abuse_email, reg.abuse_phone) == ("abuse@godaddy.com", "480-624-2505")
    assert reg.created_at == datetime(2026, 11, 20, 4, 12, 33, tzinfo=UTC)
    assert reg.expires_at == datetime(2027, 11, 20, 4, 12, 33, tzinfo=UTC)
    assert "client transfer prohibited" in reg.statuses
    assert reg.nameservers == ["ns71.domaincontrol.com", "ns72.domaincontrol.com"]
    assert reg.dnssec is False
    d = reg.as_dict()
    json.dumps(d)  # JSON-able for Snapshot.rdap
    assert d["created_at"] == "2026-11-20T04:12:33+00:00"


def test_top_level_abuse_camelcase_status_and_hold() -> None:
    reg = parse_domain(_fixture("rdap-zdns-top.json"), "hoshizora-sec-login.top")
    assert (reg.registrar, reg.registrar_iana_id) == ("Namecheap Inc.", "1068")
    assert reg.abuse_email == "abuse@namecheap.com" and reg.abuse_phone == "+1.6613102107"
    assert reg.statuses == ["client transfer prohibited", "server hold"] and reg.on_hold
    assert reg.created_at == datetime(2026, 11, 21, 23, 11, 55, tzinfo=UTC)
    assert reg.nameservers == ["dns1.registrar-servers.com", "dns2.registrar-servers.com"]
    assert reg.dnssec is None


def test_missing_fields_stay_empty() -> None:
    reg = parse_domain(_fixture("rdap-sparse.json"), "hzsec.xyz")
    assert reg.registrar == "" and reg.abuse_email == "" and reg.nameservers == []
    assert reg.created_at == datetime(2026, 11, 23, tzinfo=UTC)
    assert reg.expires_at == datetime(2027, 11, 23, tzinfo=UTC)
    assert reg.updated_at is None
    for garbage in (None, [], "x", {"entities": "no", "events": [1, {"eventDate": 3}], "status": 5}):
        r = parse_domain(garbage, "x.test")
        assert r.registrar == "" and r.statuses == []


def test_ip_networks_apnic_and_arin() -> None:
    apnic = parse_network(_fixture("rdap-apnic-ip.json"), "203.0.113.9")
    assert apnic.cidr == "203.0.113.0/24" and apnic.country == "JP"
    assert apnic.abuse_email == "abuse@hosting.example.jp" and apnic.org == "Example Hosting K.K."
    arin = parse_network(_fixture("rdap-arin-ip.json"), "198.51.100.7")
    assert arin.cidr == "198.51.100.0/24" and arin.name == "EXAMPLE-CDN"
    assert arin.abuse_email == "abuse@example-cdn.test" and arin.abuse_phone == "+1-555-0100"
    json.dumps(arin.as_dict())


def test_whois_generic_key_value() -> None:
    reg = parse((FIXTURES / "whois-verisign.txt").read_text(), "hzsec-login.com")
    assert reg.source == "whois" and reg.exists
    assert (reg.registrar, reg.registrar_iana_id, reg.abuse_email) == ("NameCheap, Inc.", "1068", "abuse@namecheap.com")
    assert reg.statuses == ["client transfer prohibited", "client hold"] and reg.on_hold
    assert reg.created_at == datetime(2026, 11, 21, 9, 59, 59, tzinfo=UTC)
    assert reg.nameservers == ["dns1.registrar-servers.com", "dns2.registrar-servers.com"]
    assert reg.dnssec is False


def test_whois_jprs_english_co_jp_layout() -> None:
    reg = parse((FIXTURES / "whois-jprs-en.txt").read_text(), "hoshizora-sec.co.jp")
    assert reg.statuses == ["active"]
    assert reg.created_at == datetime(2001, 3, 1, tzinfo=UTC)
    assert reg.updated_at == datetime(2026, 3, 31, 16, 5, 4, tzinfo=UTC)  # JST -> UTC
    assert reg.nameservers == ["ns1.hoshizora-sec.co.jp", "ns2.hoshizora-sec.co.jp"]
    assert reg.extra["registrant"] == "Hoshizora Securities Co., Ltd."


@pytest.mark.parametrize("text", ["No match!!\n", "", "\x00\xff garbage [[[ ]]]", "No match for \"X.COM\".\n"])
def test_whois_hostile_or_empty_text(text: str) -> None:
    reg = parse(text, "x.jp")
    assert reg.registrar == "" or not reg.exists


def test_split_server() -> None:
    assert split_server("whois.jprs.jp") == ("whois.jprs.jp", 43)
    assert split_server("127.0.0.1:4343") == ("127.0.0.1", 4343)


# ---------------------------------------------------------------- the client against the lab


def _client(tmp_path: Path, lab_rdap: Any, lab_whois: Any | None = None, clock: Any = None,
            **rdap: Any) -> RdapClient:
    (tmp_path / "dns.json").write_text(json.dumps(lab_rdap.bootstrap()))
    (tmp_path / "ipv4.json").write_text(json.dumps(lab_rdap.ipv4_bootstrap()))
    conf: dict[str, Any] = {"bootstrap_file": str(tmp_path / "dns.json"),
                            "ip_bootstrap_file": str(tmp_path / "ipv4.json"), "allow_http": True,
                            "requests_per_minute": 6000, "timeout": 3.0, **rdap}
    if lab_whois is not None:
        conf["whois_servers"] = {"jp": f"127.0.0.1:{lab_whois.port}"}
    return RdapClient(make_settings(tmp_path, "", rdap=conf), clock=clock or FrozenClock())


def test_client_domain_ip_and_404(tmp_path: Path, lab_rdap: Any) -> None:
    lab_rdap.set_domain("hoshizora-sec-login.top", registrar="Cheap Names Ltd.", statuses=["client hold"],
                        created=datetime(2026, 11, 20, tzinfo=UTC))
    lab_rdap.set_network("203.0.113.0/24", "LAB-HOSTING", "abuse@lab-hosting.test")
    c = _client(tmp_path, lab_rdap)
    reg = c.domain("www.hoshizora-sec-login.top")  # asks for the registrable domain
    assert reg.name == "hoshizora-sec-login.top" and reg.source == "rdap"
    assert (reg.registrar, reg.registrar_iana_id, reg.abuse_email) == ("Cheap Names Ltd.", "9002",
                                                                        "abuse@cheapnames.test")
    assert reg.statuses == ["client hold"] and reg.created_at == datetime(2026, 11, 20, tzinfo=UTC)
    missing = c.domain("not-registered.top")
    assert missing.exists is False and missing.error == ""
    net = c.ip("203.0.113.77")
    assert (net.name, net.cidr, net.abuse_email) == ("LAB-HOSTING", "203.0.113.0/24", "abuse@lab-hosting.test")
    assert c.ip("198.51.100.1").error  # no such network in the lab: an error, not an exception
    assert c.ip("not-an-ip").error


def test_client_caches_for_cache_hours(tmp_path: Path, lab_rdap: Any) -> None:
    lab_rdap.set_domain("hzsec.top")
    clock = FrozenClock()
    c = _client(tmp_path, lab_rdap, clock=clock, cache_hours=1)
    c.domain("hzsec.top")
    c.domain("hzsec.top")
    assert lab_rdap.requests == 1
    clock.advance(hours=2)
    c.domain("hzsec.top")
    assert lab_rdap.requests == 2


def test_client_backs_off_on_429_with_retry_after(tmp_path: Path, lab_rdap: Any) -> None:
    lab_rdap.set_domain("hzsec.top")
    lab_rdap.fail("hzsec.top", 429, times=1, retry_after=2)
    c = _client(tmp_path, lab_rdap)
    slept: list[float] = []
    c.sleep = slept.append  # the wait is recorded, not taken: tests never sleep
    reg = c.domain("hzsec.top")
    assert reg.exists and not reg.error and 2.0 in slept


def test_client_gives_up_politely_on_repeated_429_and_500(tmp_path: Path, lab_rdap: Any) -> None:
    lab_rdap.set_domain("hzsec.top")
    lab_rdap.set_domain("hzsec.xyz")
    lab_rdap.fail("hzsec.top", 429, times=5, retry_after=1)
    lab_rdap.fail("hzsec.xyz", 500, times=1)
    c = _client(tmp_path, lab_rdap)
    c.sleep = lambda s: None
    assert "rate limited" in c.domain("hzsec.top").error
    assert "HTTP 500" in c.domain("hzsec.xyz").error
    assert c.domain("hzsec.xyz").exists  # errors are not cached: the next call asks again


def test_client_paces_requests_per_server(tmp_path: Path, lab_rdap: Any) -> None:
    lab_rdap.set_domain("a-hzsec.top")
    lab_rdap.set_domain("b-hzsec.top")
    c = _client(tmp_path, lab_rdap, requests_per_minute=60)
    slept: list[float] = []
    c.sleep = slept.append
    c.domain("a-hzsec.top")
    c.domain("b-hzsec.top")
    assert slept and 0.9 < slept[-1] <= 1.0


def test_client_whois_for_jp(tmp_path: Path, lab_rdap: Any, lab_whois: Any) -> None:
    lab_whois.set_domain("hoshizora-sec.jp", registrant="Someone", registrar="JPRS Lab Designated Registrar",
                         created=datetime(2026, 11, 22).date(), status="Active")
    c = _client(tmp_path, lab_rdap, lab_whois)
    reg = c.domain("hoshizora-sec.jp")
    assert reg.source == "whois" and reg.exists and not reg.error
    assert reg.registrar == "JPRS Lab Designated Registrar"
    assert reg.abuse_email == ""  # hostmaster@<the domain itself> is the registrant, not an abuse desk
    assert reg.created_at == datetime(2026, 11, 22, tzinfo=UTC) and reg.statuses == ["active"]
    assert reg.nameservers == ["ns1.lab-dns.test", "ns2.lab-dns.test"]
    assert c.domain("nothing-here.jp").exists is False
    lab_whois.set_status("hoshizora-sec.jp", "Suspended")
    c2 = _client(tmp_path, lab_rdap, lab_whois)
    assert c2.domain("hoshizora-sec.jp").on_hold


def test_client_never_raises(tmp_path: Path, lab_rdap: Any) -> None:
    c = _client(tmp_path, lab_rdap, whois_servers={"jp": "127.0.0.1:1"})  # nobody listens on port 1
    assert c.domain("x.jp").error.startswith("WHOIS")
    assert "no RDAP server" in c.domain("example.invalidtld").error
    assert c.domain("").error
    assert c.domain("192.0.2.1").error


def test_shipped_bootstrap_files_are_iana_format(settings: Any) -> None:
    c = RdapClient(settings)
    assert c.server_for("x.com") == "https://rdap.verisign.com/com/v1/"
    assert c.server_for("x.top") == "https://rdap.zdnsgtld.com/top/"
    assert c.server_for("x.co.jp") == ""  # .jp: WHOIS
    assert c.whois_server_for("x.co.jp") == "whois.jprs.jp"
    assert c.ip_server_for("203.0.113.1") == "https://rdap.apnic.net/"
    assert c.ip_server_for("8.8.8.8") == "https://rdap.arin.net/registry/"


def test_whois_fallback_for_cctlds_without_rdap(settings: Any) -> None:
    c = RdapClient(settings)
    assert c.whois_server_for("hoshizora-sec.cn") == "whois.cnnic.cn"
    assert c.whois_server_for("hoshizora-sec.com") == ""  # has RDAP


def test_whois_cnnic_layout() -> None:
    text = ("Domain Name: hoshizora-sec.cn\nROID: 20261120s10001s12345678-cn\nDomain Status: clientTransferProhibited\n"
            "Registrant: 张三\nSponsoring Registrar: 阿里云计算有限公司（万网）\nName Server: dns1.hichina.com\n"
            "Name Server: dns2.hichina.com\nRegistration Time: 2026-11-20 10:11:12\n"
            "Expiration Time: 2027-11-20 10:11:12\nDNSSEC: unsigned\n")
    reg = parse(text, "hoshizora-sec.cn")
    assert reg.registrar == "阿里云计算有限公司（万网）" and reg.statuses == ["client transfer prohibited"]
    assert reg.created_at == datetime(2026, 11, 20, 10, 11, 12, tzinfo=UTC)
    assert reg.nameservers == ["dns1.hichina.com", "dns2.hichina.com"]
