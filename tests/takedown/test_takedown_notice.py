"""The request text in both languages (Japanese intact on the wire), the X-ARF summary, the
side-by-side image, and the S/MIME signature (verified by openssl)."""

from __future__ import annotations

import email
import email.policy
import io
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image
from sqlmodel import Session

from takedown import notice
from tests.takedown.tdlab import add_candidate, png, take_snapshot
from tests.takedown.xarf import validate
from watcher.core.models import Candidate
from watcher.takedowns import outbox, requests

FACTS = notice.NoticeFacts(
    reference="TD-7", domain="hoshizora-sec-login.top", urls=["https://hoshizora-sec-login.top/login"],
    brand="Hoshizora Securities Co., Ltd.", brand_ja="ほしぞら証券株式会社", org="Hoshizora Securities Co., Ltd.",
    org_ja="ほしぞら証券株式会社", official_urls=["https://trade.hoshizora-sec.co.jp/login"],
    reasons=["ロゴが一致 (logo match)", "password form"], ips=["203.0.113.10"],
    first_seen_at=datetime(2026, 11, 24, 15, 30, tzinfo=UTC), taken_at=datetime(2026, 11, 25, tzinfo=UTC),
    evidence=[notice.EvidenceFile("screenshot", "screenshot.png", "ab" * 32, "image/png")],
    official_domains=["hoshizora-sec.co.jp", "hzsec.com"], official_list_url="https://www.hoshizora-sec.co.jp/domains",
)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_templates_render_in_both_languages(language):
    text = notice.body(FACTS, language, "registrar", "Cheap Names Ltd.")
    assert "hxxps://hoshizora-sec-login[.]top/login" in text and "https://hoshizora-sec-login.top" not in text
    assert "ロゴが一致 (logo match)" in text  # the reasons as written
    assert "TD-7" in text and "$" not in text
    # The firm's domains and their public list, but no link to a login page (guideline IV.4(5)).
    assert "- hoshizora-sec.co.jp" in text and "https://www.hoshizora-sec.co.jp/domains" in text
    assert "/login" not in text.replace("hxxps://hoshizora-sec-login[.]top/login", "")
    if language == "ja":
        assert "ドメイン名の利用停止" in text and "2026年11月25日 00:30 JST" in text  # first seen, in JST
        assert notice.subject(FACTS, "ja").startswith("【フィッシングサイト停止のお願い】")
    else:
        assert "Please suspend the domain name" in text and "2026-11-24 15:30 UTC (00:30 JST)" in text


REPORT_ID = "0b6f8a52-5d6c-4f1e-9a0b-3c2d1e0f9a8b"


def test_the_xarf_report_passes_the_published_schema_and_carries_the_evidence():
    facts = replace(FACTS, requester_email="brand-security@hzsec.com")
    r = notice.xarf_report(facts, report_id=REPORT_ID, recipient_kind="hosting", payloads={"ab" * 32: b"\x89PNG"})
    validate(r)
    assert (r["category"], r["type"], r["xarf_version"]) == ("content", "phishing", "4.2.0")
    assert r["timestamp"] == "2026-11-24T15:30:00Z" and r["domain"] == "hoshizora-sec-login.top"
    assert r["omamori"]["times_jst"]["first_seen"] == "2026-11-25T00:30:00+09:00"
    assert r["evidence"] == [{"content_type": "image/png", "description": "screenshot: screenshot.png",
                              "payload": "iVBORw==", "hash": "sha256:" + "ab" * 32, "size": 4}]
    # A file not inlined is still listed with its hash; the report without any payload still validates.
    bare = notice.xarf_report(facts, report_id=REPORT_ID)
    validate(bare)
    assert bare["evidence"] == [] and bare["omamori"]["evidence_files"][0]["sha256"] == "ab" * 32


def test_the_legacy_summary_fails_the_schema():
    """0.1's "X-ARF" layout (v4 label, dates as objects) is what importers rejected: the check catches it."""
    legacy = {"Version": "4", "Report": {"ReportClass": "Content", "ReportType": "Phishing",
                                         "Date": {"utc": "2026-11-24T15:30:00Z"}}}
    with pytest.raises(jsonschema.ValidationError):
        validate(legacy)


