"""Mail authentication checks against the lab's DNS and web (MTA-STS policy host), each failure and its fix."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from lab.mailfiles import logo_svg
from tests.owned.conftest import finding, is_open, is_resolved
from watcher.core.models import Severity
from watcher.owned import mailauth
from watcher.owned.checks import run_checks


def dkim_record(bits: int) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    der = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def keys() -> dict[int, str]:
    return {2048: dkim_record(2048), 1024: dkim_record(1024)}


def good_domain(dns, web, domain: str, selectors: list[str], keys: dict[int, str]) -> None:
    """Every mechanism right, BIMI proven: the logo and a mark certificate from the lab's MVA."""
    dns.add_zone(domain)
    dns.set(domain, "MX", f"10 mail.{domain}")
    dns.set(f"mail.{domain}", "A", "192.0.2.25")
    dns.set(domain, "TXT", "v=spf1 ip4:192.0.2.0/24 -all")
    for sel in selectors:
        dns.set(f"{sel}._domainkey.{domain}", "TXT", keys[2048])
    dns.set(f"_dmarc.{domain}", "TXT", f"v=DMARC1; p=reject; rua=mailto:dmarc@{domain}")
    dns.set(f"default._bimi.{domain}", "TXT", f"v=BIMI1; l=https://www.{domain}/bimi/logo.svg; a=https://www.{domain}/bimi/vmc.pem")
    dns.set(f"_mta-sts.{domain}", "TXT", "v=STSv1; id=20261125")
    web.publish(f"mta-sts.{domain}", "mta-sts")
    dns.set(f"_smtp._tls.{domain}", "TXT", f"v=TLSRPTv1; rua=mailto:tls@{domain}")
    svg = logo_svg("tiny-ps")
    pem = web.pki.issue_mark_certificate(domain, svg, not_before=datetime(2026, 10, 1, tzinfo=UTC), days=3650)
    web.publish(f"www.{domain}", "bimi", svg=svg.decode(), pem=pem)


def mail_ctx(make_ctx, lab_dns, lab_web):
    return make_ctx(dns=lab_dns, web=lab_web, mail={"bimi_trust_file": lab_web.pki.mark_ca_file})


def test_the_job_runs_every_check() -> None:
    # test_each_failure_opens_and_the_fix_resolves drives all of them through mailauth.run
    assert [c.__name__ for c in mailauth.CHECKS] == [
        "check_spf", "check_dkim", "check_dmarc", "check_report_authorization", "check_bimi", "check_mta_sts",
        "check_tlsrpt", "check_non_sending", "check_smime"]


def test_dkim_key_table(keys) -> None:
    assert mailauth.dkim_key_problems(keys[2048])[0] == []
    assert mailauth.dkim_key_problems(keys[1024])[0][0][0] == Severity.LOW
    assert "revoked" in mailauth.dkim_key_problems("v=DKIM1; p=")[0][0][1].render("en")
    assert "does not parse" in mailauth.dkim_key_problems("v=DKIM1; p=!!notbase64")[0][0][1].render("en")
    assert "失効" in mailauth.dkim_key_problems("v=DKIM1; p=")[0][0][1].render("ja")


def test_each_failure_opens_and_the_fix_resolves(make_ctx, lab_dns, lab_web, keys) -> None:
    good_domain(lab_dns, lab_web, "hoshizora-sec.co.jp", ["s1", "s2"], keys)
    good_domain(lab_dns, lab_web, "hzsec.com", ["s1", "s2"], keys)
    good_domain(lab_dns, lab_web, "kaede-sec.co.jp", ["default"], keys)
    # hzsec.com: every aspect wrong
    lab_dns.set("hzsec.com", "TXT", "v=spf1 ip4:192.0.2.0/24 ~all")
    lab_dns.set("s1._domainkey.hzsec.com", "TXT", keys[1024])
    lab_dns.delete("s2._domainkey.hzsec.com")
    lab_dns.set("_dmarc.hzsec.com", "TXT", "v=DMARC1; p=quarantine; pct=50")
    lab_dns.delete("default._bimi.hzsec.com")
    lab_web.unpublish("mta-sts.hzsec.com")
    lab_dns.delete("_smtp._tls.hzsec.com")
    # kaede-sec.co.jp: SPF over the 10-lookup limit, no DMARC at all
    chain = [f"_spf{i}.kaede-sec.co.jp" for i in range(11)]
    for i, name in enumerate(chain):
        lab_dns.set(name, "TXT", f"v=spf1 ip4:192.0.2.{i}/32 -all")
    lab_dns.set("kaede-sec.co.jp", "TXT", "v=spf1 " + " ".join(f"include:{n}" for n in chain) + " -all")
    lab_dns.delete("_dmarc.kaede-sec.co.jp")

    ctx = mail_ctx(make_ctx, lab_dns, lab_web)
    summary = mailauth.run(ctx)
    posture = summary["posture"]
    assert all(a["ok"] for a in posture["hoshizora-sec.co.jp"].values()), posture["hoshizora-sec.co.jp"]
    for aspect in ("spf", "dkim", "dmarc", "bimi", "mta_sts", "tlsrpt"):
        assert is_open(ctx, aspect, "hzsec.com"), aspect
        assert not is_open(ctx, aspect, "hoshizora-sec.co.jp"), aspect
    dmarc = finding(ctx, "dmarc", "hzsec.com")
    assert "quarantine" in dmarc.detail and "pct=50" in dmarc.detail and "rua" in dmarc.detail
    assert dmarc.data["p"] == "quarantine" and dmarc.data["pct"] == 50
    assert "~all" in finding(ctx, "spf", "hzsec.com").detail or "softfail" in finding(
        ctx, "spf", "hzsec.com").detail
    dkim = finding(ctx, "dkim", "hzsec.com")
    assert "selector s2: no DKIM key" in dkim.detail and "1024 bits" in dkim.detail
    assert "cannot be fetched" in finding(ctx, "mta_sts", "hzsec.com").detail
    spf_k = finding(ctx, "spf", "kaede-sec.co.jp")
    assert spf_k and spf_k.severity == Severity.HIGH and ("10" in spf_k.detail)
    dmarc_k = finding(ctx, "dmarc", "kaede-sec.co.jp")
    assert dmarc_k.severity == Severity.CRITICAL

    # The fixes, published: every finding of hzsec.com resolves on the next run.
    good_domain(lab_dns, lab_web, "hzsec.com", ["s1", "s2"], keys)
    mailauth.run(ctx)
    for aspect in ("spf", "dkim", "dmarc", "bimi", "mta_sts", "tlsrpt"):
        assert is_resolved(ctx, aspect, "hzsec.com"), aspect


