"""CT entries: the TLS encodings of RFC 6962 and static-ct-api, and the certificates inside them.

``parse_leaf`` / ``parse_tile`` turn raw log bytes into ``Entry`` (index, timestamp, precert flag,
the DER to read names from); ``names`` reads every DNS name (SAN and CN) with ``cryptography``;
``details`` reads the facts kept for a match (issuer, dates, serial, poison, SCT count). The two are
split because only a handful of entries match: the full read is done for those only.
Anything malformed raises ``EntryError``; the reader records it and goes on.
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
    """An entry that cannot be decoded; the message says what is wrong."""


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
            except ValueError as e:
                raise EntryError(f"entry {self.index}: certificate does not parse: {e}") from None
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
    """Every DNS name of the certificate: SAN dNSNames, then the subject CN if it is not among them."""
    cert = entry.cert()
    out: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        out = [n for n in san.value.get_values_for_type(x509.DNSName) if isinstance(n, str)]
    except x509.ExtensionNotFound:
        pass
    except ValueError as e:
        raise EntryError(f"entry {entry.index}: bad extensions: {e}") from None
    try:
        for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME):
            cn = attr.value if isinstance(attr.value, str) else attr.value.decode("utf-8", "replace")
            if cn and cn not in out and "." in cn and " " not in cn:
                out.append(cn)
    except ValueError as e:
        raise EntryError(f"entry {entry.index}: bad subject: {e}") from None
    return out


def _name_attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    attrs = name.get_attributes_for_oid(oid)
    if not attrs:
        return ""
    v = attrs[0].value
    return v if isinstance(v, str) else v.decode("utf-8", "replace")


def details(entry: Entry) -> dict[str, Any]:
    """The facts kept with a match (JSON-able)."""
    cert = entry.cert()
    facts: dict[str, Any] = {"precert": entry.precert, "entry_timestamp": _ms(entry.timestamp)}
    try:
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
    except ValueError as e:  # a certificate broken beyond its names: keep what we have
        facts["parse_error"] = str(e)[:200]
    return facts


def _ms(ts: int) -> str:
    try:
        return datetime.fromtimestamp(ts / 1000, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return ""
