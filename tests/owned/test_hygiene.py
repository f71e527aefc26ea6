"""DNS hygiene on the lab: dangling A records on released cloud addresses, CAA, registry lock."""

from __future__ import annotations

import datetime as dt

from tests.owned.conftest import finding, is_open, is_resolved
from watcher.core.models import Severity
from watcher.owned import cloudranges, hygiene, registration
from watcher.owned.checks import run_checks
from watcher.owned.inventory import source_dns

TOKYO_EC2 = "54.95.10.20"  # in Amazon's published ap-northeast-1 range (data/cloud-ranges.json)
AZURE = "20.43.64.7"


def _zone(dns) -> None:
    for apex in ("hoshizora-sec.co.jp", "hzsec.com"):
        dns.add_zone(apex)
        dns.set(apex, "A", "192.0.2.10")
    for h in ("www", "trade", "mail"):
        dns.set(f"{h}.hoshizora-sec.co.jp", "A", "192.0.2.10")


def test_cloud_ranges_are_shipped_with_their_source() -> None:
    hit = cloudranges.provider_of(TOKYO_EC2)
    assert hit is not None and hit.provider == "Amazon Web Services" and "amazonaws.com" in hit.source
    assert cloudranges.provider_of(AZURE).provider == "Microsoft Azure"
    assert cloudranges.provider_of("192.0.2.10") is None and cloudranges.provider_of("not an ip") is None


def test_dangling_address_on_a_released_cloud_address(make_ctx, lab_dns, lab_web) -> None:
    _zone(lab_dns)
    lab_dns.set("www.hoshizora-sec.co.jp", "A", TOKYO_EC2)  # our site, on EC2, still ours
    lab_web.publish("www.hoshizora-sec.co.jp", "official")
    lab_dns.set("trade.hoshizora-sec.co.jp", "A", TOKYO_EC2)  # released: nothing answers any more
    lab_dns.set("mail.hoshizora-sec.co.jp", "A", AZURE)  # handed to another customer
    lab_web.publish("mail.hoshizora-sec.co.jp", "corporate", title="Crypto Casino", text="Welcome")
    ctx = make_ctx(dns=lab_dns, web=lab_web)
    run_checks(ctx, (hygiene.check_dangling_address,), sources=(source_dns,))

    released = finding(ctx, "dangling_address", "trade.hoshizora-sec.co.jp")
    assert released.severity == Severity.MEDIUM and released.data["provider"] == "Amazon Web Services"
    assert released.data["prefix"] and TOKYO_EC2 in released.title
    foreign = finding(ctx, "dangling_address", "mail.hoshizora-sec.co.jp")
    assert foreign.severity == Severity.HIGH and foreign.data["http_status"] == 200
    assert not is_open(ctx, "dangling_address", "www.hoshizora-sec.co.jp")
    assert finding(ctx, "dangling_address", "hoshizora-sec.co.jp") is None  # 192.0.2.10: no cloud range

    lab_dns.set("trade.hoshizora-sec.co.jp", "A", "192.0.2.11")  # moved off the cloud
    run_checks(ctx, (hygiene.check_dangling_address,), sources=(source_dns,))
    assert is_resolved(ctx, "dangling_address", "trade.hoshizora-sec.co.jp")


def test_caa_missing_and_caa_naming_another_ca(make_ctx, lab_dns) -> None:
    _zone(lab_dns)
    lab_dns.set("hoshizora-sec.co.jp", "CAA", ['0 issue "digicert.com"', '0 issue "letsencrypt.org"'])
    ctx = make_ctx(dns=lab_dns)
    run_checks(ctx, (hygiene.check_caa,), sources=(source_dns,))
    other = finding(ctx, "caa", "hoshizora-sec.co.jp")
    assert other.severity == Severity.HIGH and other.data["others"] == ["letsencrypt.org"]
    assert "digicert.com" in other.data["allowed"]  # from allowed_issuers "DigiCert"
    missing = finding(ctx, "caa", "hzsec.com")
    assert missing.severity == Severity.LOW and missing.data["records"] == []

    lab_dns.set("hoshizora-sec.co.jp", "CAA", ['0 issue "digicert.com"', '0 iodef "mailto:sec@hoshizora-sec.co.jp"'])
    run_checks(ctx, (hygiene.check_caa,))
    assert is_resolved(ctx, "caa", "hoshizora-sec.co.jp")
    assert hygiene.caa_issuers(['0 issue ";"', '0 issuewild "pki.goog; cansignhttpexchanges=yes"']) == ["pki.goog"]


def test_registry_lock_where_the_registry_publishes_statuses(make_ctx, lab_rdap, lab_whois) -> None:
    ctx = make_ctx(rdap=lab_rdap, whois=lab_whois)
    now = ctx.now()
    locked = ["client transfer prohibited", "client update prohibited", *registration.REGISTRY_LOCKS]
    lab_rdap.set_domain("hzsec.com", expires=now + dt.timedelta(days=400), statuses=locked)
    lab_rdap.set_domain("hoshizora-sec.com", expires=now + dt.timedelta(days=400),
                        statuses=["client transfer prohibited", "client update prohibited"])
    lab_whois.set_domain("hoshizora-sec.co.jp", expires=(now + dt.timedelta(days=300)).date())
    run_checks(ctx, (registration.check_registry_lock,))
    f = finding(ctx, "lock_registry", "hoshizora-sec.com")
    assert f.severity == Severity.LOW and f.data["missing"] == list(registration.REGISTRY_LOCKS)
    assert not is_open(ctx, "lock_registry", "hzsec.com")
    assert finding(ctx, "lock_registry", "hoshizora-sec.co.jp") is None  # JPRS WHOIS publishes no statuses
