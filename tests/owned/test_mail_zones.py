"""The mail lab (data/lab/mail.toml): each zone with a defect produces its Finding, the good zone none.

The mailauth job runs against the lab's real DNS (zone files as a DNS team exports them) and web (BIMI
logos and mark certificates issued by the lab's Mark Verifying Authority, MTA-STS policies), exactly
as in production; S/MIME samples are notices the lab signs with its PKI.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from lab.mailfiles import write_notices
from watcher.core.clock import FrozenClock
from watcher.core.config import ROOT
from watcher.core.models import Finding, FindingStatus
from watcher.owned import mailauth

MAIL_SCENARIO = ROOT / "data" / "lab" / "mail.toml"
MAIL_BRANDS = ROOT / "data" / "lab" / "mail-brands.toml"

# domain -> {(kind, subject suffix or "" for the domain itself)} that must be open, and nothing else.
EXPECTED = {
    "mail-good.test": set(),
    "mail-rua-unauth.test": {("dmarc_report_auth", "")},
    "mail-bimi-nocert.test": {("bimi_cert", "")},
    "mail-bimi-svg.test": {("bimi_logo", "")},
    "mail-bimi-mismatch.test": {("bimi_cert", "")},
    "mail-bimi-expired.test": {("bimi_cert", "")},
    "mail-bimi-untrusted.test": {("bimi_cert", "")},
    "mail-warn.test": {("mail_warning", "/spf/spf_after_all"), ("mail_warning", "/dmarc/unknown_tag")},
    "mail-dmarc-none.test": {("dmarc", ""), ("bimi", "")},
}
# What each finding must say (its English detail), so the right reason is proven, not just the kind.
SAYS = {
    ("mail-rua-unauth.test", "dmarc_report_auth"): "mail-rua-unauth.test._report._dmarc.reports.lab-dmarc-vendor.test",
    ("mail-bimi-nocert.test", "bimi_cert"): "no mark certificate",
    ("mail-bimi-svg.test", "bimi_logo"): 'baseProfile="-"',
    ("mail-bimi-mismatch.test", "bimi_cert"): "does not match the logo hash",
    ("mail-bimi-expired.test", "bimi_cert"): "expired on",
    ("mail-bimi-untrusted.test", "bimi_cert"): "Mark Verifying Authority",
    ("mail-dmarc-none.test", "dmarc"): "p=none",
}


@pytest.fixture(scope="module")
def mail_lab(tmp_path_factory: pytest.TempPathFactory):
    """One mail lab and one mailauth run for the module (about 3 s): the tests read its findings."""
    from lab.world import World
    from tests.conftest import make_settings
    from watcher.context import build_context
    from watcher.core.brands import sync_brands

    world = World.start(MAIL_SCENARIO)
    tmp = tmp_path_factory.mktemp("mail")
    notices = tmp / "notices"
    write_notices(world.pki, notices, sender="notice@mail-good.test")
    settings = make_settings(tmp, "", service={"brands_file": str(MAIL_BRANDS)},
                             dns={"nameservers": [world.dns.host], "port": world.dns.port, "timeout": 1.0,
                                  "retries": 0},
                             crawl={"proxy": world.web.proxy_url, "ca_file": world.web.ca_file},
                             mail={"bimi_trust_file": world.pki.mark_ca_file, "notice_samples": str(notices),
                                   "smime_trust_file": world.pki.smime_ca_file})
    # The lab's certificates are dated from now: the check's clock is now too.
    ctx = build_context(settings, clock=FrozenClock(datetime.now(UTC)))
    with Session(ctx.engine) as s:
        sync_brands(s, ctx.brands)
    summary = mailauth.run(ctx)
    try:
        yield world, ctx, summary
    finally:
        ctx.engine.dispose()
        world.stop()


def _open(ctx) -> list[Finding]:
    with Session(ctx.engine) as s:
        return list(s.exec(select(Finding).where(Finding.status == FindingStatus.OPEN)))


@pytest.mark.parametrize("domain", sorted(EXPECTED))
def test_each_zone_produces_its_finding_and_the_good_one_none(mail_lab, domain: str) -> None:
    _world, ctx, summary = mail_lab
    assert "errors" not in summary, summary.get("notes")
    found = {(f.kind.value, f.subject[len(domain):]) for f in _open(ctx)
             if f.subject == domain or f.subject.startswith(domain + "/")}
    assert found == EXPECTED[domain]
    for f in _open(ctx):
        want = SAYS.get((f.subject, f.kind.value))
        if want:
            assert want in f.detail or want in f.title, (f.title, f.detail)


def test_every_finding_speaks_japanese_too(mail_lab) -> None:
    from watcher.core.texts import render_stored

    _world, ctx, _ = mail_lab
    for f in _open(ctx):
        ja, en = render_stored(f.title_text, "ja"), render_stored(f.title_text, "en")
        assert ja and en and ja != en, f.kind


def test_sample_notices_signed_by_the_firm(mail_lab) -> None:
    """The well-signed notice passes; unsigned, untrusted, expired, someone else's and tampered fail."""
    _world, ctx, _ = mail_lab
    smime = {f.subject: f for f in _open(ctx) if f.kind.value == "smime"}
    assert set(smime) == {f"notice:notice-{n}.eml" for n in ("unsigned", "untrusted", "expired", "not-ours",
                                                               "tampered")}
    says = {"unsigned": "not S/MIME-signed", "untrusted": "does not chain to a trusted CA",
            "expired": "not valid now", "not-ours": "not in one of our domains", "tampered": "changed after signing"}
    for name, words in says.items():
        assert words in smime[f"notice:notice-{name}.eml"].detail, name


def test_a_fix_resolves_and_a_new_defect_opens(mail_lab) -> None:
    world, ctx, _ = mail_lab
    # The vendor authorises mail-rua-unauth.test; mail-good.test's logo is replaced by one with a script.
    world.dns.set("mail-rua-unauth.test._report._dmarc.reports.lab-dmarc-vendor.test", "TXT", "v=DMARC1")
    world.apply("publish_bimi", domain="mail-good.test", logo="scripted")
    mailauth.run(ctx)
    kinds = {(f.subject, f.kind.value) for f in _open(ctx)}
    assert ("mail-rua-unauth.test", "dmarc_report_auth") not in kinds
    assert ("mail-good.test", "bimi_logo") in kinds
    logo = next(f for f in _open(ctx) if (f.subject, f.kind.value) == ("mail-good.test", "bimi_logo"))
    assert "<script>" in logo.detail and "<a>" in logo.detail and "event" not in logo.detail
    world.apply("publish_bimi", domain="mail-good.test")
    mailauth.run(ctx)
    assert ("mail-good.test", "bimi_logo") not in {(f.subject, f.kind.value) for f in _open(ctx)}


def test_the_lab_zone_files_parse_into_the_lab_dns() -> None:
    from lab.dns import LabDNS

    dns = LabDNS()
    names = dns.load_zone((ROOT / "data/lab/zones/mail/mail-good.test.zone").read_text(encoding="utf-8"))
    assert "s1._domainkey.mail-good.test" in names
    key = dns.get("s1._domainkey.mail-good.test", "TXT")[0]
    assert key.startswith("v=DKIM1; k=rsa; p=MII") and " " not in key.split("p=", 1)[1]
    assert dns.get("mail-good.test", "MX") == ["10 mail.mail-good.test"]
    assert Path(ROOT / "data/lab/zones/mail").is_dir()
