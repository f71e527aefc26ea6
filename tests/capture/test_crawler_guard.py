"""The fetch guard in the crawler, outside lab mode, attacked with real lab servers.

Chromium and the plain-HTTP fallback connect only through the crawler's gate (crawlers/gate.py),
which judges and pins every connection, main-frame redirect hops included. The "internal service"
is a lab web server on 127.0.0.2 that records every request; the public side is the lab web on
127.0.0.1, allowed with `crawl.allow_addresses`; no egress proxy, the lab DNS.
"""

from __future__ import annotations

from typing import Any

import pytest

from lab.web import LabWeb
from tests.capture.conftest import BROWSER, needs_browser
from tests.conftest import make_settings
from watcher.capture.crawl import capture_batch
from watcher.context import build_context

AREA = "fetch guard (crawler: Chromium, fallback)"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from lab.dns import LabDNS

    with LabWeb() as web, LabWeb(host="127.0.0.2") as internal, LabDNS() as dns:
        internal.publish("inside.test", "corporate", title="INTERNAL", text="the firm's secrets")
        internal.publish("rebind.test", "corporate", title="INTERNAL", text="the firm's secrets")
        web.publish("public.test", "corporate", title="PUBLIC", text="an ordinary page")
        web.publish("rebind.test", "corporate", title="PUBLIC", text="an ordinary page")
        web.publish("to-decimal.test", "redirect", hops=1, to=f"http://2130706434:{internal.port}/")
        web.publish("to-metadata.test", "redirect", hops=1, to="http://169.254.169.254/latest/meta-data/")
        web.publish("to-name.test", "redirect", hops=1, to=f"http://inside.test:{internal.port}/")
        for name in ("public.test", "to-decimal.test", "to-metadata.test", "to-name.test"):
            dns.set(name, "A", "127.0.0.1")
        dns.set("inside.test", "A", "127.0.0.2")
        base = tmp_path_factory.mktemp("guard")
        contexts = {}
        for mode, proxy in (("direct", ""), ("proxy", web.proxy_url)):
            settings = make_settings(base / mode, service={"lab_mode": False},
                                     dns={"nameservers": [dns.host], "port": dns.port, "timeout": 1.0, "retries": 0},
                                     crawl={"proxy": proxy, "allow_addresses": ["127.0.0.1"],
                                            "browser_executable": str(BROWSER), "page_timeout_seconds": 10,
                                            "settle_seconds": 0.3})
            contexts[mode] = build_context(settings)
        yield contexts, web, internal, dns
        for c in contexts.values():
            c.engine.dispose()


def _targets(web: Any, internal: Any) -> list[dict[str, Any]]:
    p = web.port
    return [
        {"id": "to-decimal", "url": f"http://to-decimal.test:{p}/"},
        {"id": "to-metadata", "url": f"http://to-metadata.test:{p}/"},
        {"id": "to-name", "url": f"http://to-name.test:{p}/"},
        {"id": "rebind", "url": f"http://rebind.test:{p}/"},
        {"id": "hex-literal", "url": f"http://0x7f.0.0.2:{internal.port}/"},
        {"id": "unresolvable", "url": "http://not-in-the-lab-dns.test/"},
        {"id": "public", "url": f"http://public.test:{p}/", "addresses": ["127.0.0.1"]},
    ]


EXPECTED = {"to-decimal": "127.0.0.2", "to-metadata": "169.254.169.254", "to-name": "inside.test",
            "hex-literal": "127.0.0.2", "unresolvable": "does not resolve"}


@pytest.fixture(scope="module")
def batch(request: pytest.FixtureRequest, world: Any) -> Any:
    contexts, web, internal, dns = world
    internal.requests.clear()
    dns.rebind("rebind.test", "127.0.0.1", "127.0.0.2")
    ctx = contexts["proxy" if "proxy" in request.param else "direct"]
    records = capture_batch(ctx, _targets(web, internal), use_browser=request.param.startswith("browser"))
    return request.param, {r["id"]: r for r in records}, list(internal.requests)


PATHS = pytest.mark.parametrize("batch", ["browser", "plain"], indirect=True)


@pytest.mark.reliability("{case} ({batch}): a redirect to or a target on an internal address",
                         "refused by the guard; the internal server sees nothing", area=AREA)
@pytest.mark.parametrize("case", sorted(EXPECTED))
@pytest.mark.parametrize("batch", ["browser", "plain", "browser through the egress proxy"], indirect=True)
def test_internal_hops_are_refused(batch: Any, case: str, observe: Any) -> None:
    mode, records, internal_requests = batch
    if case == "unresolvable" and "proxy" in mode:
        r = records[case]
        assert r.get("error_kind") != "guard"  # unknown here: left to the proxy (which has no such site)
        observe(f"left to the egress proxy, which answered HTTP {r.get('status')} {r.get('error', '')[:80]}")
        return
    r = records[case]
    assert not r["ok"] and r["error_kind"] == "guard", r
    assert EXPECTED[case] in r["error"]
    assert internal_requests == []
    observe(f"record error_kind=guard: {r['error'][:140]}; internal server requests: 0")


@pytest.mark.reliability("DNS rebinding against the crawler ({batch}): 127.0.0.1 once, then 127.0.0.2, ttl 0",
                         "the page comes from the address that was checked; nothing from 127.0.0.2", area=AREA)
@PATHS
def test_rebinding_gets_the_checked_address(batch: Any, observe: Any) -> None:
    _mode, records, internal_requests = batch
    r = records["rebind"]
    assert internal_requests == []
    assert r["ok"] and r["title"] == "PUBLIC", r.get("error")
    observe(f"captured '{r['title']}' (browser_used={r['browser_used']}); internal server requests: 0")


@PATHS
def test_the_allowed_page_is_captured(batch: Any) -> None:
    mode, records, _ = batch
    r = records["public"]
    assert r["ok"] and r["title"] == "PUBLIC" and r["browser_used"] == (mode == "browser"), r


pytestmark = [pytest.mark.browser, needs_browser]
