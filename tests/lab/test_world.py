"""The whole lab from a scenario: startup time, endpoints, the takedown loop, timed events, the control
API and the `python -m lab` CLI."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import ssl
import subprocess
import sys
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import dns.resolver
import httpx
import pytest

from lab.testing import wait_for
from lab.world import World

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "lab" / "demo.toml"


def _resolver(world: World) -> dns.resolver.Resolver:
    r = dns.resolver.Resolver(configure=False)
    r.nameservers, r.port, r.lifetime = [world.dns.host], world.dns.port, 2
    return r


def _web(world: World) -> httpx.Client:
    return httpx.Client(proxy=world.web.proxy_url, verify=ssl.create_default_context(cafile=world.web.ca_file),
                        timeout=5)


def test_everything_starts_and_says_where_it_is(lab_world: Callable[..., World]) -> None:
    world = lab_world()
    ep = world.endpoints()
    assert set(ep) >= {"dns", "rdap", "whois", "ct", "certstream", "web", "smtp", "control"}
    json.dumps(ep)  # JSON-able
    assert httpx.get(ep["rdap"]["bootstrap_url"]).json()["services"]
    assert httpx.get(ep["ct"]["rfc6962_url"] + "ct/v1/get-sth").json()["tree_size"] == 2
    assert httpx.get(ep["ct"]["log_list_url"]).json()["operators"]
    assert httpx.get(ep["control"]["url"] + "endpoints").json() == json.loads(json.dumps(ep))
    assert Path(ep["web"]["ca_file"]).read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_scenario_state(lab_world: Callable[..., World]) -> None:
    world = lab_world()
    r = _resolver(world)
    assert r.resolve("hoshizora-sec-login.top", "A")[0].address == "203.0.113.10"
    with pytest.raises(dns.resolver.NXDOMAIN):
        r.resolve("old.hoshizora-sec.co.jp", "A")  # dangling
    assert "p=none" in r.resolve("_dmarc.hoshizora-sec.co.jp", "TXT")[0].to_text()
    with pytest.raises(dns.resolver.NoNameservers):  # SERVFAIL, as the scenario says
        r.resolve("lame.hoshizora-sec.com", "A")
    rdap = httpx.get(world.rdap.url + "domain/hoshizora-sec.com").json()
    assert "client transfer prohibited" not in rdap["status"]
    with _web(world) as web:
        assert "NoSuchBucket" in web.get("https://campaign.hoshizora-sec.co.jp/").text
        assert "口座番号" in web.get("https://www.hoshizora-sec-login.top/").text


def test_timed_events_and_fire_pending(lab_world: Callable[..., World]) -> None:
    world = lab_world(time_scale=0.1)  # "+1s" happens after 0.1 s
    wait_for(lambda: not world.pending(), timeout=30)
    assert not world.pending()
    assert all("error" not in e for e in world.timeline)
    world.ct.integrate()
    issuers = [world.ct.entry(i).issuer_der for i in range(world.ct.sth.size)]
    assert world.pki.cas["Unexpected CA"].der in issuers
    paused = lab_world(run_events=False)
    assert len(paused.pending()) == 2
    assert paused.fire_pending() == 2 and not paused.pending()
    assert "www-hoshizora-sec-co-jp.k7x2.top" in paused.web.sites()


def test_takedown_request_leads_to_suspension(lab_world: Callable[..., World]) -> None:
    world = lab_world()  # Cheap Names suspends 0.3 s after a report
    m = EmailMessage()
    m["From"], m["To"] = "brand-security@hoshizora-sec.co.jp", "abuse@cheapnames.test"
    m["Subject"] = "【停止依頼】フィッシングサイト hoshizora-sec-login[.]top"
    m.set_content("https://www.hoshizora-sec-login.top/ はほしぞら証券を装ったフィッシングサイトです。")
    with smtplib.SMTP(world.smtp.host, world.smtp.port) as s:
        s.send_message(m)
    wait_for(lambda: "suspended" in world.registrations["hoshizora-sec-login.top"], timeout=30)
    with pytest.raises(dns.resolver.NXDOMAIN):
        _resolver(world).resolve("www.hoshizora-sec-login.top", "A")
    assert "client hold" in httpx.get(world.rdap.url + "domain/hoshizora-sec-login.top").json()["status"]
    with _web(world) as web:
        assert "suspended" in web.get("https://www.hoshizora-sec-login.top/").text
    assert world.smtp.messages()[0].rcpt_tos == ["abuse@cheapnames.test"]


def test_lapse_reregister_and_dangle(lab_world: Callable[..., World]) -> None:
    world = lab_world()
    world.apply("register_domain", name="hoshizora-fx.jp", registrant="ほしぞら証券株式会社", owned=True,
                address="192.0.2.70")
    world.apply("lapse", name="hoshizora-fx.jp")
    from lab.whois import query

    assert "No match!!" in query("hoshizora-fx.jp", world.whois.port)
    with pytest.raises(dns.resolver.NXDOMAIN):
        _resolver(world).resolve("hoshizora-fx.jp", "A")
    world.apply("reregister", name="hoshizora-fx.jp", registrant="Domain Hunter LLC")
    assert "Domain Hunter LLC" in query("hoshizora-fx.jp", world.whois.port)
    assert _resolver(world).resolve("hoshizora-fx.jp", "A")[0].address == "198.51.100.20"
    world.apply("dangle", host="docs.hzsec.com", target="hoshizora-docs.github.io")
    with pytest.raises(dns.resolver.NXDOMAIN):
        _resolver(world).resolve("docs.hzsec.com", "A")
    with pytest.raises(ValueError):
        world.apply("no_such_action")


def test_control_api_and_cli(lab_world: Callable[..., World], tmp_path: Path) -> None:
    world = lab_world(run_events=False)
    ep_file = tmp_path / "endpoints.json"
    ep_file.write_text(json.dumps(world.endpoints()))
    r = httpx.post(world.control.url + "events", json={
        "action": "register_lookalike", "name": "hoshizora-secure.top", "site": "clone-partial",
        "certificate": True})
    assert r.json()["ok"] and world.ct.sth.size == 3
    out = subprocess.run([sys.executable, "-m", "lab", "event", "--endpoints-file", str(ep_file), "publish",
                          "host=hoshizora-secure.top", "kind=parked-dan"], capture_output=True, text=True,
                         cwd=ROOT, timeout=20)
    assert out.returncode == 0, out.stderr
    assert world.web.sites()["hoshizora-secure.top"] == "parked-dan"
    bad = httpx.post(world.control.url + "events", json={"action": "publish", "host": "x.test", "kind": "nope"})
    assert bad.status_code == 400 and not bad.json()["ok"]
    state = httpx.get(world.control.url + "state").json()
    assert state["ct_tree_size"] == 3 and len(state["pending"]) == 2
    assert httpx.post(world.control.url + "fire").json()["fired"] == 2


def test_demo_scenario_applies_cleanly(lab_world: Callable[..., World]) -> None:
    world = lab_world(DEMO, noise_rate=0, time_scale=0)  # every event at once
    assert not world.pending() and all("error" not in e for e in world.timeline), world.timeline
    r = _resolver(world)
    assert "p=reject" in r.resolve("_dmarc.hzsec.com", "TXT")[0].to_text()
    assert r.resolve("campaign.hoshizora-sec.co.jp", "A")[0].address == "198.51.100.200"
    from lab.whois import query

    assert "Domain Hunter LLC" in query("hoshizora-fx.jp", world.whois.port)
    idn = httpx.get(world.rdap.url + "domain/xn--hoshizora-se-khk.com").json()
    assert idn["unicodeName"] == "hoshizora-se\u0441.com"  # Cyrillic es
    with _web(world) as web:
        assert web.get("http://k3v9q.xyz/hoshizora/login.php").status_code == 200
        assert "000512345" in web.get("https://www.hoshizora-sec.co.jp/security/sms.html").text
        assert "mode: enforce" in web.get("https://mta-sts.hoshizora-sec.co.jp/.well-known/mta-sts.txt").text


def test_cli_up_serves_until_interrupted(tmp_path: Path) -> None:
    ep_file = tmp_path / "ep.json"
    proc = subprocess.Popen([sys.executable, "-m", "lab", "up", "--scenario", "data/lab/small.toml",
                             "--endpoints-file", str(ep_file)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        wait_for(ep_file.exists, timeout=15)
        ep = json.loads(ep_file.read_text())
        assert httpx.get(ep["ct"]["rfc6962_url"] + "ct/v1/get-sth").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "dns" in out and "omamori lab stopped" in out
