"""The firm's mail as files the lab serves or hands over: BIMI logos (good and broken SVG Tiny PS)
and sample outgoing customer notices, S/MIME-signed by the lab's PKI (and the ways signing goes wrong).

Signatures are real: ``cryptography``'s PKCS7 builder writes the CMS SignedData, detached in
``multipart/signed`` (RFC 8551), exactly as a mail system would send it.
"""

from __future__ import annotations

import datetime as dt
import zlib
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7

from lab.pki import UNEXPECTED_CA, LabPKI

_STAR = ("M50 14 L59.4 37.1 L84.2 38.9 L65.2 55 L71.2 79.1 L50 66 L28.8 79.1 L34.8 55 L15.8 38.9 "
         "L40.6 37.1 Z")


def logo_svg(variant: str = "tiny-ps") -> bytes:
    """The ほしぞら証券 mark as SVG: ``tiny-ps`` (a valid BIMI logo), ``svg11`` (plain SVG 1.1, no
    profile), ``scripted`` (tiny-ps with a script and a link), ``other`` (a different, valid logo),
    ``wide`` (not square, no title)."""
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    circle = '<circle cx="50" cy="50" r="48" fill="#0b1f4b"/>'
    star = f'<path d="{_STAR}" fill="#f5c542"/>'
    if variant == "tiny-ps":
        body = (f'<svg xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny-ps" viewBox="0 0 100 100">'
                f"<title>Hoshizora Securities</title>{circle}{star}</svg>\n")
    elif variant == "other":
        body = (f'<svg xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny-ps" viewBox="0 0 100 100">'
                f'<title>Hoshizora Securities</title>{circle.replace("#0b1f4b", "#5b0b3e")}{star}</svg>\n')
    elif variant == "svg11":
        body = (f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="100" height="100" x="0" y="0" '
                f'viewBox="0 0 100 100"><title>Hoshizora Securities</title>{circle}{star}</svg>\n')
    elif variant == "scripted":
        body = (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.2" '
                f'baseProfile="tiny-ps" viewBox="0 0 100 100"><title>Hoshizora Securities</title>{circle}'
                f'<a xlink:href="https://hoshizora-sec-login.top/">{star}</a>'
                f'<script>location.href="https://hoshizora-sec-login.top/"</script></svg>\n')
    elif variant == "wide":
        body = (f'<svg xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny-ps" viewBox="0 0 300 100">'
                f"{circle}{star}</svg>\n")
    else:
        raise KeyError(variant)
    return (head + body).encode()


# --- S/MIME-signed customer notices -----------------------------------------------------------------

_CONTENT_HEADERS = ("content-", "mime-version")


def sign(msg: EmailMessage, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> bytes:
    """``msg`` S/MIME-signed: the content headers and body inside a detached ``multipart/signed``."""
    policy = SMTP.clone(linesep="\r\n")
    inner = EmailMessage(policy=policy)
    for k, v in msg.items():
        if k.lower().startswith(_CONTENT_HEADERS):
            inner[k] = v
    inner.set_payload(msg.get_payload())
    data = inner.as_bytes(policy=policy)
    signed = (pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(cert, key, hashes.SHA256())
              .sign(serialization.Encoding.SMIME, [pkcs7.PKCS7Options.DetachedSignature]))
    head = b"".join(policy.fold_binary(k, v) for k, v in msg.items() if not k.lower().startswith(_CONTENT_HEADERS))
    return head + signed.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def notice(sender: str, subject: str, body: str, now: dt.datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"ほしぞら証券 <{sender}>"
    msg["To"] = "customer@example.jp"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{int(now.timestamp())}.{zlib.crc32(subject.encode())}@{sender.split('@')[-1]}>"
    msg.set_content(body, cte="base64")
    return msg


def write_notices(pki: LabPKI, folder: Path, sender: str = "notice@hoshizora-sec.co.jp",
                  now: dt.datetime | None = None) -> dict[str, Path]:
    """Sample outgoing notices into ``folder``: one well signed, and one for each way it goes wrong."""
    now = now or dt.datetime.now(dt.UTC)
    folder.mkdir(parents=True, exist_ok=True)
    body = ("いつもほしぞら証券をご利用いただきありがとうございます。\n"
            "お取引報告書を交付しました。ログインは公式アプリまたはブックマークから行ってください。\n")
    good_cert, good_key = pki.issue_smime(sender, not_before=now - dt.timedelta(days=30))
    cases: dict[str, bytes] = {
        "signed": sign(notice(sender, "【ほしぞら証券】お取引報告書交付のお知らせ", body, now), good_cert, good_key),
        "unsigned": notice(sender, "【ほしぞら証券】メンテナンスのお知らせ", body, now).as_bytes(policy=SMTP),
    }
    other_cert, other_key = pki.issue_smime(sender, issuer=UNEXPECTED_CA, not_before=now - dt.timedelta(days=30))
    cases["untrusted"] = sign(notice(sender, "【ほしぞら証券】ご入金のお知らせ", body, now), other_cert, other_key)
    old_cert, old_key = pki.issue_smime(sender, not_before=now - dt.timedelta(days=400), days=365)
    cases["expired"] = sign(notice(sender, "【ほしぞら証券】配当金のお知らせ", body, now), old_cert, old_key)
    vendor_cert, vendor_key = pki.issue_smime("mailer@notice-vendor.test", not_before=now - dt.timedelta(days=30))
    cases["not-ours"] = sign(notice(sender, "【ほしぞら証券】約定のお知らせ", body, now), vendor_cert, vendor_key)
    tampered = sign(notice(sender, "【ほしぞら証券】出金のお知らせ", body, now), good_cert, good_key)
    # A relay (or an attacker) rewrote the body after signing: the base64 line changes, the signature does not.
    head, sep, rest = tampered.partition(b"\r\n\r\n")
    lines = rest.split(b"\r\n")
    idx = next(i for i, line in enumerate(lines) if len(line) > 40 and b":" not in line and b"-" not in line)
    lines[idx] = lines[idx][:-4] + (b"AAAA" if not lines[idx].endswith(b"AAAA") else b"BBBB")
    cases["tampered"] = head + sep + b"\r\n".join(lines)
    out = {}
    for name, data in cases.items():
        path = folder / f"notice-{name}.eml"
        path.write_bytes(data)
        out[name] = path
    return out
