"""RDAP read with httpx as a client following RFC 9083; WHOIS read with a plain port-43 socket."""

from __future__ import annotations

import datetime as dt
import socket

import httpx

from lab.rdap import LabRDAP
from lab.whois import LabWhois


def _vcard(entity: dict, prop: str) -> str:
    return next(p[3] for p in entity["vcardArray"][1] if p[0] == prop)


def test_domain_object(lab_rdap: LabRDAP) -> None:
    lab_rdap.set_domain("hoshizora-sec-login.top", registrar="Cheap Names Ltd.",
                        created=dt.datetime(2026, 11, 20, tzinfo=dt.UTC), expires=dt.date(2027, 11, 20),
                        statuses=["client transfer prohibited"], nameservers=["ns1.cheapdns.test"], dnssec=False)
    r = httpx.get(lab_rdap.url + "domain/hoshizora-sec-login.top")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/rdap+json")
    d = r.json()
    assert d["objectClassName"] == "domain" and d["ldhName"] == "HOSHIZORA-SEC-LOGIN.TOP"
    events = {e["eventAction"]: e["eventDate"] for e in d["events"]}
    assert events["registration"] == "2026-11-20T00:00:00Z" and events["expiration"] == "2027-11-20T00:00:00Z"
    assert {"last changed", "last update of RDAP database"} <= set(events)
    registrar = next(e for e in d["entities"] if "registrar" in e["roles"])
    assert _vcard(registrar, "fn") == "Cheap Names Ltd."
    assert registrar["publicIds"][0] == {"type": "IANA Registrar ID", "identifier": "9002"}
    abuse = next(e for e in registrar["entities"] if "abuse" in e["roles"])
    assert _vcard(abuse, "email") == "abuse@cheapnames.test" and _vcard(abuse, "tel").startswith("tel:")
    assert d["status"] == ["client transfer prohibited"] and d["secureDNS"]["delegationSigned"] is False
    assert d["nameservers"][0]["ldhName"] == "NS1.CHEAPDNS.TEST"
    lab_rdap.add_status("hoshizora-sec-login.top", "client hold")
    assert "client hold" in httpx.get(lab_rdap.url + "domain/hoshizora-sec-login.top").json()["status"]


def test_errors_and_injected_failures(lab_rdap: LabRDAP) -> None:
    lab_rdap.set_domain("hzsec.com")
    assert httpx.get(lab_rdap.url + "domain/unknown.com").status_code == 404
    lab_rdap.fail("hzsec.com", 429, times=2, retry_after=7)
    r = httpx.get(lab_rdap.url + "domain/hzsec.com")
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    assert httpx.get(lab_rdap.url + "domain/hzsec.com").status_code == 429
    assert httpx.get(lab_rdap.url + "domain/hzsec.com").status_code == 200
    lab_rdap.fail("hzsec.com", 404)
    assert httpx.get(lab_rdap.url + "domain/hzsec.com").status_code == 404
    lab_rdap.set_domain("hoshizora.jp")  # WHOIS-only TLD: RDAP does not answer
    assert httpx.get(lab_rdap.url + "domain/hoshizora.jp").status_code == 404


def test_ip_networks_longest_prefix(lab_rdap: LabRDAP) -> None:
    lab_rdap.set_network("203.0.113.0/24", "LAB-HOSTING", "abuse@lab-hosting.test", "JP", "Lab Hosting")
    lab_rdap.set_network("203.0.113.128/25", "LAB-HOSTING-VPS", "vps-abuse@lab-hosting.test", "JP")
    n = httpx.get(lab_rdap.url + "ip/203.0.113.200").json()
    assert (n["name"], n["startAddress"], n["endAddress"]) == ("LAB-HOSTING-VPS", "203.0.113.128", "203.0.113.255")
    n = httpx.get(lab_rdap.url + "ip/203.0.113.5").json()
    assert n["name"] == "LAB-HOSTING" and n["country"] == "JP"
    abuse = next(e for e in n["entities"] if "abuse" in e["roles"])
    assert _vcard(abuse, "email") == "abuse@lab-hosting.test"
    assert httpx.get(lab_rdap.url + "ip/8.8.8.8").status_code == 404


def test_bootstrap_files(lab_rdap: LabRDAP) -> None:
    lab_rdap.set_domain("login-check.cn")
    boot = httpx.get(lab_rdap.bootstrap_url).json()
    assert set(boot) >= {"version", "publication", "services"}
    tlds, urls = boot["services"][0]
    assert "cn" in tlds and "top" in tlds and "jp" not in tlds and urls == [lab_rdap.url]
    assert boot == lab_rdap.bootstrap() | {"publication": boot["publication"]}
    v4 = httpx.get(lab_rdap.ipv4_bootstrap_url).json()
    assert "203.0.113.0/24" in v4["services"][0][0]


def _whois(server: LabWhois, query: str) -> str:
    with socket.create_connection((server.host, server.port), timeout=3) as s:
        s.sendall(query.encode() + b"\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    return data.decode("utf-8")


def test_whois_jprs_layout(lab_whois: LabWhois) -> None:
    lab_whois.set_domain("hoshizora.jp", registrant="ほしぞら証券株式会社", created=dt.date(2010, 4, 1),
                         expires=dt.date(2026, 12, 15), nameservers=["ns1.lab-dns.test"])
    text = _whois(lab_whois, "hoshizora.jp")
    fields = {}
    for line in text.splitlines():
        if line.startswith("[") and "]" in line and not line.startswith("[ "):
            key, _, value = line.partition("]")
            fields.setdefault(key + "]", value.strip())
    assert fields["[ドメイン名]"] == "HOSHIZORA.JP"
    assert fields["[登録者名]"] == "ほしぞら証券株式会社"
    assert fields["[登録年月日]"] == "2010/04/01" and fields["[有効期限]"] == "2026/12/15"
    assert fields["[状態]"] == "Active" and fields["[ネームサーバ]"] == "ns1.lab-dns.test"
    assert "[Expires on]" in _whois(lab_whois, "hoshizora.jp/e")
    assert "No match!!" in _whois(lab_whois, "hoshizora-fx.jp")
