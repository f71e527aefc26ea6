"""S/MIME on customer notices (best practice 2): each sample notice is signed, and by the firm.

A signed notice lets a customer's mail client show that it really comes from the firm; an unsigned
one, or one signed by a certificate that has expired, is not trusted, or belongs to someone else,
shows nothing or a warning. The firm keeps sample outgoing notices (``mail.notice_samples``: .eml
files as its systems send them); each is checked:

- it is S/MIME-signed: ``multipart/signed`` (detached, RFC 8551 section 3.5) or
  ``application/pkcs7-mime; smime-type=signed-data``;
- the CMS signature (RFC 5652) verifies over the signed content: the ``messageDigest`` attribute
  equals the content's digest and the signer's key signs the attributes;
- the signer's certificate chains to ``mail.smime_trust_file`` (default: the certifi bundle), is valid
  now, may protect mail (extended key usage emailProtection), names the From address, and that
  address is in one of the firm's domains.

``cryptography`` signs CMS but does not verify it, so the SignedData is read with ``der``.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from watcher.core.models import Brand, FindingKind, Severity
from watcher.core.names import is_within
from watcher.core.texts import text
from watcher.owned import der
from watcher.owned.mailcommon import brand_of_mail_domain
from watcher.owned.markcert import verify_chain

if TYPE_CHECKING:
    from watcher.owned.checks import CheckRun

MAX_MESSAGE = 10 * 1024 * 1024
MAX_SAMPLES = 200
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "2.16.840.1.101.3.4.2.1": hashes.SHA256, "2.16.840.1.101.3.4.2.2": hashes.SHA384,
    "2.16.840.1.101.3.4.2.3": hashes.SHA512, "1.3.14.3.2.26": hashes.SHA1}
RSA_OIDS = {"1.2.840.113549.1.1.1", "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13",
            "1.2.840.113549.1.1.5"}
ECDSA_OIDS = {"1.2.840.10045.2.1", "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4"}


@dataclass
class SmimeResult:
    signed: bool = False
    signer: str = ""  # the certificate's mail address
    issuer: str = ""
    not_after: datetime | None = None
    problems: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (rule, params)

    @property
    def ok(self) -> bool:
        return self.signed and not self.problems

    def fail(self, rule: str, **params: Any) -> SmimeResult:
        self.problems.append((rule, params))
        return self


# --- finding the signed content and the signature ------------------------------------------------


def _crlf(data: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", data)


def detached_parts(raw: bytes, boundary: str) -> tuple[bytes, bytes] | None:
    """(signed content exactly as signed, the signature part) of a multipart/signed body."""
    data = _crlf(raw)
    head_end = data.find(b"\r\n\r\n")
    body = data[head_end + 4:] if head_end >= 0 else data
    delim = b"--" + boundary.encode("ascii", "replace")
    pieces = re.split(rb"(?:^|\r\n)" + re.escape(delim) + rb"(?:--)?[ \t]*\r\n", body)
    if len(pieces) < 3:
        return None
    return pieces[1], pieces[2]


def _signature_bytes(part_bytes: bytes) -> bytes | None:
    part = email.message_from_bytes(part_bytes, policy=email.policy.default)
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else None


# --- CMS SignedData ---------------------------------------------------------------------------


def _signed_data(cms: bytes) -> der.Node:
    info = der.parse(cms).expect(der.SEQUENCE)
    if info.child(0).oid() != OID_SIGNED_DATA:
        raise der.DerError("not a CMS SignedData")
    explicit = info.child(1)
    if explicit.context != 0:
        raise der.DerError("no SignedData content")
    return explicit.child(0).expect(der.SEQUENCE)


def verify_cms(cms: bytes, content: bytes | None, now: datetime, roots: list[x509.Certificate],
               result: SmimeResult) -> tuple[x509.Certificate | None, bytes | None]:
    """Check the signature; returns (the signer's certificate, the encapsulated content if any)."""
    sd = _signed_data(cms)
    kids = sd.children()
    encap = kids[2].expect(der.SEQUENCE)
    enc_kids = encap.children()
    if len(enc_kids) > 1 and enc_kids[1].context == 0:
        inner = enc_kids[1].child(0).expect(der.OCTET_STRING)
        content = inner.content
    certs: list[x509.Certificate] = []
    signer_infos: der.Node | None = None
    for k in kids[3:]:
        if k.context == 0:
            for c in k.children():
                try:
                    certs.append(x509.load_der_x509_certificate(c.raw))
                except ValueError:
                    continue
        elif k.tag == der.SET:
            signer_infos = k
    if signer_infos is None or not signer_infos.children():
        raise der.DerError("no signerInfos")
    si = signer_infos.child(0).expect(der.SEQUENCE).children()
    sid, digest_alg = si[1], si[2]
    signed_attrs = si[3] if si[3].context == 0 else None
    rest = si[4:] if signed_attrs is not None else si[3:]
    sig_alg, signature = rest[0], rest[1].expect(der.OCTET_STRING).content
    signer = _find_signer(sid, certs)
    if signer is None:
        result.fail("no_signer_cert")
        return None, content
    digest_oid = digest_alg.child(0).oid()
    hash_cls = DIGESTS.get(digest_oid)
    if hash_cls is None:
        result.fail("unknown_algorithm", algorithm=digest_oid)
        return signer, content
    if content is None:
        result.fail("no_content")
        return signer, content
    h = hashes.Hash(hash_cls())
    h.update(content)
    digest = h.finalize()
    if signed_attrs is not None:
        md = None
        for attr in signed_attrs.children():
            parts = attr.children()
            if parts[0].oid() == OID_MESSAGE_DIGEST:
                md = parts[1].child(0).expect(der.OCTET_STRING).content
        if md != digest:
            result.fail("digest_mismatch")
            return signer, content
        # The signature covers the attributes re-tagged as the SET OF they are (RFC 5652 5.4).
        to_verify = b"\x31" + signed_attrs.raw[1:]
    else:
        to_verify = content
    try:
        key = signer.public_key()
        alg_oid = sig_alg.child(0).oid()
        if isinstance(key, rsa.RSAPublicKey) and alg_oid in RSA_OIDS:
            key.verify(signature, to_verify, padding.PKCS1v15(), hash_cls())
        elif isinstance(key, ec.EllipticCurvePublicKey) and alg_oid in ECDSA_OIDS:
            key.verify(signature, to_verify, ec.ECDSA(hash_cls()))
        else:
            result.fail("unknown_algorithm", algorithm=alg_oid)
            return signer, content
    except InvalidSignature:
        result.fail("bad_signature")
        return signer, content
    if not signer.not_valid_before_utc <= now <= signer.not_valid_after_utc:
        return signer, content  # out of its validity: said once, by the caller ("expired")
    why = verify_chain(signer, [c for c in certs if c != signer], roots, now)
    if why:
        result.fail("untrusted", issuer=signer.issuer.rfc4514_string()[:200], error=why)
    return signer, content


def _find_signer(sid: der.Node, certs: list[x509.Certificate]) -> x509.Certificate | None:
    if sid.tag == der.SEQUENCE:  # IssuerAndSerialNumber
        issuer_der, serial = sid.child(0).raw, sid.child(1).integer()
        for c in certs:
            if c.serial_number == serial and c.issuer.public_bytes() == issuer_der:
                return c
    elif sid.context == 0:  # SubjectKeyIdentifier
        for c in certs:
            try:
                ski = c.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                continue
            if ski == sid.content:
                return c
    return certs[0] if len(certs) == 1 else None


# --- the verdict on one message --------------------------------------------------------------


def _cert_addresses(cert: x509.Certificate) -> list[str]:
    out = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        out += [a.lower() for a in san.get_values_for_type(x509.RFC822Name)]
    except x509.ExtensionNotFound:
        pass
    out += [str(a.value).lower() for a in cert.subject.get_attributes_for_oid(x509.NameOID.EMAIL_ADDRESS)]
    return list(dict.fromkeys(out))


def verify_message(raw: bytes, now: datetime, roots: list[x509.Certificate], firm_domains: list[str]) -> SmimeResult:
    """Is ``raw`` signed, validly, by a certificate of the firm for its From address?"""
    result = SmimeResult()
    if len(raw) > MAX_MESSAGE:
        return result.fail("too_large")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    sender = parseaddr(str(msg.get("From", "")))[1].lower()
    ctype = msg.get_content_type()
    smime_type = str(msg.get_param("smime-type", "") or "").lower()
    try:
        if ctype == "multipart/signed":
            boundary = msg.get_boundary()
            parts = detached_parts(raw, boundary) if boundary else None
            if parts is None:
                return result.fail("malformed")
            content, sig_part = parts
            cms = _signature_bytes(sig_part)
            if cms is None:
                return result.fail("malformed")
            result.signed = True
            signer, _ = verify_cms(cms, content, now, roots, result)
        elif ctype in ("application/pkcs7-mime", "application/x-pkcs7-mime") and smime_type in ("signed-data", ""):
            payload = msg.get_payload(decode=True)
            if not isinstance(payload, bytes):
                return result.fail("malformed")
            result.signed = True
            signer, _ = verify_cms(payload, None, now, roots, result)
        else:
            return result.fail("unsigned")
    except (der.DerError, IndexError, ValueError) as e:
        return result.fail("malformed_signature", error=str(e)[:200])
    if signer is None:
        return result
    result.issuer = signer.issuer.rfc4514_string()[:200]
    result.not_after = signer.not_valid_after_utc
    addresses = _cert_addresses(signer)
    result.signer = addresses[0] if addresses else ""
    if now < signer.not_valid_before_utc or now > signer.not_valid_after_utc:
        result.fail("expired", date=signer.not_valid_after_utc.date().isoformat())
    try:
        eku = list(signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
        if ExtendedKeyUsageOID.EMAIL_PROTECTION not in eku:
            result.fail("not_for_mail")
    except x509.ExtensionNotFound:
        pass  # no EKU: any use (RFC 5280 4.2.1.12)
    if sender and sender not in addresses:
        result.fail("wrong_address", sender=sender, addresses=", ".join(addresses) or "-")
    domain = result.signer.rsplit("@", 1)[-1]
    if not domain or not any(is_within(domain, d) for d in firm_domains):
        result.fail("not_the_firm", address=result.signer or "-")
    return result


# --- the check ------------------------------------------------------------------------------------


def trust_roots(run: CheckRun) -> list[x509.Certificate]:
    conf = run.ctx.settings.mail
    if conf.smime_trust_file:
        path = run.ctx.settings.path(conf.smime_trust_file)
    else:
        import certifi

        path = Path(certifi.where())
    return list(x509.load_pem_x509_certificates(path.read_bytes()))


def check_notices(run: CheckRun) -> None:
    """The mailauth job's S/MIME step: one finding per sample notice that is not properly signed."""
    from sqlmodel import select

    conf = run.ctx.settings.mail
    if not conf.notice_samples:
        return
    folder = run.ctx.settings.path(conf.notice_samples)
    files = sorted(p for p in folder.glob("*.eml") if p.is_file())[:MAX_SAMPLES] if folder.is_dir() else []
    if not files:
        run.note("smime", text("owned.note.smime_no_samples", folder=str(folder)))
        return
    roots = trust_roots(run)
    brands = list(run.session.exec(select(Brand)))
    firm = sorted({d for b in brands for d in (b.spec.get("sending_domains") or [])
                   + (b.spec.get("official_domains") or [])})
    for path in files:
        subject = f"notice:{path.name}"[:253]
        try:
            raw = path.read_bytes()
        except OSError as e:
            run.error("smime", subject, e)
            continue
        result = verify_message(raw, run.now, roots, firm)
        sender = parseaddr(str(email.message_from_bytes(raw[:65536], policy=email.policy.default).get("From", "")))[1]
        brand = brand_of_mail_domain(brands, sender.rsplit("@", 1)[-1].lower())
        data = {"file": path.name, "signer": result.signer, "issuer": result.issuer,
                "not_after": result.not_after.isoformat() if result.not_after else None,
                "sha256": hashlib.sha256(raw).hexdigest()}
        if result.ok:
            run.ok(FindingKind.SMIME, subject)
            continue
        items = [text(f"mail.smime.{rule}", **params) for rule, params in result.problems]
        run.fail(FindingKind.SMIME, subject, text("mail.smime.title", file=path.name, problem=items[0]),
                 severity=Severity.MEDIUM if result.signed else Severity.LOW,
                 brand_id=brand.id if brand else None, data=data, detail=text("mail.problems", items=items))