def test_side_by_side_is_one_png_with_both_pages():
    out = notice.side_by_side(png((0, 0, 255), "official", (400, 300)), png((255, 0, 0), "phish", (800, 600)),
                              official_label="OFFICIAL", phishing_label="REPORTED")
    img = Image.open(io.BytesIO(out)).convert("RGB")
    left, right = img.getpixel((100, 200)), img.getpixel((img.width - 100, 200))
    assert left[2] > 200 and left[0] < 50 and right[0] > 200 and right[2] < 50


def test_japanese_survives_the_wire(ctx, world):
    cand = add_candidate(ctx)
    take_snapshot(ctx, world, cand)
    with Session(ctx.engine, expire_on_commit=False) as s:
        c = s.get(Candidate, cand.id)
        requests.confirm(ctx, s, c, actor="analyst")
        requests.approve_all(ctx, s, c, actor="analyst")
        s.commit()
    outbox.send_due(ctx)
    raw = next(m.raw for m in world.smtp.messages() if m.rcpt_tos == ["phishing@jpcert.test"])
    assert raw.isascii()  # 7-bit on the wire: RFC 2047 subject, base64 body
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert "ほしぞら証券株式会社を装うサイト" in msg["Subject"]
    body = msg.get_body(("plain",))
    assert body.get_content_charset() == "utf-8"
    assert "お客様のログインID・パスワードを盗み取るフィッシングサイトです" in body.get_content()


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hoshizora Brand Security"),
                      x509.NameAttribute(NameOID.EMAIL_ADDRESS, "brand-security@hzsec.com")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name("brand-security@hzsec.com")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "smime.crt", tmp_path / "smime.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_smime_signature_verifies(make_ctx, world, tmp_path):
    cert, key = _self_signed(tmp_path)
    ctx = make_ctx(smtp={"smime_cert": str(cert), "smime_key": str(key)})
    cand = add_candidate(ctx)
    take_snapshot(ctx, world, cand)
    with Session(ctx.engine, expire_on_commit=False) as s:
        c = s.get(Candidate, cand.id)
        requests.confirm(ctx, s, c, actor="analyst")
        requests.approve_all(ctx, s, c, actor="analyst")
        s.commit()
    assert outbox.send_due(ctx)["sent"] == 3
    stored = next(m for m in world.smtp.messages() if m.rcpt_tos == ["phishing@jpcert.test"])
    msg = stored.message
    assert msg.get_content_type() == "multipart/signed"
    signed_part = msg.get_payload()[0]
    assert "フィッシングサイト" in signed_part.get_body(("plain",)).get_content()
    eml = tmp_path / "signed.eml"
    eml.write_bytes(stored.raw)
    out = subprocess.run(["openssl", "smime", "-verify", "-in", str(eml), "-CAfile", str(cert), "-out", "/dev/null"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "Verification successful" in out.stderr
    # Tampering breaks it: the signature covers the body and the attachments.
    eml.write_bytes(stored.raw.replace(b"Content-Type: image/png", b"Content-Type: image/gif", 1))
    bad = subprocess.run(["openssl", "smime", "-verify", "-in", str(eml), "-CAfile", str(cert), "-out", "/dev/null"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0


def test_an_idn_is_named_in_ascii_and_as_seen():
    facts = replace(FACTS, domain="xn--hoshizora-se-khk.com", domain_unicode="hoshizora-seс.com",
                    requester_email="brand-security@hzsec.com")
    assert "xn--hoshizora-se-khk.com (hoshizora-seс.com)" in notice.subject(facts, "en")
    r = notice.xarf_report(facts, report_id=REPORT_ID)
    validate(r)  # the schema's domain pattern has no room for "--": the name is the source identifier
    assert r["source_identifier"] == "xn--hoshizora-se-khk.com" and "domain" not in r
