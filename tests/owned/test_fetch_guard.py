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


# ---------------------------------------------------------------- configured endpoints
# An alert webhook and the MISP server are hosts the operator named: the firm's own services may sit
# on loopback or private addresses, so those are reached (lab mode off, no allow list); a metadata,
# link-local or unspecified address never is, whatever the name or spelling that leads there.

ENDPOINT_ATTACKS = {
    "a webhook name that resolves to 169.254.169.254": ("http://hooks.chat.test:{port}/hook", "metadata"),
    "http://[::ffff:a9fe:a9fe]/ (IPv4-mapped metadata)": ("http://[::ffff:a9fe:a9fe]:{port}/hook", "metadata"),
    "http://[2002:a9fe:a9fe::]/ (6to4 metadata)": ("http://[2002:a9fe:a9fe::]:{port}/hook", "metadata"),
    "http://0.0.0.0:PORT/ (reaches this host's listeners)": ("http://0.0.0.0:{port}/hook", "not a unicast"),
    "http://0:PORT/ (0.0.0.0 as one number)": ("http://0:{port}/hook", "not a unicast"),
    "http://[fe80::1]/ (link-local)": ("http://[fe80::1]:{port}/hook", "link-local"),
}


def _send(ctx: Any, url: str) -> str:
    from watcher.alerts.channels import send_webhook
    from watcher.core.config import AlertChannelSettings

    return send_webhook(ctx, AlertChannelSettings(name="soc", type="webhook", url=url), [])


@pytest.mark.reliability("an alert webhook configured as {case}",
                         "the send fails with the guard's reason (retried, then counted failed, as any send "
                         "failure); nothing is sent", area=AREA)
@pytest.mark.parametrize("case", sorted(ENDPOINT_ATTACKS))
def test_an_alert_webhook_never_reaches_a_metadata_or_unspecified_address(make_ctx, lab_dns, lab_webhooks, case,
                                                                        observe) -> None:
    from watcher.alerts.channels import SendError

    lab_dns.set("hooks.chat.test", "A", "169.254.169.254")
    ctx = make_ctx(dns=lab_dns, service={"lab_mode": False}, crawl={"proxy": "", "allow_addresses": []})
    template, reason = ENDPOINT_ATTACKS[case]
    with pytest.raises(SendError, match="refused") as refused:
        _send(ctx, template.format(port=lab_webhooks.port))
    assert reason in str(refused.value) and not lab_webhooks.received()
    observe(f"SendError: {refused.value}; the receiver got nothing")


@pytest.mark.reliability("the team's webhook receiver and the ISAC's MISP on loopback (lab mode off, no allow list)",
                         "both reached: the configured endpoint's own address is allowed", area=AREA)
def test_configured_endpoints_on_the_firms_own_network_are_reached(make_ctx, lab_webhooks, lab_misp, clock,
                                                                   observe) -> None:
    from datetime import UTC, datetime

    from tests.report.seed import seed_week
    from watcher.sharing import share

    clock.set(datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    ctx = make_ctx(service={"lab_mode": False}, crawl={"proxy": "", "allow_addresses": []},
                   sharing={"misp_url": lab_misp.url, "misp_key": lab_misp.key, "organisation": "ほしぞら証券"})
    answer = _send(ctx, lab_webhooks.url_for("json"))
    assert answer == "HTTP 200" and len(lab_webhooks.received()) == 1
    seed_week(ctx)
    assert share.run(ctx)["misp_pushed"] == 4 and len(lab_misp.events()) == 4
    # A page's fetch is still judged as a page's: the same loopback address is refused there.
    with pytest.raises(RefusedAddress):
        _get(ctx, lab_webhooks.url_for("json"))
    observe(f"webhook {answer}; MISP: 4 events pushed; the same address fetched as a page: refused")


@pytest.mark.reliability("sharing.misp_url names a host that resolves to 169.254.169.254",
                         "the push fails in one line with the guard's reason; counted as misp_failed", area=AREA)
def test_the_misp_push_goes_through_the_guard(make_ctx, lab_dns, lab_misp, clock, observe) -> None:
    from datetime import UTC, datetime

    from tests.report.seed import seed_week
    from watcher.sharing import share

    clock.set(datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    lab_dns.set("misp.isac.test", "A", "169.254.169.254")
    ctx = make_ctx(dns=lab_dns, service={"lab_mode": False}, crawl={"proxy": "", "allow_addresses": []},
                   sharing={"misp_url": f"http://misp.isac.test:{lab_misp.port}/", "misp_key": lab_misp.key})
    seed_week(ctx)
    result = share.run(ctx)
    assert result["misp_pushed"] == 0 and result["misp_failed"] == 4 and not lab_misp.events()
    with ctx.session() as s:
        from watcher.core.casefacts import case_facts
        from watcher.core.models import Case
        from watcher.sharing import misp

        case = s.exec(select(Case)).first()
        assert case is not None and case.id is not None
        with pytest.raises(misp.MispError, match="metadata") as refused:
            misp.push(ctx, s, case_facts(s, case.id))
    observe(f"misp_failed={result['misp_failed']}; MispError: {refused.value}")


def test_no_product_code_opens_an_unguarded_http_client() -> None:
    """Every HTTP connection of the product goes through watcher.clients.http (its guarded transport):
    a new `httpx.Client(...)`, a requests session, urllib or PyMISP's own session elsewhere is a hole."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    # These build an httpx.Client around the guarded transport (GuardedTransport) themselves.
    guarded_builders = {"watcher/clients/http.py", "watcher/clients/rdap.py", "watcher/discovery/ct/client.py"}
    pattern = re.compile(r"httpx\.(Async)?Client\(|^\s*import requests|^\s*from requests|urllib\.request|urlopen\(|"
                         r"PyMISP\(|aiohttp", re.M)
    holes = [f"{p.relative_to(root)}: {m.group(0).strip()}"
             for package in ("watcher", "takedown", "dashboard")
             for p in sorted((root / package).rglob("*.py"))
             if str(p.relative_to(root)) not in guarded_builders
             for m in pattern.finditer(p.read_text(encoding="utf-8"))]
    assert holes == []


@pytest.mark.reliability("alerts.proxy set: a webhook the proxy reaches, and one whose name resolves here to "
                         "169.254.169.254", "the first is posted through the proxy; the second is refused before "
                         "the proxy sees it", area=AREA)
def test_webhooks_through_their_own_proxy_are_guarded_too(make_ctx, lab_dns, lab_web, lab_webhooks, observe) -> None:
    from watcher.alerts.channels import SendError

    # The lab web is the proxy (it answers for the names published on it, as a proxy reaching them).
    lab_web.publish("hooks.firm.test", "corporate", title="HOOKS", text="a webhook receiver")
    lab_dns.set("hooks.chat.test", "A", "169.254.169.254")
    ctx = make_ctx(dns=lab_dns, service={"lab_mode": False}, crawl={"proxy": "", "allow_addresses": []},
                   alerts={"proxy": lab_web.proxy_url})
    assert _send(ctx, "http://hooks.firm.test/hook") == "HTTP 200"
    assert [(m, h) for m, _s, h, _p in lab_web.requests] == [("POST", "hooks.firm.test")]
    with pytest.raises(SendError, match="metadata") as refused:
        _send(ctx, f"http://hooks.chat.test:{lab_webhooks.port}/hook")
    assert len(lab_web.requests) == 1 and not lab_webhooks.received()
    observe(f"hooks.firm.test: HTTP 200 through the proxy; hooks.chat.test: SendError: {refused.value}")
