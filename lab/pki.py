"""The lab's public key infrastructure: two root CAs, leaf certificates, precertificates, TLS contexts.

"Lab Trusted CA" is the issuer the brand expects; "Unexpected CA" exists so tests can raise the
unexpected-issuer alarm. Certificates are real X.509 (ECDSA P-256, SHA-256) and verify against the CA.
`fast_leaf()` builds the TBSCertificate DER by hand so the CT log can mint noise at thousands per second.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import ipaddress
import ssl
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TRUSTED_CA = "Lab Trusted CA"
UNEXPECTED_CA = "Unexpected CA"
MARK_CA = "Lab Mark Verifying Authority"  # issues BIMI mark certificates (VMC/CMC), like DigiCert or Entrust
OID_LOGOTYPE = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.12")  # RFC 3709
OID_KP_BIMI = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.31")  # id-kp-BrandIndicatorforMessageIdentification
OID_SHA256 = "2.16.840.1.101.3.4.2.1"
# Subject fields of a VMC (the VMC Requirements, section 7.1.4.2.2).
OID_MARK_TYPE = x509.ObjectIdentifier("1.3.6.1.4.1.53087.1.13")
OID_TRADEMARK_COUNTRY = x509.ObjectIdentifier("1.3.6.1.4.1.53087.1.3")
OID_TRADEMARK_OFFICE = x509.ObjectIdentifier("1.3.6.1.4.1.53087.1.2")
OID_TRADEMARK_ID = x509.ObjectIdentifier("1.3.6.1.4.1.53087.1.4")
OID_PRIOR_USE_SOURCE = x509.ObjectIdentifier("1.3.6.1.4.1.53087.5.1")
# A second CA that a brand may also allow (its name carries "SECOM", as a real SECOM CA's would).
SECOND_CA = "SECOM Lab Passport CA"
CT_POISON_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.3")
UTC = dt.UTC


@dataclass(frozen=True)
class CA:
    name: str
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    der: bytes
    subject_der: bytes  # the DER of the Name, reused verbatim by fast_leaf()
    spki_der: bytes

    @property
    def key_hash(self) -> bytes:
        """RFC 6962 issuer_key_hash: SHA-256 of the issuer's SubjectPublicKeyInfo."""
        return hashlib.sha256(self.spki_der).digest()

    @property
    def fingerprint(self) -> bytes:
        return hashlib.sha256(self.der).digest()

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()


@dataclass(frozen=True)
class Issued:
    """One issuance: `cert_der` is the final certificate, or the precertificate when `precert`."""

    cert_der: bytes
    tbs_der: bytes  # for a precert: TBSCertificate without the poison extension (RFC 6962 3.2)
    precert: bool
    issuer: CA


def _make_ca(name: str, org: str) -> CA:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, name),
    ])
    now = dt.datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=365))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return CA(name, key, cert, cert.public_bytes(serialization.Encoding.DER),
              subject.public_bytes(), spki)


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


# --- hand-rolled DER, only what a leaf TBSCertificate needs ---------------------------------------

def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _len(len(content)) + content


