"""Every certificate for our names, from a real lab CT log: recorded against the inventory; a new name
from an allowed CA is a low "new name" finding, an unexpected CA a high one, and a first certificate
from another allowed CA a low "new issuer" finding."""

from __future__ import annotations

from sqlmodel import Session, select

from lab.pki import SECOND_CA
from tests.ct.labhelp import log_infos
from watcher.context import Context
from watcher.core.models import Finding, OwnedCertificate, OwnedDomain, Severity
from watcher.core.texts import render_stored
from watcher.discovery.ct.reader import LogReader


def _findings(ctx: Context) -> dict[tuple[str, str], Finding]:
    with Session(ctx.engine) as s:
        return {(f.kind.value, f.subject): f for f in s.exec(select(Finding))}


def test_each_certificate_for_our_names_is_recorded_and_judged(lab_ct, ct_ctx: Context, matcher) -> None:
    lab_ct.add_certificate(["www.hoshizora-sec.co.jp"])  # a name the brands file already lists
    lab_ct.add_certificate(["vpn.hoshizora-sec.co.jp"], precert=True)  # never seen: allowed CA
    lab_ct.add_certificate(["vpn.hoshizora-sec.co.jp"])  # the same name again (final certificate)
    lab_ct.add_certificate(["pay.hoshizora-sec.co.jp"], issuer="Unexpected CA")
    lab_ct.integrate()
    LogReader(ct_ctx, log_infos(lab_ct, "static")[0], matcher=matcher).run()

    with Session(ct_ctx.engine) as s:
        certs = list(s.exec(select(OwnedCertificate)))
        owned = {o.name for o in s.exec(select(OwnedDomain))}
    assert {c.name for c in certs} == {"www.hoshizora-sec.co.jp", "vpn.hoshizora-sec.co.jp", "pay.hoshizora-sec.co.jp"}
    assert all(c.apex == "hoshizora-sec.co.jp" and c.not_after and c.log for c in certs)
    assert [c.allowed for c in certs if c.name == "pay.hoshizora-sec.co.jp"] == [False]
    assert {"vpn.hoshizora-sec.co.jp", "pay.hoshizora-sec.co.jp"} <= owned

    found = _findings(ct_ctx)
    new = found[("cert_new_name", "vpn.hoshizora-sec.co.jp")]
    assert new.severity == Severity.LOW and new.data["issuer"]
    assert "vpn.hoshizora-sec.co.jp" in render_stored(new.title_text, "ja", new.title)
    assert ("cert_new_name", "www.hoshizora-sec.co.jp") not in found  # the brands file knew it
    bad = found[("cert_issuer", "pay.hoshizora-sec.co.jp")]
    assert bad.severity == Severity.HIGH and "Unexpected CA" in bad.title
    assert ("cert_new_name", "pay.hoshizora-sec.co.jp") not in found  # one finding per certificate

    # A certificate from another CA on the allowed list, for a known name: a new issuer for our domain.
    lab_ct.add_certificate(["www.hoshizora-sec.co.jp"], issuer=SECOND_CA)
    lab_ct.integrate()
    LogReader(ct_ctx, log_infos(lab_ct, "static")[0], matcher=matcher).run()
    issuers = [f for (k, _), f in _findings(ct_ctx).items() if k == "cert_new_issuer"]
    assert len(issuers) == 1 and issuers[0].severity == Severity.LOW
    assert "SECOM" in issuers[0].title
