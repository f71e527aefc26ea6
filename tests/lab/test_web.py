"""The lab web server used the way the product will: httpx with the lab as its HTTP proxy,
over plain HTTP (absolute-form) and HTTPS (CONNECT, trusting the lab CA)."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator

import httpx
import pytest
from cryptography import x509

from lab.web import LabWeb

# Fingerprint strings from can-i-take-over-xyz (now converted into data/takeover-signatures.json).
FINGERPRINTS = {"takeover-s3": "The specified bucket does not exist", "takeover-github":
                "There isn't a GitHub Pages site here.", "takeover-heroku": "No such app",
                "takeover-azure": "404 Web Site not found"}


@pytest.fixture
def web(lab_web: LabWeb) -> LabWeb:
    lab_web.publish("www.hoshizora-sec.co.jp", "official")
    lab_web.publish("trade.hoshizora-sec.co.jp", "official")
    return lab_web


@pytest.fixture
def client(web: LabWeb) -> Iterator[httpx.Client]:
    ctx = ssl.create_default_context(cafile=web.ca_file)
    with httpx.Client(proxy=web.proxy_url, verify=ctx, timeout=10) as c:
        yield c


def test_official_site_over_https_through_connect(web: LabWeb, client: httpx.Client) -> None:
    r = client.get("https://trade.hoshizora-sec.co.jp/login")
    assert r.status_code == 200 and r.url.scheme == "https"
    assert "口座番号" in r.text and "パスワード" in r.text and "<form" in r.text
    r = client.get("https://www.hoshizora-sec.co.jp/security/sms.html")
    assert "000512345" in r.text
    logo = client.get("https://www.hoshizora-sec.co.jp/assets/hoshizora-logo.png")
    assert logo.headers["content-type"] == "image/png" and logo.content.startswith(b"\x89PNG")
    assert ("CONNECT", "https", "trade.hoshizora-sec.co.jp", "") in web.requests


def test_certificate_is_issued_by_the_lab_ca_for_the_sni_name(web: LabWeb) -> None:
    ctx = ssl.create_default_context(cafile=web.ca_file)
    with httpx.Client(proxy=web.proxy_url, verify=ctx) as c, c.stream("GET", "https://www.hoshizora-sec.co.jp/") as r:
        der = r.extensions["network_stream"].get_extra_info("ssl_object").getpeercert(True)
    cert = x509.load_der_x509_certificate(der)
    assert cert.issuer.rfc4514_string().startswith("CN=Lab Trusted CA,")
    assert "www.hoshizora-sec.co.jp" in cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)


def test_untrusting_client_refuses_the_tunnel(web: LabWeb) -> None:
    with httpx.Client(proxy=web.proxy_url) as c, pytest.raises(httpx.ConnectError):
        c.get("https://www.hoshizora-sec.co.jp/")


def test_clones_at_several_fidelities(web: LabWeb, client: httpx.Client) -> None:
    official = client.get("http://trade.hoshizora-sec.co.jp/login").text
    for kind in ("clone-exact", "clone-recolored", "clone-relayout", "clone-partial", "clone-logo"):
        web.publish(f"{kind}.test", kind)
    exact = client.get("https://clone-exact.test/").text
    assert exact.replace('action="/post.php"', 'action="/login"') == official
    recolored = client.get("http://clone-recolored.test/").text
    assert "#5b0b3e" in recolored and "口座番号" in recolored
    assert "grid-template-columns" in client.get("http://clone-relayout.test/").text
    assert "ほしぞら証券" in client.get("http://clone-partial.test/").text
    logo_only = client.get("http://clone-logo.test/").text
    assert "hoshizora-logo.png" in logo_only and "ほしぞら" not in logo_only
    post = client.post("https://clone-exact.test/post.php", data={"account": "1", "password": "x"})
    assert post.status_code == 302 and post.headers["location"] == "https://trade.hoshizora-sec.co.jp/login"
    web.publish("k3v9q.xyz", "clone-partial", path="/hoshizora/login.php")
    assert client.get("http://k3v9q.xyz/hoshizora/login.php").status_code == 200
    assert client.get("http://k3v9q.xyz/").status_code == 404


def test_other_kinds(web: LabWeb, client: httpx.Client) -> None:
    web.publish("www.tsubame-sec.co.jp", "tsubame")
    assert "つばめ証券" in client.get("https://www.tsubame-sec.co.jp/").text
    for style in ("parked-sedo", "parked-godaddy", "parked-dan", "parked-bodis", "parked-onamae", "forsale"):
        web.publish(f"{style}.test", style)
        assert client.get(f"http://{style}.test/").status_code == 200
    assert "for sale" in client.get("http://forsale.test/").text
    for kind, text in FINGERPRINTS.items():
        web.publish(f"{kind}.test", kind)
        r = client.get(f"https://{kind}.test/")
        assert r.status_code == 404 and text in r.text, kind
    web.publish("gone.test", "gone")
    web.publish("notfound.test", "notfound")
    assert client.get("http://gone.test/x").status_code == 410
    assert client.get("http://notfound.test/").status_code == 404
    web.publish("mta-sts.hoshizora-sec.co.jp", "mta-sts", mx=["mail.hoshizora-sec.co.jp"])
    policy = client.get("https://mta-sts.hoshizora-sec.co.jp/.well-known/mta-sts.txt").text
    assert policy.startswith("version: STSv1\nmode: enforce\nmx: mail.hoshizora-sec.co.jp\n")


def test_redirect_chain(web: LabWeb, client: httpx.Client) -> None:
    web.publish("short.hzsec.com", "redirect", hops=3, to="https://www.hoshizora-sec.co.jp/")
    r = client.get("http://short.hzsec.com/", follow_redirects=True)
    assert [h.status_code for h in r.history] == [302, 301, 302, 301]
    assert str(r.url) == "https://www.hoshizora-sec.co.jp/" and r.status_code == 200


def test_slow_huge_and_endless_pages(web: LabWeb, client: httpx.Client) -> None:
    web.publish("slow.test", "slow", delay=0.3)
    t = time.perf_counter()
    assert client.get("http://slow.test/").status_code == 200
    assert time.perf_counter() - t >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        client.get("http://slow.test/", timeout=0.1)
    web.publish("huge.test", "huge", size=3_000_000)
    assert len(client.get("https://huge.test/").content) >= 3_000_000
    web.publish("endless.test", "endless")
    got = 0
    with client.stream("GET", "http://endless.test/") as r:
        for chunk in r.iter_bytes():
            got += len(chunk)
            if got > 50_000:
                break
    assert got > 50_000


def test_runtime_switching(web: LabWeb, client: httpx.Client) -> None:
    web.publish("hoshizora-sec-login.top", "clone-exact")
    assert "口座番号" in client.get("https://hoshizora-sec-login.top/").text
    web.suspend("hoshizora-sec-login.top", registrar="Cheap Names Ltd.")
    assert "suspended" in client.get("https://hoshizora-sec-login.top/").text
    web.restore("hoshizora-sec-login.top")
    assert "口座番号" in client.get("https://hoshizora-sec-login.top/").text
    web.unpublish("hoshizora-sec-login.top")
    assert client.get("http://hoshizora-sec-login.top/").status_code == 502
    assert client.get("https://hoshizora-sec-login.top/").status_code == 502  # inside the open tunnel
    with httpx.Client(proxy=web.proxy_url, verify=False) as fresh, pytest.raises(httpx.ProxyError):
        fresh.get("https://hoshizora-sec-login.top/")  # a new CONNECT is refused
    web.publish("*.k7x2.top", "clone-recolored")
    assert client.get("https://www-hoshizora-sec-co-jp.k7x2.top/").status_code == 200


def test_direct_request_by_host_header(web: LabWeb) -> None:
    r = httpx.get(web.url + "security/sms.html", headers={"Host": "www.hoshizora-sec.co.jp"})
    assert "000512345" in r.text
    assert httpx.get(web.url, headers={"Host": "unknown.test"}).status_code == 404
