"""The SMTP client: the one place omamori sends mail from (takedown requests, reports).

Failures are classified so the outbox knows whether to retry: ``TemporaryFailure`` (4xx, connection
problems) or ``PermanentFailure`` (5xx).

S/MIME (guideline IV.4 best practice 2): when ``smtp.smime_cert`` and ``smtp.smime_key`` are set,
every message is signed (detached, ``multipart/signed``, SHA-256) with ``cryptography``'s PKCS7
builder. A signed message is sent as the exact bytes that were signed, never re-serialised, since
any re-folding of the signed part would break the signature.
"""

from __future__ import annotations

import copy
import smtplib
import ssl
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, getaddresses, make_msgid
from pathlib import Path

from watcher.core.config import ROOT, SmtpSettings


class MailError(Exception):
    pass


class TemporaryFailure(MailError):
    pass


class PermanentFailure(MailError):
    pass


# Headers that describe the content go inside the signed part; the rest stay outside.
_CONTENT_HEADERS = ("content-", "mime-version")


def sign_smime(msg: EmailMessage, cert_pem: bytes, key_pem: bytes) -> bytes:
    """The whole message, S/MIME-signed (RFC 8551 ``multipart/signed``), as bytes with CRLF endings."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs7

    cert = x509.load_pem_x509_certificate(cert_pem)
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise TypeError("Only RSA & EC keys are supported at this time.")  # as add_signer would say
    smtp_policy = policy.SMTPUTF8.clone(linesep="\r\n", utf8=False)
    inner = copy.deepcopy(msg)
    outer_headers = [(k, v) for k, v in msg.items() if not k.lower().startswith(_CONTENT_HEADERS)]
    for k in {k for k, _ in outer_headers}:
        del inner[k]
    # 7-bit transfer encodings inside the signed part: a relay may not alter what was signed.
    data = inner.as_bytes(policy=smtp_policy)
    signed = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(data)
        .add_signer(cert, key, hashes.SHA256())
        .sign(serialization.Encoding.SMIME, [pkcs7.PKCS7Options.DetachedSignature])
    )
    head = b"".join(smtp_policy.fold_binary(k, v) for k, v in outer_headers)
    return head + signed.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


class Mailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    @property
    def signs(self) -> bool:
        return bool(self.settings.smime_cert and self.settings.smime_key)

    def signed_bytes(self, msg: EmailMessage) -> bytes:
        s = self.settings
        assert s.smime_cert and s.smime_key
        cert, key = (p if p.is_absolute() else ROOT / p for p in (Path(s.smime_cert), Path(s.smime_key)))
        return sign_smime(msg, cert.read_bytes(), key.read_bytes())

    def sender(self) -> str:
        return formataddr((self.settings.from_name, self.settings.from_address))

    def new_message_id(self) -> str:
        domain = self.settings.from_address.rpartition("@")[2] or "omamori.local"
        return make_msgid(domain=domain)

    def _tls(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        if self.settings.ca_file:
            ctx.load_verify_locations(str(self.settings.ca_file))
        return ctx

    def send(self, msg: EmailMessage) -> str:
        """Send one message; returns its Message-ID (set here if missing)."""
        s = self.settings
        if not msg["Message-ID"]:
            msg["Message-ID"] = self.new_message_id()
        if not msg["From"]:
            msg["From"] = self.sender()
        if s.reply_to and not msg["Reply-To"]:
            msg["Reply-To"] = s.reply_to
        signed: bytes | None = None
        if self.signs:
            try:
                signed = self.signed_bytes(msg)
            except (OSError, ValueError, TypeError) as e:  # a configuration problem: retrying will not help
                raise PermanentFailure(f"S/MIME signing failed: {type(e).__name__}: {e}") from None
        try:
            conn = (smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._tls()) if s.ssl
                    else smtplib.SMTP(s.host, s.port, timeout=s.timeout))
            with conn as smtp:
                smtp.ehlo()
                if s.starttls and not s.ssl:
                    if not smtp.has_extn("starttls"):
                        raise PermanentFailure(f"{s.host}:{s.port} does not offer STARTTLS (smtp.starttls = true)")
                    smtp.starttls(context=self._tls())
                    smtp.ehlo()
                if s.username:
                    smtp.login(s.username, s.password.get_secret_value())
                if signed is not None:
                    rcpts = [a for _, a in getaddresses(msg.get_all("To", []) + msg.get_all("Cc", [])) if a]
                    mail_from = getaddresses([str(msg["From"])])[0][1]
                    refused = smtp.sendmail(mail_from, rcpts, signed)
                else:
                    refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as e:
            codes = [c for c, _ in e.recipients.values()]
            detail = "; ".join(f"{r}: {c} {m.decode(errors='replace')}" for r, (c, m) in e.recipients.items())
            raise (TemporaryFailure if all(400 <= c < 500 for c in codes) else PermanentFailure)(detail) from None
        except smtplib.SMTPResponseException as e:
            text = f"{e.smtp_code} {e.smtp_error.decode(errors='replace') if isinstance(e.smtp_error, bytes) else e.smtp_error}"
            raise (TemporaryFailure if 400 <= e.smtp_code < 500 else PermanentFailure)(text) from None
        except (OSError, smtplib.SMTPException) as e:
            raise TemporaryFailure(f"{type(e).__name__}: {e}") from None
        if refused:
            raise PermanentFailure(f"refused recipients: {refused}")
        return str(msg["Message-ID"])
