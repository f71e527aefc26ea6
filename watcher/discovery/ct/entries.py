"""CT entries: the TLS encodings of RFC 6962 and static-ct-api, and the certificates inside them.

``parse_leaf`` / ``parse_tile`` turn raw log bytes into ``Entry`` (index, timestamp, precert flag,
the DER to read names from); ``names`` reads every DNS name (SAN and CN) with ``cryptography``;
``details`` reads the facts kept for a match (issuer, dates, serial, poison, SCT count). The two are
split because only a handful of entries match: the full read is done for those only.
Anything malformed raises ``EntryError``; the reader records it and goes on. Certificates in logs are
hostile input (any byte string a CA once signed, or a log once accepted): the reader also turns any
other exception raised while reading one entry into an ``EntryError`` for that entry alone.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

X509_ENTRY = 0
PRECERT_ENTRY = 1
POISON_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.3")
SCT_LIST_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")


class EntryError(ValueError):
    """An entry that cannot be decoded; the message says what is wrong.

    ``index`` and ``der`` (the certificate bytes, when they could be found) travel with it so the
    reader can record the bad entry and keep the bytes as evidence; ``leaf_hash`` lets an RFC 6962
    batch be verified against the tree even when an entry inside it does not parse."""

    def __init__(self, message: str, *, index: int | None = None, der: bytes = b"", leaf_hash: bytes = b"") -> None:
        super().__init__(message)
        self.index = index
        self.der = der
        self.leaf_hash = leaf_hash


@dataclass(slots=True)
class Entry:
    index: int
    timestamp: int  # ms since the epoch (the log's SCT timestamp)
    precert: bool
    cert_der: bytes  # the certificate, or the precertificate (with the poison extension)
    leaf_hash: bytes = b""  # MerkleTreeLeaf hash, when the caller asked for it
    _cert: x509.Certificate | None = None

    def cert(self) -> x509.Certificate:
        if self._cert is None:
            try:
                self._cert = x509.load_der_x509_certificate(self.cert_der)
            except Exception as e:  # cryptography raises ValueError, InvalidVersion, ...
                raise EntryError(f"entry {self.index}: certificate does not parse: {type(e).__name__}: {e}",
                                 index=self.index, der=self.cert_der) from None
        return self._cert


def _u24(b: bytes, off: int) -> int:
    return int.from_bytes(b[off:off + 3], "big")


def _opaque24(b: bytes, off: int) -> tuple[bytes, int]:
    if off + 3 > len(b):
        raise EntryError("truncated length")
    n = _u24(b, off)
    end = off + 3 + n
    if end > len(b):
        raise EntryError("truncated data")
    return b[off + 3:end], end


def _timestamped(b: bytes, off: int) -> tuple[int, int, bytes, int]:
    """TimestampedEntry at ``off`` -> (timestamp, entry_type, signed cert or TBS, end offset)."""
    if off + 10 > len(b):
        raise EntryError("truncated TimestampedEntry")
    ts, etype = struct.unpack_from(">QH", b, off)
    off += 10
    if etype == X509_ENTRY:
        body, off = _opaque24(b, off)
    elif etype == PRECERT_ENTRY:
        off += 32  # issuer_key_hash
        body, off = _opaque24(b, off)
    else:
        raise EntryError(f"unknown entry type {etype}")
    if off + 2 > len(b):
        raise EntryError("truncated extensions")
    off += 2 + struct.unpack_from(">H", b, off)[0]
    if off > len(b):
        raise EntryError("truncated extensions")
    return ts, etype, body, off


def parse_leaf(index: int, leaf_input: bytes, extra_data: bytes, *, want_hash: bool = False) -> Entry:
    """An RFC 6962 get-entries item: MerkleTreeLeaf + extra_data (the chain; for precerts, the precert)."""
    if len(leaf_input) < 2 or leaf_input[0] != 0 or leaf_input[1] != 0:
        raise EntryError(f"entry {index}: not a v1 timestamped_entry leaf")
    ts, etype, body, end = _timestamped(leaf_input, 2)
    if end != len(leaf_input):
        raise EntryError(f"entry {index}: {len(leaf_input) - end} trailing bytes in the leaf")
    precert = etype == PRECERT_ENTRY
    der = _opaque24(extra_data, 0)[0] if precert else body
    lh = hashlib.sha256(b"\x00" + leaf_input).digest() if want_hash else b""
    return Entry(index, ts, precert, der, lh)


def parse_tile(data: bytes, first_index: int, count: int, *, want_hash: bool = False) -> list[Entry | EntryError]:
    """A static-ct-api data tile: ``count`` TileLeaf structs. A bad leaf that keeps the framing is
    returned as an EntryError in its place; broken framing raises (the rest cannot be found)."""
    out: list[Entry | EntryError] = []
    off = 0
    for i in range(count):
        index = first_index + i
        start = off
        ts, etype, body, off = _timestamped(data, off)
        te = data[start:off]
        precert = etype == PRECERT_ENTRY
        der = body
        if precert:
            der, off = _opaque24(data, off)
        if off + 2 > len(data):
            raise EntryError(f"entry {index}: truncated chain fingerprints")
        n = struct.unpack_from(">H", data, off)[0]
        off += 2 + n
        if off > len(data) or n % 32:
            raise EntryError(f"entry {index}: bad chain fingerprints")
        lh = hashlib.sha256(b"\x00\x00\x00" + te).digest() if want_hash else b""
        out.append(Entry(index, ts, precert, der, lh))
    if off != len(data):
        raise EntryError(f"data tile at {first_index}: {len(data) - off} trailing bytes")
    return out


def names(entry: Entry) -> list[str]:
    """Every DNS name of the certificate: SAN dNSNames, then the subject CN if it is not among them.
    A certificate ``cryptography`` refuses raises ``EntryError`` (the reader then records it as a bad
    entry and still matches what ``lenient_dns_names`` finds in its bytes)."""
    cert = entry.cert()
    out: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        out = [n for n in san.value.get_values_for_type(x509.DNSName) if isinstance(n, str)]
    except x509.ExtensionNotFound:
        pass
    except Exception as e:  # ValueError, DuplicateExtension, UnsupportedGeneralNameType, ...
        raise EntryError(f"entry {entry.index}: bad extensions: {type(e).__name__}: {e}",
                         index=entry.index, der=entry.cert_der) from None
    try:
        for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME):
            cn = attr.value if isinstance(attr.value, str) else attr.value.decode("utf-8", "replace")
            if cn and cn not in out and "." in cn and " " not in cn:
                out.append(cn)
    except Exception as e:
        raise EntryError(f"entry {entry.index}: bad subject: {type(e).__name__}: {e}",
                         index=entry.index, der=entry.cert_der) from None
    return out


# --- a lenient reader of the SAN extension, for certificates cryptography refuses as a whole -------

_SAN_OID_DER = bytes.fromhex("0603551d11")  # OBJECT IDENTIFIER 2.5.29.17


def _tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``pos``; ValueError when it does not fit."""
    if pos + 2 > end:
        raise ValueError("truncated element")
    tag, first = data[pos], data[pos + 1]
    if first < 0x80:
        start, length = pos + 2, first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + 2 + n > end:
            raise ValueError("bad length")
        start, length = pos + 2 + n, int.from_bytes(data[pos + 2:pos + 2 + n], "big")
    if start + length > end:
        raise ValueError("element overruns its parent")
    return tag, start, start + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    out = []
    pos = start
    while pos < end:
        tag, s, e = _tlv(data, pos, end)
        out.append((tag, pos, s, e))
        pos = e
    return out


