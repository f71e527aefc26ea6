"""The pieces that judge BIMI and S/MIME, on their own: the SVG Tiny PS profile, the RFC 3709 logotype
extension read from DER (and hostile DER refused), mark certificates from the lab's MVA, CMS signatures
of notices, and checkdmarc's warnings named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509

from lab.mailfiles import logo_svg, write_notices
from lab.pki import UNEXPECTED_CA, LabPKI, logotype_extension
from watcher.owned import der, markcert, smime, svg_tiny_ps
from watcher.owned.mailwarnings import COVERED, RULES, classify

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def pki():
    p = LabPKI()
    yield p
    p.close()


def test_svg_tiny_ps_profile() -> None:
    assert svg_tiny_ps.check(logo_svg("tiny-ps")).ok
    rules = {v.rule for v in svg_tiny_ps.check(logo_svg("svg11")).violations}
    assert rules == {"version", "base_profile", "root_xy"}
    scripted = svg_tiny_ps.check(logo_svg("scripted"))
    assert {(v.rule, v.params.get("element") or v.params.get("target")) for v in scripted.violations} == {
        ("forbidden_element", "a"), ("forbidden_element", "script"),
        ("external_reference", "https://hoshizora-sec-login.top/")}
    assert {v.rule for v in svg_tiny_ps.check(logo_svg("wide")).violations} == {"title", "not_square"}
    big = logo_svg("tiny-ps").replace(b"</svg>", b"<desc>" + b"x" * 40000 + b"</desc></svg>")
    assert "too_large" in {v.rule for v in svg_tiny_ps.check(big).violations}
    laughs = b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>'
    assert [v.rule for v in svg_tiny_ps.check(laughs).violations] == ["dtd"]
    assert [v.rule for v in svg_tiny_ps.check(b"\x89PNG\r\n").violations] == ["not_xml"]
    handler = logo_svg("tiny-ps").replace(b"<circle", b'<circle onclick="x()"')
    assert [v.rule for v in svg_tiny_ps.check(handler).violations] == ["event_handler"]


def test_logotype_extension_round_trip_and_hostile_der() -> None:
    svg = logo_svg("tiny-ps")
    logo = markcert.read_logotype(logotype_extension(svg))
    assert logo.media_type == "image/svg+xml" and logo.hashes[0][0] == "sha256"
    assert markcert.embedded_svg(logo.uris[0]) == svg
    for bad in (b"", b"\x30", b"\x30\x84\xff\xff\xff\xff", b"\x30\x03\x02\x01", b"\x04\x02ab",
                b"\x30\x02\xa2\x00", b"\x30\x00" + b"junk", bytes(range(256))):
        with pytest.raises(der.DerError):
            markcert.read_logotype(bad)
    deep = b""
    for _ in range(60):
        deep = b"\x30" + bytes([len(deep)]) + deep if len(deep) < 120 else deep
    with pytest.raises(der.DerError):
        markcert.read_logotype(b"\x30\x80" + deep)


def test_mark_certificates(pki: LabPKI) -> None:
    svg = logo_svg("tiny-ps")
    roots = markcert.mva_roots(Path(pki.mark_ca_file))
    good = pki.issue_mark_certificate("hoshizora-sec.co.jp", svg).encode()
    facts = markcert.check(good, svg, "hoshizora-sec.co.jp", NOW, roots)
    assert facts.problems == [] and facts.mark_type == "Registered Mark"
    cmc = pki.issue_mark_certificate("hoshizora-sec.co.jp", svg, mark_type="Prior Use Mark").encode()
    assert markcert.check(cmc, svg, "hoshizora-sec.co.jp", NOW, roots).problems == []

    def rules(pem: bytes, logo: bytes = svg, domain: str = "hoshizora-sec.co.jp", when: dt.datetime = NOW,
              trust: list[x509.Certificate] = roots) -> set[str]:
        return {p.rule for p in markcert.check(pem, logo, domain, when, trust).problems}

    assert rules(good, logo_svg("other")) == {"hash_mismatch", "embedded_differs"}
    assert rules(good, svg.replace(b"\n", b"\r\n")) == set()  # the hash is over LF line ends (RFC 6170)
    assert rules(good, domain="hzsec.com") == {"wrong_domain"}
    assert rules(good, when=NOW + dt.timedelta(days=400)) == {"expired"}
    assert rules(good, when=NOW + dt.timedelta(days=320)) == {"expiring"}
    assert rules(good, trust=markcert.mva_roots(None)) == {"untrusted"}  # the lab MVA is not a real one
    other_ca = pki.issue_mark_certificate("hoshizora-sec.co.jp", svg, issuer=UNEXPECTED_CA).encode()
    assert rules(other_ca) == {"untrusted"}
    assert rules(pki.issue_mark_certificate("hoshizora-sec.co.jp", svg, bimi_eku=False).encode()) == {"no_bimi_eku"}
    tls = x509.load_der_x509_certificate(pki.issue(["www.hoshizora-sec.co.jp"]).cert_der)
    from cryptography.hazmat.primitives.serialization import Encoding
    assert {"no_logotype", "no_bimi_eku", "wrong_domain"} <= rules(tls.public_bytes(Encoding.PEM))
    assert rules(b"not a certificate") == {"not_pem"}


def test_smime_verification_of_notices(pki: LabPKI, tmp_path: Path) -> None:
    paths = write_notices(pki, tmp_path)
    roots = list(x509.load_pem_x509_certificates(Path(pki.smime_ca_file).read_bytes()))

    def problems(name: str) -> set[str]:
        return {r for r, _ in smime.verify_message(paths[name].read_bytes(), NOW, roots,
                                                     ["hoshizora-sec.co.jp"]).problems}

    result = smime.verify_message(paths["signed"].read_bytes(), NOW, roots, ["hoshizora-sec.co.jp"])
    assert result.ok and result.signer == "notice@hoshizora-sec.co.jp"
    assert problems("unsigned") == {"unsigned"}
    assert problems("untrusted") == {"untrusted"}
    assert problems("expired") == {"expired"}
    assert problems("not-ours") == {"wrong_address", "not_the_firm"}
    assert problems("tampered") == {"digest_mismatch"}
    # The same signed bytes with LF line ends (as a file is often saved) still verify.
    lf = paths["signed"].read_bytes().replace(b"\r\n", b"\n")
    assert smime.verify_message(lf, NOW, roots, ["hoshizora-sec.co.jp"]).ok
    # A signature blob that is not CMS is refused with a reason, never a traceback.
    broken = paths["signed"].read_bytes().replace(b"MII", b"XXX", 1)
    assert problems_of(broken, roots) <= {"malformed_signature", "malformed"}


def problems_of(raw: bytes, roots: list[x509.Certificate]) -> set[str]:
    return {r for r, _ in smime.verify_message(raw, NOW, roots, ["hoshizora-sec.co.jp"]).problems}


@pytest.mark.parametrize("message,code", [
    ("Unknown DMARC tag 'rfu' was ignored (RFC 9989 requires unknown tags to be ignored).", "unknown_tag"),
    ("Any text after the all mechanism other than an exp modifier or an RFC 6652 reporting modifier is ignored.",
     "spf_after_all"),
    ("example.jp does not indicate that it accepts DMARC reports about hoshizora-sec.co.jp - Authorization record "
     "not found: hoshizora-sec.co.jp._report._dmarc.example.jp IN TXT \"v=DMARC1\"", "dmarc_report_unauthorized"),
    ("_dmarc.hoshizora-sec.co.jp has both a TXT record and 1 CNAME records (x.example). A name with a CNAME record "
     "must have no other data", "cname_conflict"),
    ("The SPF record for hoshizora-sec.co.jp is 600 bytes, over 512. That is more than a DNS answer can reliably "
     "carry over UDP", "spf_over_512"),
    ("Duplicate include: _spf.google.com", "spf_duplicate_include"),
    ("A p tag value of none makes DMARC unenforced on email sent as hoshizora-sec.co.jp.", "dmarc_p_none"),
    ("Some brand new warning of a later checkdmarc", "other"),
])
def test_checkdmarc_warnings_are_named(message: str, code: str) -> None:
    assert classify(message).code == code


def test_every_warning_rule_has_a_meaning_and_covered_ones_exist() -> None:
    from watcher.core.texts import CATALOGUE

    codes = {r.code for r in RULES}
    assert codes >= COVERED
    for code in codes | {"other"}:
        ja, en = CATALOGUE[f"mail.warn.{code}"]
        assert ja and en
