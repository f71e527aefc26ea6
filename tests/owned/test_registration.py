"""Registration checks (expiry, locks, hold, DNSSEC, NS changes) against the lab RDAP and JPRS-style WHOIS."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from tests.owned.conftest import finding, is_open, is_resolved
from watcher.core.models import Severity
from watcher.owned import registration
from watcher.owned.checks import run_checks

CHECKS = (registration.check_expiry, registration.check_locks, registration.check_dnssec,
          registration.check_nameservers)


def test_expiry_bands() -> None:
    warn = [90, 60, 30, 7]
    assert registration.expiry_band(120, warn) is None
    assert registration.expiry_band(90, warn) == 90
    assert registration.expiry_band(45, warn) == 60
    assert registration.expiry_band(3, warn) == 7
    assert registration.expiry_band(-2, warn) == 7


def test_each_registration_problem_opens_and_resolves(make_ctx, lab_rdap, lab_whois) -> None:
    ctx = make_ctx(rdap=lab_rdap, whois=lab_whois)
    now = ctx.now()
    lab_rdap.set_domain("hzsec.com", created=now - dt.timedelta(days=3000), expires=now + dt.timedelta(days=20),
                        statuses=["client transfer prohibited"], dnssec=False)
    lab_rdap.set_domain("hoshizora-sec.com", created=now - dt.timedelta(days=3000),
                        expires=now + dt.timedelta(days=400), dnssec=True,
                        statuses=["client transfer prohibited", "client update prohibited"])
    lab_whois.set_domain("hoshizora.jp", created=(now - dt.timedelta(days=4000)).date(),
                         expires=(now + dt.timedelta(days=5)).date())
    lab_whois.set_domain("hoshizora-sec.co.jp", created=(now - dt.timedelta(days=4000)).date(),
                         expires=(now + dt.timedelta(days=300)).date())
    lab_whois.set_domain("kaede-sec.co.jp", expires=(now + dt.timedelta(days=300)).date())

    run_checks(ctx, CHECKS)
    exp = finding(ctx, "expiry", "hzsec.com")
    assert exp.severity == Severity.HIGH and "20" in exp.title and exp.data["band"] == 30
    assert finding(ctx, "expiry", "hoshizora.jp").severity == Severity.CRITICAL  # via WHOIS (.jp)
    assert is_open(ctx, "lock_update", "hzsec.com") and not is_open(ctx, "lock_transfer", "hzsec.com")
    assert is_open(ctx, "dnssec", "hzsec.com")
    for kind in ("expiry", "lock_update", "lock_transfer", "dnssec", "ns_changed"):
        assert not is_open(ctx, kind, "hoshizora-sec.com"), kind
    assert not is_open(ctx, "lock_transfer", "hoshizora-sec.co.jp")  # JPRS WHOIS does not publish locks

    # The name servers move somewhere nobody here chose; then the registrar puts the domain on hold.
    lab_rdap.update_domain("hoshizora-sec.com", nameservers=["ns1.evil-dns.top", "ns2.evil-dns.top"])
    lab_rdap.add_status("hoshizora-sec.com", "client hold")
    run_checks(ctx, CHECKS)
    ns = finding(ctx, "ns_changed", "hoshizora-sec.com")
    assert is_open(ctx, "ns_changed", "hoshizora-sec.com") and ns.data["now"] == ["ns1.evil-dns.top", "ns2.evil-dns.top"]
    assert is_open(ctx, "registration_hold", "hoshizora-sec.com")

    # Fixed: renewed, locked, signed; the NS change was planned after all; the hold lifted.
    lab_rdap.update_domain("hzsec.com", expires=now + dt.timedelta(days=400), dnssec=True,
                           statuses=["client transfer prohibited", "client update prohibited"])
    lab_rdap.update_domain("hoshizora-sec.com", statuses=["client transfer prohibited", "client update prohibited"])
    with Session(ctx.engine) as s:
        assert registration.accept_nameservers(s, "hoshizora-sec.com", actor="test", now=now)
        s.commit()
    run_checks(ctx, CHECKS)
    for kind, name in (("expiry", "hzsec.com"), ("lock_update", "hzsec.com"), ("dnssec", "hzsec.com"),
                       ("ns_changed", "hoshizora-sec.com"), ("registration_hold", "hoshizora-sec.com")):
        assert is_resolved(ctx, kind, name), (kind, name)

    lab_rdap.delete_domain("hzsec.com")  # gone from the registry
    run_checks(ctx, CHECKS)
    assert finding(ctx, "registration_missing", "hzsec.com").severity == Severity.CRITICAL

    # Someone registers it again: a creation date after the one we knew.
    lab_rdap.set_domain("hzsec.com", registrar="Cheap Names Ltd.", created=now, expires=now + dt.timedelta(days=365))
    run_checks(ctx, CHECKS)
    assert is_resolved(ctx, "registration_missing", "hzsec.com")
    re = finding(ctx, "registration_recreated", "hzsec.com")
    assert is_open(ctx, "registration_recreated", "hzsec.com") and re.severity == Severity.CRITICAL
    assert "Cheap Names Ltd." in re.detail