def lenient_dns_names(der: bytes) -> list[str] | None:
    """The dNSNames of every SAN extension, read straight from the DER; None when the structure up
    to the extensions is itself broken (then there is nothing to read). Duplicated extensions are all
    read; names that are not ASCII are skipped (a dNSName is an IA5String)."""
    try:
        _, s, e = _tlv(der, 0, len(der))
        tbs = _children(der, s, e)[0]
        if tbs[0] != 0x30:
            return None
        for tag, _pos, ts, te in _children(der, tbs[2], tbs[3]):
            if tag != 0xA3:
                continue
            _, ss, se = _tlv(der, ts, te)  # [3] EXPLICIT Extensions ::= SEQUENCE OF Extension
            names: list[str] = []
            for _t, _p, xs, xe in _children(der, ss, se):
                parts = _children(der, xs, xe)
                if not parts or der[parts[0][1]:parts[0][3]] != _SAN_OID_DER:
                    continue
                octets = parts[-1]
                if octets[0] != 0x04:
                    continue
                _, gs, ge = _tlv(der, octets[2], octets[3])  # GeneralNames ::= SEQUENCE OF GeneralName
                for gtag, _gp, vs, ve in _children(der, gs, ge):
                    if gtag == 0x82:  # [2] IMPLICIT IA5String: dNSName
                        value = der[vs:ve]
                        if value.isascii():
                            names.append(value.decode("ascii"))
            return list(dict.fromkeys(names))
        return []
    except (ValueError, IndexError):
        return None


def _name_attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    attrs = name.get_attributes_for_oid(oid)
    if not attrs:
        return ""
    v = attrs[0].value
    return v if isinstance(v, str) else v.decode("utf-8", "replace")


def details(entry: Entry) -> dict[str, Any]:
    """The facts kept with a match (JSON-able); as many as a broken certificate still gives."""
    facts: dict[str, Any] = {"precert": entry.precert, "entry_timestamp": _ms(entry.timestamp),
                             "sha256": hashlib.sha256(entry.cert_der).hexdigest()}
    try:
        cert = entry.cert()
        facts["issuer"] = _name_attr(cert.issuer, NameOID.COMMON_NAME) or cert.issuer.rfc4514_string()
        facts["issuer_org"] = _name_attr(cert.issuer, NameOID.ORGANIZATION_NAME)
        facts["not_before"] = cert.not_valid_before_utc.isoformat()
        facts["not_after"] = cert.not_valid_after_utc.isoformat()
        facts["serial"] = format(cert.serial_number, "x")
        oids = {e.oid for e in cert.extensions}
        facts["poison"] = POISON_OID in oids
        if SCT_LIST_OID in oids:
            scts = cert.extensions.get_extension_for_oid(SCT_LIST_OID).value
            facts["scts"] = len(list(scts)) if hasattr(scts, "__iter__") else 1
        facts["sha256"] = hashlib.sha256(entry.cert_der).hexdigest()
    except Exception as e:  # a certificate broken beyond its names: keep what we have
        facts["parse_error"] = str(e)[:200]
    return facts


def _ms(ts: int) -> str:
    try:
        return datetime.fromtimestamp(ts / 1000, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return ""
