"""The fetch guard on the watcher's own HTTP client, attacked against real lab servers.

The "internal service" is a real lab web server on 127.0.0.2 (the firm's network, a metadata
service); the public side is the lab web on 127.0.0.1, made fetchable with `crawl.allow_addresses`
(lab mode is off: the guard decides as in production). A guard that let anything through would
reach the internal server, which records every request.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from lab.dns import LabDNS
from lab.web import LabWeb
from watcher.clients.http import RefusedAddress
from watcher.core.models import Brand
from watcher.owned import signatures, takeover
from watcher.owned.checks import CheckRun, run_checks
from watcher.owned.shortcode import check_short_codes

AREA = "fetch guard (watcher's HTTP client)"


@pytest.fixture
def internal() -> Any:
    with LabWeb(host="127.0.0.2") as web:
        web.publish("secret.internal", "corporate", title="INTERNAL", text="the firm's secrets")
        yield web


@pytest.fixture
def guarded(make_ctx, lab_web, lab_dns, internal) -> Any:
    """A Context outside lab mode, no proxy, the lab DNS; 127.0.0.1 (the lab web) allowed."""
    lab_web.publish("public.test", "corporate", title="PUBLIC", text="an ordinary page")
    lab_dns.set("public.test", "A", "127.0.0.1")
    return make_ctx(dns=lab_dns, service={"lab_mode": False}, crawl={"proxy": "", "allow_addresses": ["127.0.0.1"]})


def _get(ctx: Any, url: str) -> httpx.Response:
    with ctx.http(timeout=5.0) as client:
        return client.get(url)


SPELLINGS = ["2130706434", "0x7f000002", "0x7f.0.0.2", "0177.0.0.2", "127.2", "127.0.0.2", "[::ffff:127.0.0.2]",
             "[::ffff:7f00:2]", "[::127.0.0.2]", "0.0.0.0", "0", "localhost", "[::1]", "169.254.169.254",
             "[2002:7f00:2::]", "[64:ff9b::7f00:2]", "[2001:0:4136:e378:8000:63bf:80ff:fffd]", "100.64.0.1"]


@pytest.mark.reliability("the watcher fetches http://{host}:PORT/ (an internal address in another spelling)",
                         "refused before any connection; the internal server sees nothing", area=AREA)
@pytest.mark.parametrize("host", SPELLINGS)
def test_every_spelling_of_an_internal_address_is_refused(guarded, internal, host, observe) -> None:
    # httpx itself refuses some spellings as URLs (InvalidURL); every other one reaches the guard.
    with pytest.raises((RefusedAddress, httpx.InvalidURL)) as refused:
        _get(guarded, f"http://{host}:{internal.port}/")
    assert not internal.requests
    observe(f"{type(refused.value).__name__}: {refused.value}; internal server requests: 0")


def test_the_allowed_public_side_is_fetched(guarded, lab_web) -> None:
    r = _get(guarded, f"http://public.test:{lab_web.port}/")
    assert r.status_code == 200 and "PUBLIC" in r.text


@pytest.mark.reliability("a redirect from an allowed site to http://2130706434:PORT/ (127.0.0.2)",
                         "the redirect hop is refused; the internal server sees nothing", area=AREA)
def test_a_redirect_to_an_internal_address_is_refused(guarded, lab_web, lab_dns, internal, observe) -> None:
    lab_web.publish("hop.test", "redirect", hops=1, to=f"http://2130706434:{internal.port}/")
    lab_dns.set("hop.test", "A", "127.0.0.1")
    with pytest.raises(RefusedAddress) as refused:
        _get(guarded, f"http://hop.test:{lab_web.port}/")
    assert [p for _m, _s, h, p in lab_web.requests if h.startswith("hop.test")] == ["/", "/r/1"]
    assert not internal.requests
    observe(f"2 hops fetched from the allowed site, then RefusedAddress: {refused.value}")


@pytest.mark.reliability("DNS rebinding: a name answers 127.0.0.1 (allowed) once, then 127.0.0.2 (internal), ttl 0",
                         "the connection goes to the address that was checked; a later lookup is checked again",
                         area=AREA)
def test_the_checked_address_is_the_address_connected_to(guarded, lab_web, lab_dns, internal, observe) -> None:
    lab_web.publish("rebind.test", "corporate", title="PUBLIC", text="first answer")
    internal.publish("rebind.test", "corporate", title="INTERNAL", text="second answer")
    lab_dns.rebind("rebind.test", "127.0.0.1", "127.0.0.2")
    first = _get(guarded, f"http://rebind.test:{lab_web.port}/")
    assert "PUBLIC" in first.text  # one lookup, checked and connected to: no second lookup to rebind
    with pytest.raises(RefusedAddress) as refused:
        _get(guarded, f"http://rebind.test:{internal.port}/")
    assert not internal.requests
    observe(f"first fetch: the allowed page; next lookup (127.0.0.2): RefusedAddress: {refused.value}")


@pytest.mark.reliability("the name server does not answer in time (no proxy)", "refused: fail closed", area=AREA)
def test_a_dns_timeout_fails_closed(make_ctx, lab_web, observe) -> None:
    with LabDNS(delay=1.5) as slow:
        slow.set("public.test", "A", "127.0.0.1")
        ctx = make_ctx(dns={"nameservers": [slow.host], "port": slow.port, "timeout": 0.3, "retries": 0},
                       service={"lab_mode": False}, crawl={"proxy": "", "allow_addresses": ["127.0.0.1"]})
        with pytest.raises(RefusedAddress, match="timed out") as refused:
            _get(ctx, f"http://public.test:{lab_web.port}/")
    assert not lab_web.requests
    observe(f"RefusedAddress: {refused.value}")


@pytest.mark.reliability("a name that does not resolve here, no proxy configured", "refused", area=AREA)
def test_a_name_that_does_not_resolve_is_refused_without_a_proxy(guarded, observe) -> None:
    with pytest.raises(RefusedAddress, match="does not resolve") as refused:
        _get(guarded, "http://not-in-the-lab-dns.test/")
    observe(f"RefusedAddress: {refused.value}")


@pytest.mark.reliability("through the egress proxy: http://2130706434/ and a lab name the proxy resolves",
                         "the address literal is refused before the proxy; the name is fetched through the proxy",
                         area=AREA)
def test_the_egress_proxy_path_works_and_is_guarded(make_ctx, lab_web, lab_dns, observe) -> None:
    lab_web.publish("far-side.test", "corporate", title="FAR SIDE", text="resolved by the proxy")
    ctx = make_ctx(dns=lab_dns, web=lab_web, service={"lab_mode": False})  # the proxy is at 127.0.0.1
    r = _get(ctx, "http://far-side.test/")
    assert r.status_code == 200 and "FAR SIDE" in r.text
    before = len(lab_web.requests)
    with pytest.raises(RefusedAddress) as refused:
        _get(ctx, "http://2130706434/")
    lab_dns.set("inside.test", "A", "10.1.2.3")
    with pytest.raises(RefusedAddress, match=r"10\.1\.2\.3"):
        _get(ctx, "http://inside.test/")
    assert len(lab_web.requests) == before
    observe(f"far-side.test fetched through the proxy (200); literal: RefusedAddress: {refused.value}; "
            "a name resolving here to 10.1.2.3: refused")


@pytest.mark.reliability("the brand's short-code page is configured as http://2130706434:PORT/ (127.0.0.2)",
                         "the short-code check records a refusal; the internal server sees nothing", area=AREA)
def test_the_short_code_check_goes_through_the_guard(guarded, internal, observe) -> None:
    with Session(guarded.engine) as s:
        brand = s.exec(select(Brand).where(Brand.slug == "hoshizora")).one()
        brand.spec = {**brand.spec, "short_code_page": f"http://2130706434:{internal.port}/security/sms.html",
                      "short_code_pages": [], "short_code_info_url": ""}
        s.add(brand)
        s.commit()
    summary = run_checks(guarded, (check_short_codes,))
    assert summary["errors"] == 1 and not internal.requests
    observe(f"check summary errors={summary['errors']}: {[n for n in summary.get('notes', [])][:1] or 'refused'}; "
            "internal server requests: 0")


@pytest.mark.reliability("an owned host's CNAME target is re-registered by an attacker and resolves to 127.0.0.2",
                         "the takeover check's fetch is refused; the internal server sees nothing", area=AREA)
def test_the_takeover_fetch_goes_through_the_guard(guarded, lab_dns, internal, observe) -> None:
    lab_dns.set("campaign.hoshizora-sec.co.jp", "CNAME", "victim.s3.amazonaws.test")
    lab_dns.set("victim.s3.amazonaws.test", "A", "127.0.0.2")
    internal.publish("campaign.hoshizora-sec.co.jp", "takeover-s3")
    with Session(guarded.engine) as s:
        hit, answered, error = takeover._probe(CheckRun(guarded, s, guarded.now()), "campaign.hoshizora-sec.co.jp",
                                               list(signatures.load()), 0)
    assert hit is None and not answered and "refused" in error and "127.0.0.2" in error and not internal.requests
    observe(f"no page fetched: {error[:160]}")
