"""Subdomain takeover checks on the lab: dangling CNAME (NXDOMAIN, unclaimed cloud page), NS, MX."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from tests.owned.conftest import finding, is_open, is_resolved
from watcher.core.brands import add_owned
from watcher.core.models import Brand, OwnedSource, Severity
from watcher.owned import signatures, takeover
from watcher.owned.checks import run_checks
from watcher.owned.inventory import source_dns
from watcher.owned.zonefile import import_zone_files

ZONE = """$ORIGIN hoshizora-sec.co.jp.
$TTL 3600
@        IN SOA ns1.lab-dns.test. hostmaster.hoshizora-sec.co.jp. 1 3600 600 86400 300
@        IN NS  ns1.lab-dns.test.
static   IN CNAME hoshizora-static.s3.amazonaws.com.
campaign IN CNAME hz-campaign.azurewebsites.net.
dev      IN NS  ns1.expired-dns-host.com.
_dmarc   IN TXT "v=DMARC1; p=reject"
*.wild   IN A 192.0.2.1
"""


def world(dns) -> None:
    for apex in ("hoshizora-sec.co.jp", "hoshizora.jp", "hzsec.com", "hoshizora-sec.com"):
        dns.add_zone(apex)
        dns.set(apex, "A", "192.0.2.10")
    for ns in ("ns1.lab-dns.test", "ns2.lab-dns.test"):
        dns.set(ns, "A", "192.0.2.53")
    for h in ("www", "trade", "mail"):
        dns.set(f"{h}.hoshizora-sec.co.jp", "A", "192.0.2.10")
    dns.set("hzsec.com", "MX", ["10 mail.hoshizora-sec.co.jp", "20 mx.old-mail-provider.net"])
    dns.set("static.hoshizora-sec.co.jp", "CNAME", "hoshizora-static.s3.amazonaws.com")
    dns.set("hoshizora-static.s3.amazonaws.com", "A", "192.0.2.200")
    dns.set("campaign.hoshizora-sec.co.jp", "CNAME", "hz-campaign.azurewebsites.net")
    dns.set("dev.hoshizora-sec.co.jp", "NS", "ns1.expired-dns-host.com")


CHECKS = (takeover.check_cname, takeover.check_ns, takeover.check_mx)


def test_signatures_are_shipped_with_their_sources() -> None:
    sigs = signatures.load()
    assert sum(s.detectable for s in sigs) >= 120
    by_cname = {n: s.service for n, s in signatures.for_cname(["x.s3.amazonaws.com", "foo.github.io"])}
    assert by_cname == {"x.s3.amazonaws.com": "AWS/S3", "foo.github.io": "Github"}
    assert signatures.for_cname(["hz.s3-website-ap-northeast-1.amazonaws.com"])[0][1].service == "AWS/S3"
    assert signatures.for_cname(["www.example.com"]) == []
    assert signatures.for_ns(["ns1.digitalocean.com"]).service == "Digital Ocean"
    assert all(s.sources and s.proofs for s in sigs)
    assert takeover.mx_hosts(["0 .", "10 mx.a.example."]) == ["mx.a.example"]


def test_dangling_records_open_and_resolve(make_ctx, lab_dns, lab_web, tmp_path: Path) -> None:
    world(lab_dns)
    lab_web.publish("static.hoshizora-sec.co.jp", "takeover-s3")
    zone = tmp_path / "hoshizora-sec.co.jp.zone"
    zone.write_text(ZONE)
    ctx = make_ctx(dns=lab_dns, web=lab_web, inventory={"zone_files": [str(zone)]})

    summary = run_checks(ctx, CHECKS, sources=(import_zone_files, source_dns))
    assert summary["owned_added_zonefile"] == 3  # static, campaign, dev (not _dmarc, not the wildcard)

    s3 = finding(ctx, "takeover_cname", "static.hoshizora-sec.co.jp")
    assert s3 and s3.severity == Severity.CRITICAL and s3.data["service"] == "AWS/S3"
    assert "The specified bucket does not exist" in s3.detail and "attacker" not in s3.title
    assert s3.title_text["key"] == "owned.takeover.unclaimed.title"
    az = finding(ctx, "takeover_cname", "campaign.hoshizora-sec.co.jp")
    assert az and az.data["status"] == "nxdomain" and az.data["service"] == "Microsoft Azure App Service"
    assert "Microsoft Azure" in az.detail
    ns = finding(ctx, "takeover_ns", "dev.hoshizora-sec.co.jp")
    assert ns and "expired-dns-host.com" in ns.detail and ns.severity == Severity.CRITICAL
    mx = finding(ctx, "takeover_mx", "hzsec.com")
    assert mx and mx.data["hosts"]["mx.old-mail-provider.net"] == "nxdomain"
    assert not is_open(ctx, "takeover_cname", "www.hoshizora-sec.co.jp")
    assert not is_open(ctx, "takeover_ns", "hoshizora-sec.co.jp")

    # Fixed: the bucket is claimed again, the Azure record is gone, the NS host exists, the MX is cleaned.
    lab_web.publish("static.hoshizora-sec.co.jp", "corporate", title="static")
    lab_dns.delete("campaign.hoshizora-sec.co.jp", "CNAME")
    lab_dns.set("campaign.hoshizora-sec.co.jp", "A", "192.0.2.10")
    lab_dns.set("ns1.expired-dns-host.com", "A", "192.0.2.54")
    lab_dns.set("hzsec.com", "MX", ["10 mail.hoshizora-sec.co.jp"])
    run_checks(ctx, CHECKS, sources=(source_dns,))
    for kind, subject in (("takeover_cname", "static.hoshizora-sec.co.jp"),
                          ("takeover_cname", "campaign.hoshizora-sec.co.jp"),
                          ("takeover_ns", "dev.hoshizora-sec.co.jp"), ("takeover_mx", "hzsec.com")):
        assert is_resolved(ctx, kind, subject), (kind, subject)


def test_lame_delegation_and_unreachable_proxy_are_not_crashes(make_ctx, lab_dns, lab_web) -> None:
    world(lab_dns)
    lab_dns.delete("dev.hoshizora-sec.co.jp")
    lab_dns.set("ops.hoshizora-sec.co.jp", "NS", "ns1.lab-dns.test")
    lab_dns.set_rcode("ops.hoshizora-sec.co.jp", "SERVFAIL")
    ctx = make_ctx(dns=lab_dns, web=lab_web)
    with Session(ctx.engine) as s:
        add_owned(s, s.exec(select(Brand).where(Brand.slug == "hoshizora")).one(), "ops.hoshizora-sec.co.jp",
                  OwnedSource.DNS)
        s.commit()
    summary = run_checks(ctx, CHECKS, sources=(source_dns,))
    # SERVFAIL covers the whole subzone, so its NS records cannot be read: nothing is claimed, no crash,
    # and the other hosts were still checked.
    assert summary["owned"] == 9
    assert not is_open(ctx, "takeover_ns", "ops.hoshizora-sec.co.jp")
    assert is_open(ctx, "takeover_mx", "hzsec.com")


def test_dangling_cname_to_an_unregistered_domain(make_ctx, lab_dns, lab_rdap) -> None:
    world(lab_dns)
    lab_dns.delete("static.hoshizora-sec.co.jp")
    lab_dns.delete("campaign.hoshizora-sec.co.jp")
    lab_dns.set("www.hoshizora-sec.co.jp", "CNAME", "edge.hoshizora-old-cdn.com")  # the old CDN's domain lapsed
    ctx = make_ctx(dns=lab_dns, rdap=lab_rdap)
    run_checks(ctx, (takeover.check_cname,), sources=(source_dns,))
    f = finding(ctx, "takeover_cname", "www.hoshizora-sec.co.jp")
    assert f.severity == Severity.CRITICAL and f.data["target_available"] is True
    assert "anyone can register it today" in f.detail and f.data["target_registrable"] == "hoshizora-old-cdn.com"


def test_a_service_is_recognised_anywhere_in_the_cname_chain(make_ctx, lab_dns, lab_web) -> None:
    # Real S3 website chains end at the region's endpoint, not at the bucket name the pattern knows.
    world(lab_dns)
    lab_dns.set("promo.hoshizora-sec.co.jp", "CNAME", "hz-promo.s3.amazonaws.com")
    lab_dns.set("hz-promo.s3.amazonaws.com", "CNAME", "s3-website-ap-northeast-1.amazonaws.com")
    lab_dns.set("s3-website-ap-northeast-1.amazonaws.com", "A", "198.51.100.200")
    lab_web.publish("promo.hoshizora-sec.co.jp", "takeover-s3")
    ctx = make_ctx(dns=lab_dns, web=lab_web)
    with Session(ctx.engine) as s:
        brand = s.exec(select(Brand).where(Brand.slug == "hoshizora")).one()
        add_owned(s, brand, "promo.hoshizora-sec.co.jp", OwnedSource.ZONEFILE)
        s.commit()
    run_checks(ctx, (takeover.check_cname,))
    f = finding(ctx, "takeover_cname", "promo.hoshizora-sec.co.jp")
    assert f is not None and f.data["service"] == "AWS/S3" and f.data["target"] == "hz-promo.s3.amazonaws.com"


def test_an_address_the_provider_publishes_is_recognised_without_a_cname(make_ctx, lab_dns, lab_web) -> None:
    # SmartJobBoard's custom domains are an A record to its published address: no CNAME to match.
    world(lab_dns)
    lab_dns.set("jobs.hoshizora-sec.co.jp", "A", "52.16.160.97")
    lab_web.publish("jobs.hoshizora-sec.co.jp", "canned", status=404, headers={},
                    body="<h1>Job Board Is Unavailable</h1><p>This job board website is either expired or its "
                         "domain name is invalid.</p>")
    lab_dns.set("careers.hoshizora-sec.co.jp", "A", "52.16.160.97")  # the same address, still ours
    lab_web.publish("careers.hoshizora-sec.co.jp", "corporate", title="ほしぞら証券 採用情報")
    ctx = make_ctx(dns=lab_dns, web=lab_web)
    with Session(ctx.engine) as s:
        brand = s.exec(select(Brand).where(Brand.slug == "hoshizora")).one()
        for host in ("jobs.hoshizora-sec.co.jp", "careers.hoshizora-sec.co.jp"):
            add_owned(s, brand, host, OwnedSource.ZONEFILE)
        s.commit()
    run_checks(ctx, (takeover.check_cname,), sources=(source_dns,))
    f = finding(ctx, "takeover_cname", "jobs.hoshizora-sec.co.jp")
    assert f is not None and f.data["service"] == "SmartJobBoard" and "52.16.160.97" in f.detail
    assert not is_open(ctx, "takeover_cname", "careers.hoshizora-sec.co.jp")


def test_a_recognised_provider_s_own_error_page_is_a_possible_takeover_to_verify(make_ctx, lab_dns, lab_web) -> None:
    # GitHub Pages reworded its "no site here" page: the signature's words are absent, the provider's
    # 404 (which echoes our host name) is there, and none of the firm's words are.
    world(lab_dns)
    pages = {
        "docs": (404, "<h1>404</h1><p>No Pages site is published at docs.hoshizora-sec.co.jp.</p>"),
        # The firm's own 404 on its (claimed) site names the firm: not a takeover.
        "help": (404, "<title>ページが見つかりません | ほしぞら証券</title>"),
        "status": (503, "<h1>503 Service Unavailable</h1>"),  # an outage of a claimed site says the same
        # A resource of ours that refuses its root (private, behind a firewall) exists: not released.
        "assets": (403, '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'),
        "blog": (200, "<h1>Hello</h1>"),  # answers: someone's content, not an error
    }
    for label, (status, body) in pages.items():
        host = f"{label}.hoshizora-sec.co.jp"
        lab_dns.set(host, "CNAME", f"hoshizora-{label}.github.io")
        lab_dns.set(f"hoshizora-{label}.github.io", "A", "198.51.100.30")
        lab_web.publish(host, "canned", status=status, headers={}, body=body)
    ctx = make_ctx(dns=lab_dns, web=lab_web)
    with Session(ctx.engine) as s:
        brand = s.exec(select(Brand).where(Brand.slug == "hoshizora")).one()
        for label in pages:
            add_owned(s, brand, f"{label}.hoshizora-sec.co.jp", OwnedSource.ZONEFILE)
        s.commit()
    run_checks(ctx, (takeover.check_cname,), sources=(source_dns,))
    f = finding(ctx, "takeover_cname", "docs.hoshizora-sec.co.jp")
    assert f is not None and f.data["possible"] is True and f.data["confidence"] == "low"
    assert f.data["service"] == "Github" and f.data["http_status"] == 404 and f.severity == Severity.MEDIUM
    assert f.title_text["key"] == "owned.takeover.possible.title" and "verify" in f.title
    for label in ("help", "status", "assets", "blog"):
        assert not is_open(ctx, "takeover_cname", f"{label}.hoshizora-sec.co.jp"), label


def test_services_only_their_documentation_names_are_recognised_by_it() -> None:
    by_cname = {n: s.service for n, s in signatures.for_cname(
        ["hz.b-cdn.net", "target.substack-custom-domains.com", "hz.forms.cs.zohohost.jp", "hz.myjetbrains.com"])}
    assert by_cname == {"hz.b-cdn.net": "Bunny CDN", "target.substack-custom-domains.com": "Substack",
                        "hz.forms.cs.zohohost.jp": "Zoho Forms", "hz.myjetbrains.com": "JetBrains"}
    bunny = next(s for s in signatures.load() if s.service == "Bunny CDN")
    assert bunny.detectable and bunny.confidence == "low" and [p.type for p in bunny.proofs] == ["provider_error"]
    assert any(src.startswith("provider documentation: https://docs.bunny.net/") for src in bunny.sources)
    # A closed Zendesk help center redirects to Zendesk's own "help center closed" page; ours redirects home.
    zendesk = next(s for s in signatures.load() if s.service == "Zendesk")
    assert zendesk.http_hit(301, "Location: https://www.zendesk.com/help-center-closed/?utm_source=x", "")
    assert not zendesk.http_hit(301, "Location: https://support.hoshizora-sec.co.jp/hc/ja", "")
    assert signatures.for_cname(["studio.vsco.page"])[0][1].service == "Táve"