def _int(n: int) -> bytes:
    b = n.to_bytes(n.bit_length() // 8 + 1, "big")
    return _tlv(0x02, b)


def _utctime(t: dt.datetime) -> bytes:
    return _tlv(0x17, t.strftime("%y%m%d%H%M%SZ").encode())


_ECDSA_SHA256 = _tlv(0x30, _tlv(0x06, bytes.fromhex("2a8648ce3d040302")))
_VERSION3 = _tlv(0xA0, _int(2))
_OID_CN = _tlv(0x06, bytes.fromhex("550403"))
_OID_SAN = _tlv(0x06, bytes.fromhex("551d11"))
_POISON_EXT = _tlv(0x30, _tlv(0x06, bytes.fromhex("2b06010401d679020403")) + _tlv(0x01, b"\xff")
                   + _tlv(0x04, b"\x05\x00"))


def logotype_extension(svg: bytes) -> bytes:
    """The DER of a LogotypeExtn (RFC 3709) whose subject logo is ``svg``, as VMCs carry it: direct
    LogotypeData, one image/svg+xml image, its SHA-256 over the LF-canonical SVG, and a data: URI of the
    gzip-compressed SVG (RFC 6170 section 5.2)."""
    canonical = svg.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    digest = hashlib.sha256(canonical).digest()
    uri = b"data:image/svg+xml;base64," + base64.b64encode(gzip.compress(svg, mtime=0))
    sha256 = _tlv(0x30, _tlv(0x06, _oid(OID_SHA256)))
    details = _tlv(0x30, _tlv(0x16, b"image/svg+xml") + _tlv(0x30, _tlv(0x30, sha256 + _tlv(0x04, digest)))
                   + _tlv(0x30, _tlv(0x16, uri)))
    image = _tlv(0x30, details)
    logotype_data = _tlv(0xA0, _tlv(0x30, image))  # direct [0] IMPLICIT LogotypeData { image SEQUENCE OF }
    return _tlv(0x30, _tlv(0xA2, logotype_data))  # subjectLogo [2] EXPLICIT LogotypeInfo


def _oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    out = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.append(0x80 | (p & 0x7F))
            p >>= 7
        out += bytes(reversed(chunk))
    return out


class LabPKI:
    """The CAs, one shared leaf key (cheap issuance), and per-host TLS certificates for the web server."""

    def __init__(self) -> None:
        self.cas: dict[str, CA] = {
            TRUSTED_CA: _make_ca(TRUSTED_CA, "Lab Trust Services"),
            UNEXPECTED_CA: _make_ca(UNEXPECTED_CA, "Unexpected Certs Inc."),
            MARK_CA: _make_ca(MARK_CA, "Lab Mark Verification K.K."),
            SECOND_CA: _make_ca(SECOND_CA, "SECOM Lab Trust Systems"),
        }
        # One key for every leaf: the lab tests names and issuers, not key diversity, and this keeps
        # issuance (the CT noise benchmark) fast.
        self.leaf_key = ec.generate_private_key(ec.SECP256R1())
        self._leaf_spki = self.leaf_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self._serial = 0x1000
        self._lock = threading.Lock()
        self._dir = tempfile.TemporaryDirectory(prefix="omamori-lab-pki-")
        self.ca_file = str(Path(self._dir.name) / "lab-ca.pem")
        Path(self.ca_file).write_text(self.ca_cert_pem)
        # Trust anchors for one purpose each: mail clients trust only MVAs for marks, and a firm's
        # S/MIME check trusts the CAs it buys mail certificates from.
        self.mark_ca_file = str(Path(self._dir.name) / "lab-mva.pem")
        Path(self.mark_ca_file).write_text(self.cas[MARK_CA].pem)
        self.smime_ca_file = str(Path(self._dir.name) / "lab-smime-ca.pem")
        Path(self.smime_ca_file).write_text(self.cas[TRUSTED_CA].pem)
        self._tls_contexts: dict[str, ssl.SSLContext] = {}

    @property
    def ca(self) -> CA:
        return self.cas[TRUSTED_CA]

    def web_cas(self) -> list[CA]:
        """The CAs that issue web (TLS) certificates: what a CT log accepts (the firm's usual CA, a
        second one its policy allows, and one it never uses)."""
        return [self.cas[TRUSTED_CA], self.cas[SECOND_CA], self.cas[UNEXPECTED_CA]]

    @property
    def ca_cert_pem(self) -> str:
        """The TLS roots, so a client trusting this file accepts certificates from either web CA."""
        return "".join(ca.pem for ca in self.web_cas())

    def next_serial(self) -> int:
        with self._lock:
            self._serial += 1
            return self._serial

    # --- certificates -------------------------------------------------------------------------

    def issue(self, names: list[str], issuer: str = TRUSTED_CA, precert: bool = False,
              not_before: dt.datetime | None = None, days: int = 90) -> Issued:
        """A leaf certificate (or precertificate) for `names` (first name is the CN) via `cryptography`."""
        ca = self.cas[issuer]
        nb = not_before or dt.datetime.now(UTC) - dt.timedelta(minutes=5)
        cn = names[0] if len(names[0]) <= 64 else names[0][:64]
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(ca.cert.subject)
            .public_key(self.leaf_key.public_key())
            .serial_number(self.next_serial())
            .not_valid_before(nb)
            .not_valid_after(nb + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        )
        final = builder.sign(ca.key, hashes.SHA256())
        if not precert:
            return Issued(final.public_bytes(serialization.Encoding.DER), final.tbs_certificate_bytes,
                          False, ca)
        # The precertificate is the same TBSCertificate plus the critical poison extension; the CT
        # entry commits to the TBS *without* it, which is exactly the final certificate's TBS.
        pre = builder.add_extension(x509.UnrecognizedExtension(CT_POISON_OID, b"\x05\x00"),
                                    critical=True).sign(ca.key, hashes.SHA256())
        return Issued(pre.public_bytes(serialization.Encoding.DER), final.tbs_certificate_bytes, True, ca)

    def fast_leaf(self, names: list[str], serial: int, not_before: dt.datetime,
                  issuer: str = TRUSTED_CA, precert: bool = False, days: int = 90) -> Issued:
        """Same as `issue()` for a plain leaf, with the TBS assembled by hand (about 10x faster)."""
        ca = self.cas[issuer]
        cn = names[0][:64].encode()
        subject = _tlv(0x30, _tlv(0x31, _tlv(0x30, _OID_CN + _tlv(0x0C, cn))))
        validity = _tlv(0x30, _utctime(not_before) + _utctime(not_before + dt.timedelta(days=days)))
        san = _tlv(0x30, b"".join(_tlv(0x82, n.encode()) for n in names))
        san_ext = _tlv(0x30, _OID_SAN + _tlv(0x04, san))
        head = _VERSION3 + _int(serial) + _ECDSA_SHA256 + ca.subject_der + validity + subject + self._leaf_spki
        tbs = _tlv(0x30, head + _tlv(0xA3, _tlv(0x30, san_ext)))
        signed_tbs = _tlv(0x30, head + _tlv(0xA3, _tlv(0x30, san_ext + _POISON_EXT))) if precert else tbs
        sig = ca.key.sign(signed_tbs, ec.ECDSA(hashes.SHA256()))
        cert = _tlv(0x30, signed_tbs + _ECDSA_SHA256 + _tlv(0x03, b"\x00" + sig))
        return Issued(cert, tbs, precert, ca)

    # --- mail: BIMI mark certificates and S/MIME ---------------------------------------------------

    def issue_mark_certificate(self, domain: str, svg: bytes, *, organization: str = "Hoshizora Securities Co., Ltd.",
                               mark_type: str = "Registered Mark", issuer: str = MARK_CA,
                               not_before: dt.datetime | None = None, days: int = 365,
                               logo_in_certificate: bytes | None = None, bimi_eku: bool = True) -> str:
        """A VMC (or CMC, ``mark_type="Prior Use Mark"``) for ``domain`` proving ``svg``: PEM of the leaf
        and its issuer, as a firm publishes it at its BIMI ``a=`` URL.

        The logotype extension (RFC 3709) embeds ``logo_in_certificate`` (default ``svg``), gzip-compressed
        in a data: URI with its SHA-256 over the LF-canonical SVG (RFC 6170 section 5.2).
        """
        ca = self.cas[issuer]
        key = ec.generate_private_key(ec.SECP256R1())
        nb = not_before or dt.datetime.now(UTC) - dt.timedelta(days=30)
        subject = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Tokyo"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "Chiyoda-ku"),
            x509.NameAttribute(NameOID.STREET_ADDRESS, "1-1 Marunouchi"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.BUSINESS_CATEGORY, "Private Organization"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, "0100-01-999999"),
            x509.NameAttribute(NameOID.JURISDICTION_COUNTRY_NAME, "JP"),
            x509.NameAttribute(OID_MARK_TYPE, mark_type),
            *([x509.NameAttribute(OID_TRADEMARK_COUNTRY, "JP"), x509.NameAttribute(OID_TRADEMARK_OFFICE, "JPO"),
               x509.NameAttribute(OID_TRADEMARK_ID, "9999999")] if "Registered" in mark_type else
              [x509.NameAttribute(OID_PRIOR_USE_SOURCE, f"https://www.{domain}/about/logo")]),
            x509.NameAttribute(NameOID.COMMON_NAME, organization[:64]),
        ])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(ca.cert.subject)
            .public_key(key.public_key())
            .serial_number(self.next_serial())
            .not_valid_before(nb).not_valid_after(nb + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.UnrecognizedExtension(OID_LOGOTYPE, logotype_extension(logo_in_certificate or svg)),
                           critical=False)
        )
        if bimi_eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage([OID_KP_BIMI]), critical=False)
        cert = builder.sign(ca.key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM).decode() + ca.pem

    def issue_smime(self, address: str, *, issuer: str = TRUSTED_CA, not_before: dt.datetime | None = None,
                    days: int = 365) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        """An S/MIME certificate for ``address`` (extended key usage emailProtection) and its key."""
        ca = self.cas[issuer]
        key = ec.generate_private_key(ec.SECP256R1())
        nb = not_before or dt.datetime.now(UTC) - dt.timedelta(days=30)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hoshizora Securities Co., Ltd."),
                                     x509.NameAttribute(NameOID.EMAIL_ADDRESS, address)]))
            .issuer_name(ca.cert.subject)
            .public_key(key.public_key())
            .serial_number(self.next_serial())
            .not_valid_before(nb).not_valid_after(nb + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(address)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .sign(ca.key, hashes.SHA256())
        )
        return cert, key
    def signer(self, email: str, org: str) -> tuple[str, str]:
        """A document-signing (S/MIME) certificate and its own key (ECDSA P-256) from the lab CA, as PEM
        files: what a firm's signing certificate is for its mail and its evidence manifests."""
        key = ec.generate_private_key(ec.SECP256R1())
        nb = dt.datetime.now(UTC) - dt.timedelta(minutes=5)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                                         x509.NameAttribute(NameOID.COMMON_NAME, email),
                                         x509.NameAttribute(NameOID.EMAIL_ADDRESS, email)]))
                .issuer_name(self.ca.cert.subject).public_key(key.public_key()).serial_number(self.next_serial())
                .not_valid_before(nb).not_valid_after(nb + dt.timedelta(days=365))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                             crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
                .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
                .sign(self.ca.key, hashes.SHA256()))
        base = Path(self._dir.name) / f"signer-{email.replace('@', '_at_')}"
        cert_path, key_path = f"{base}.crt", f"{base}.key"
        Path(cert_path).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        Path(key_path).write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
        return cert_path, key_path

    # --- TLS for the web server --------------------------------------------------------------

    def tls_context_for(self, host: str, extra_names: tuple[str, ...] = ()) -> ssl.SSLContext:
        """A server context with a lab-CA certificate for `host` (cached; files live in a temp dir)."""
        host = host.lower().rstrip(".")
        with self._lock:
            ctx = self._tls_contexts.get(host)
        if ctx is not None:
            return ctx
        issued = self.issue([host, *extra_names], days=30)
        base = Path(self._dir.name) / hashlib.sha256(host.encode()).hexdigest()[:16]
        cert_pem = x509.load_der_x509_certificate(issued.cert_der).public_bytes(serialization.Encoding.PEM)
        base.with_suffix(".crt").write_bytes(cert_pem + issued.issuer.cert.public_bytes(serialization.Encoding.PEM))
        base.with_suffix(".key").write_bytes(self.leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(base.with_suffix(".crt")), str(base.with_suffix(".key")))
        ctx.set_alpn_protocols(["http/1.1"])
        ctx.sni_callback = self._pick_by_sni
        with self._lock:
            self._tls_contexts[host] = ctx
        return ctx

    def _pick_by_sni(self, sslobj: ssl.SSLObject, server_name: str | None, _ctx: ssl.SSLContext) -> None:
        """Every per-host context switches to the certificate of the SNI name the client asked for."""
        if server_name:
            sslobj.context = self.tls_context_for(server_name)

    def client_context(self) -> ssl.SSLContext:
        """A client context trusting the lab CAs (for tests and lab-internal clients)."""
        return ssl.create_default_context(cafile=self.ca_file)

    def close(self) -> None:
        self._dir.cleanup()
