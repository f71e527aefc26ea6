"""Is a mark certificate (VMC or CMC) proof of this logo for this domain? Verified, not assumed.

Gmail and Apple Mail show a BIMI logo only when the ``a=`` URL serves a mark certificate that
- chains to a Mark Verifying Authority root (checkdmarc ships the MVA roots; ``mail.bimi_trust_file``
  adds more, e.g. the lab's MVA) and is valid today;
- is for mail of this domain (subjectAltName) and for BIMI (extended key usage
  id-kp-BrandIndicatorforMessageIdentification, 1.3.6.1.5.5.7.3.31);
- carries the logotype extension (RFC 3709) whose image hash equals the hash of the SVG at ``l=``
  (RFC 6170 section 5.2: SHA-256 over the SVG with LF line ends), and whose embedded logo is that SVG;
- has the subject fields the VMC/CMC requirements ask for (checkdmarc's own checks).

The logotype extension is read here with a DER reader because ``cryptography`` keeps it opaque.
Everything is decided against the Context's clock, so tests move time and the lab's certificates
stay valid.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtensionOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from watcher.owned import der
from watcher.owned.svg_tiny_ps import canonical

OID_LOGOTYPE = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.12")
OID_KP_BIMI = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.31")
HASHES = {"2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384",
          "2.16.840.1.101.3.4.2.3": "sha512", "1.3.14.3.2.26": "sha1"}
MAX_PEM = 256 * 1024
MAX_LOGO = 1024 * 1024
EXPIRY_WARN_DAYS = 30
# checkdmarc's verdicts that this module decides itself (with the Context's clock and trust store).
_OURS = ("recognized Mark Verifying Authority", "not valid until", "expired on", "will expire in",
         "required extension")


@dataclass(frozen=True)
class Problem:
    rule: str  # catalogue key suffix: mail.vmc.<rule>
    params: dict[str, Any] = field(default_factory=dict)
    severe: bool = True  # False: a warning (expiring soon)


@dataclass(frozen=True)
class Logotype:
    media_type: str
    hashes: tuple[tuple[str, bytes], ...]  # (hash name, value)
    uris: tuple[str, ...]


@dataclass
class MarkFacts:
    subject: dict[str, str] = field(default_factory=dict)
    issuer: str = ""
    not_after: datetime | None = None
    mark_type: str = ""
    domains: list[str] = field(default_factory=list)
    logotype: Logotype | None = None
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "issuer": self.issuer, "mark_type": self.mark_type,
                "domains": self.domains, "not_after": self.not_after.isoformat() if self.not_after else None,
                "logotype_media_type": self.logotype.media_type if self.logotype else None}


# --- RFC 3709 ----------------------------------------------------------------------------------


def read_logotype(ext_value: bytes) -> Logotype:
    """The subject logo of a LogotypeExtn (RFC 3709 section 4.1), as a VMC carries it.

    LogotypeExtn ::= SEQUENCE { communityLogos [0], issuerLogo [1], subjectLogo [2] EXPLICIT LogotypeInfo, ... }
    LogotypeInfo ::= CHOICE { direct [0] LogotypeData, indirect [1] LogotypeReference }
    LogotypeData ::= SEQUENCE { image SEQUENCE OF LogotypeImage OPTIONAL, audio [1] ... }
    LogotypeImage ::= SEQUENCE { imageDetails LogotypeDetails, imageInfo LogotypeImageInfo OPTIONAL }
    LogotypeDetails ::= SEQUENCE { mediaType IA5String, logotypeHash SEQUENCE OF HashAlgAndValue,
                                   logotypeURI SEQUENCE OF IA5String }
    """
    root = der.parse(ext_value).expect(der.SEQUENCE)
    subject = next((c for c in root.children() if c.context == 2), None)
    if subject is None:
        raise der.DerError("no subjectLogo")
    info = subject.child(0)
    if info.context != 0:
        raise der.DerError("subjectLogo is not direct (an indirect logotype reference is not a BIMI logo)")
    images = info.child(0).expect(der.SEQUENCE)
    details = images.child(0).expect(der.SEQUENCE).child(0).expect(der.SEQUENCE)
    media, hash_seq, uri_seq = details.children()[:3]
    hashes = []
    for h in hash_seq.expect(der.SEQUENCE).children():
        alg, value = h.expect(der.SEQUENCE).children()[:2]
        oid = alg.expect(der.SEQUENCE).child(0).oid()
        hashes.append((HASHES.get(oid, oid), value.expect(der.OCTET_STRING).content))
    uris = tuple(u.text() for u in uri_seq.expect(der.SEQUENCE).children())
    return Logotype(media.text(), tuple(hashes), uris)


def embedded_svg(uri: str) -> bytes | None:
    """The SVG of a ``data:image/svg+xml;base64,`` URI (gzip-compressed, RFC 6170 section 5.2)."""
    head, sep, payload = uri.partition(",")
    if not sep or not head.lower().startswith("data:") or ";base64" not in head.lower():
        return None
    try:
        raw = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        return None
    if raw[:2] != b"\x1f\x8b":
        return raw[:MAX_LOGO]
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as g:
            out = g.read(MAX_LOGO + 1)
    except (OSError, EOFError):
        return None
    return out if len(out) <= MAX_LOGO else None


# --- trust -------------------------------------------------------------------------------------


def mva_roots(extra_file: Path | None = None) -> list[x509.Certificate]:
    """The Mark Verifying Authority roots checkdmarc ships, plus ``extra_file`` (PEM) if given."""
    from importlib.resources import files

    import checkdmarc.resources

    roots = list(x509.load_pem_x509_certificates(files(checkdmarc.resources).joinpath("MVACAs.pem").read_bytes()))
    if extra_file is not None and extra_file.is_file():
        roots.extend(x509.load_pem_x509_certificates(extra_file.read_bytes()))
    return roots


def verify_chain(leaf: x509.Certificate, intermediates: list[x509.Certificate], roots: list[x509.Certificate],
                 now: datetime) -> str | None:
    """None when ``leaf`` chains to one of ``roots`` at ``now``; otherwise why not."""
    # A mark certificate is not a TLS certificate: its key usage is BIMI's, so the extension checks
    # of the web PKI are relaxed here and BIMI's own requirements are checked by the caller.
    ca_policy = (ExtensionPolicy.permit_all()
                 .require_present(x509.BasicConstraints, Criticality.AGNOSTIC, None)
                 .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None))
    ee_policy = ExtensionPolicy.permit_all().may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
    builder = (PolicyBuilder().store(Store(roots)).time(now.replace(tzinfo=None)).max_chain_depth(5)
               .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy))
    try:
        builder.build_client_verifier().verify(leaf, intermediates)
    except VerificationError as e:
        return str(e)[:300]
    return None


# --- the verdict -------------------------------------------------------------------------------


def _subject_fields(cert: x509.Certificate) -> dict[str, str]:
    import checkdmarc.bimi

    out: dict[str, str] = {}
    for rdn in cert.subject.rdns:
        for attr in rdn:
            name = checkdmarc.bimi.OID_LABELS.get(attr.oid) or attr.oid.dotted_string
            out[name] = str(attr.value)[:200]
    return out


def check(pem: bytes, svg: bytes | None, domain: str, now: datetime, roots: list[x509.Certificate]) -> MarkFacts:
    """Everything that would stop a mail client from trusting ``pem`` as the mark of ``svg`` for ``domain``."""
    facts = MarkFacts()
    p = facts.problems
    if len(pem) > MAX_PEM:
        p.append(Problem("too_large"))
        return facts
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError:
        p.append(Problem("not_pem"))
        return facts
    leaf, intermediates = certs[0], list(certs[1:])
    facts.subject = _subject_fields(leaf)
    facts.issuer = leaf.issuer.rfc4514_string()[:300]
    facts.not_after = leaf.not_valid_after_utc
    facts.mark_type = facts.subject.get("markType", "")
    if now < leaf.not_valid_before_utc:
        p.append(Problem("not_yet_valid", {"date": leaf.not_valid_before_utc.date().isoformat()}))
    elif now > leaf.not_valid_after_utc:
        p.append(Problem("expired", {"date": leaf.not_valid_after_utc.date().isoformat()}))
    elif leaf.not_valid_after_utc - now < timedelta(days=EXPIRY_WARN_DAYS):
        p.append(Problem("expiring", {"date": leaf.not_valid_after_utc.date().isoformat()}, severe=False))
    else:
        why = verify_chain(leaf, intermediates, roots, now)
        if why:
            p.append(Problem("untrusted", {"issuer": facts.issuer, "error": why}))
    try:
        eku = leaf.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE).value
        if OID_KP_BIMI not in list(eku):  # type: ignore[call-overload]
            p.append(Problem("no_bimi_eku"))
    except x509.ExtensionNotFound:
        p.append(Problem("no_bimi_eku"))
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        facts.domains = [d.lower() for d in san.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        facts.domains = []
    if domain.lower() not in facts.domains:
        p.append(Problem("wrong_domain", {"domains": ", ".join(facts.domains) or "-"}))
    try:
        ext = leaf.extensions.get_extension_for_oid(OID_LOGOTYPE).value
        facts.logotype = read_logotype(ext.value)  # type: ignore[attr-defined]
    except x509.ExtensionNotFound:
        p.append(Problem("no_logotype"))
    except (der.DerError, UnicodeDecodeError) as e:
        p.append(Problem("bad_logotype", {"error": str(e)[:200]}))
    if facts.logotype is not None and svg is not None:
        _compare_logo(facts.logotype, svg, p)
    for message in _checkdmarc_subject_errors(pem, domain):
        p.append(Problem("requirement", {"detail": message[:300]}))
    return facts


def _compare_logo(logo: Logotype, svg: bytes, p: list[Problem]) -> None:
    body = canonical(svg)
    matched = False
    for name, value in logo.hashes:
        if name in ("sha256", "sha384", "sha512", "sha1"):
            matched = matched or hashlib.new(name, body).digest() == value
    if not matched:
        p.append(Problem("hash_mismatch", {"sha256": hashlib.sha256(body).hexdigest()[:16]}))
    embedded = next((e for e in (embedded_svg(u) for u in logo.uris) if e is not None), None)
    if embedded is None:
        p.append(Problem("no_embedded_logo"))
    elif canonical(embedded) != body:
        p.append(Problem("embedded_differs"))


def _checkdmarc_subject_errors(pem: bytes, domain: str) -> list[str]:
    """checkdmarc's VMC requirement checks (subject fields, forbidden extensions), minus what we decide."""
    import checkdmarc.bimi

    try:
        meta = checkdmarc.bimi.get_certificate_metadata(pem, domain=None)
    except (ValueError, KeyError, IndexError, AttributeError) as e:
        return [f"{type(e).__name__}: {e}"]
    return [m for m in meta.get("validation_errors") or [] if not any(o in m for o in _OURS)]