def test_mta_sts_testing_mode_and_uncovered_mx(make_ctx, lab_dns, lab_web, keys) -> None:
    for d in ("hoshizora-sec.co.jp", "hzsec.com", "kaede-sec.co.jp"):
        good_domain(lab_dns, lab_web, d, ["s1", "s2", "default"], keys)
    lab_web.publish("mta-sts.hzsec.com", "mta-sts", mode="testing", mx=["mx.other.example"])
    ctx = mail_ctx(make_ctx, lab_dns, lab_web)
    run_checks(ctx, (mailauth.check_mta_sts,))
    f = finding(ctx, "mta_sts", "hzsec.com")
    assert f and "mode testing" in f.detail and "mail.hzsec.com" in f.detail


def test_non_sending_domains_must_forbid_spoofing(make_ctx, lab_dns, keys) -> None:
    for apex in ("hoshizora.jp", "hoshizora-sec.com"):
        lab_dns.add_zone(apex)
    lab_dns.set("hoshizora.jp", "TXT", "v=spf1 -all")
    lab_dns.set("_dmarc.hoshizora.jp", "TXT", "v=DMARC1; p=reject")
    lab_dns.set("hoshizora-sec.com", "TXT", "v=spf1 ~all")  # defensive domain, half protected
    ctx = make_ctx(dns=lab_dns)
    run_checks(ctx, (mailauth.check_non_sending,))
    assert not is_open(ctx, "nonsending_auth", "hoshizora.jp")
    assert not is_open(ctx, "nonsending_auth", "hoshizora-sec.co.jp")  # a sending domain: checked above
    f = finding(ctx, "nonsending_auth", "hoshizora-sec.com")
    assert f and "v=spf1 -all" in f.detail and "p=reject" in f.detail
    lab_dns.set("hoshizora-sec.com", "TXT", "v=spf1 -all")
    lab_dns.set("_dmarc.hoshizora-sec.com", "TXT", "v=DMARC1; p=reject")
    run_checks(ctx, (mailauth.check_non_sending,))
    assert is_resolved(ctx, "nonsending_auth", "hoshizora-sec.com")


def test_a_dns_failure_decides_nothing(make_ctx, lab_dns, lab_web, keys) -> None:
    for d in ("hoshizora-sec.co.jp", "hzsec.com", "kaede-sec.co.jp"):
        good_domain(lab_dns, lab_web, d, ["s1", "s2", "default"], keys)
    lab_dns.set("_dmarc.hzsec.com", "TXT", "v=DMARC1; p=none; rua=mailto:d@hzsec.com")
    ctx = mail_ctx(make_ctx, lab_dns, lab_web)
    run_checks(ctx, (mailauth.check_dmarc,))
    assert is_open(ctx, "dmarc", "hzsec.com")
    lab_dns.set_rcode("_dmarc.hzsec.com", "SERVFAIL")  # the record is fixed, but DNS fails today
    lab_dns.set("_dmarc.hzsec.com", "TXT", "v=DMARC1; p=reject; rua=mailto:d@hzsec.com")
    summary = run_checks(ctx, (mailauth.check_dmarc,))
    assert summary["errors"] == 1 and is_open(ctx, "dmarc", "hzsec.com")
    lab_dns.set_rcode("_dmarc.hzsec.com", None)
    run_checks(ctx, (mailauth.check_dmarc,))
    assert is_resolved(ctx, "dmarc", "hzsec.com")
