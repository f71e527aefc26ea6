"""TLS-style encodings of RFC 6962 and the C2SP static-ct-api (pure functions, no I/O).

Every entry carries the static-ct-api `leaf_index` CtExtension, because one tree serves both APIs:
the RFC 6962 `leaf_input` and the static-ct-api data tile describe the same MerkleTreeLeaf.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass

X509_ENTRY = 0
PRECERT_ENTRY = 1


def u16(n: int) -> bytes:
    return struct.pack(">H", n)


def u24(n: int) -> bytes:
    return n.to_bytes(3, "big")


def u64(n: int) -> bytes:
    return struct.pack(">Q", n)


def opaque24(data: bytes) -> bytes:
    return u24(len(data)) + data


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(slots=True)
class LogEntry:
    """What the log stores per entry; encodings are derived on demand."""

    index: int
    timestamp: int  # milliseconds since the epoch
    precert: bool
    cert_der: bytes  # the certificate, or the precertificate (with poison) when `precert`
    tbs_der: bytes  # precert only: the TBSCertificate without poison
    issuer_key_hash: bytes
    issuer_der: bytes
    names: tuple[str, ...] = ()


def leaf_index_extension(index: int) -> bytes:
    """CtExtensions holding only `leaf_index` (static-ct-api): 8 bytes after the u16 length."""
    ext = bytes([0]) + u16(5) + index.to_bytes(5, "big")
    return u16(len(ext)) + ext


def timestamped_entry(e: LogEntry) -> bytes:
    if e.precert:
        signed = u16(PRECERT_ENTRY) + e.issuer_key_hash + opaque24(e.tbs_der)
    else:
        signed = u16(X509_ENTRY) + opaque24(e.cert_der)
    return u64(e.timestamp) + signed + leaf_index_extension(e.index)


def merkle_tree_leaf(e: LogEntry) -> bytes:
    """MerkleTreeLeaf: version v1 (0), leaf_type timestamped_entry (0), TimestampedEntry."""
    return b"\x00\x00" + timestamped_entry(e)


def extra_data(e: LogEntry) -> bytes:
    """get-entries extra_data: the chain (X509ChainEntry / PrecertChainEntry without the leaf)."""
    chain = opaque24(e.issuer_der)
    if e.precert:
        return opaque24(e.cert_der) + opaque24(chain)
    return opaque24(chain)


def tile_leaf(e: LogEntry) -> bytes:
    """static-ct-api TileLeaf: TimestampedEntry, [pre_certificate], issuer fingerprints."""
    out = timestamped_entry(e)
    if e.precert:
        out += opaque24(e.cert_der)
    fps = hashlib.sha256(e.issuer_der).digest()
    return out + u16(len(fps)) + fps


def tree_head_signature_input(timestamp: int, size: int, root: bytes) -> bytes:
    """TreeHeadSignature: version v1, signature_type tree_hash (1), timestamp, tree_size, root."""
    return b"\x00\x01" + u64(timestamp) + u64(size) + root


def digitally_signed(der_signature: bytes) -> bytes:
    """DigitallySigned with hash sha256 (4) and signature ecdsa (3)."""
    return b"\x04\x03" + u16(len(der_signature)) + der_signature


def tile_path(n: int) -> str:
    """static-ct-api index encoding: 1234067 -> x001/x234/067."""
    s = f"{n:03d}"
    s = "0" * (-len(s) % 3) + s
    groups = [s[i:i + 3] for i in range(0, len(s), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def parse_tile_path(parts: list[str]) -> tuple[int, int | None]:
    """Path elements after the level (['x001', '234.p', '5'] style handled by the caller) -> (N, W)."""
    width: int | None = None
    if len(parts) >= 2 and parts[-2].endswith(".p"):
        width = int(parts[-1])
        parts = [*parts[:-2], parts[-2][:-2]]
        if not 1 <= width <= 255:
            raise ValueError("bad width")
    if not parts or any(not p.startswith("x") for p in parts[:-1]) or parts[-1].startswith("x"):
        raise ValueError("bad tile index")
    digits = [p[1:] for p in parts[:-1]] + [parts[-1]]
    if any(len(d) != 3 or not d.isdigit() for d in digits):
        raise ValueError("bad tile index")
    return int("".join(digits)), width


def sct_signature_input(e: LogEntry) -> bytes:
    """RFC 6962 3.2 digitally-signed struct of an SCT: v1, certificate_timestamp, then the entry."""
    return b"\x00\x00" + timestamped_entry(e)


# --- minimal DER walking, to take the poison extension out of a submitted precertificate ------------

def _der_header(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content_start, content_end) of the TLV at `pos`."""
    tag, first = data[pos], data[pos + 1]
    if first < 0x80:
        return tag, pos + 2, pos + 2 + first
    n = first & 0x7F
    length = int.from_bytes(data[pos + 2:pos + 2 + n], "big")
    return tag, pos + 2 + n, pos + 2 + n + length


def _der_children(data: bytes, start: int, end: int) -> list[bytes]:
    out, pos = [], start
    while pos < end:
        _, _, stop = _der_header(data, pos)
        out.append(data[pos:stop])
        pos = stop
    return out


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(content)) + content


POISON_OID_DER = bytes.fromhex("060a2b06010401d679020403")


def tbs_of(cert_der: bytes) -> bytes:
    """The TBSCertificate of a DER certificate: the first element of its outer SEQUENCE."""
    _, start, end = _der_header(cert_der, 0)
    children = _der_children(cert_der, start, min(end, len(cert_der)))
    if not children:
        raise ValueError("empty certificate")
    return children[0]


def tbs_without_poison(tbs: bytes) -> bytes:
    """The TBSCertificate of a precertificate with the CT poison extension removed (RFC 6962 3.2)."""
    _, start, end = _der_header(tbs, 0)
    fields = _der_children(tbs, start, end)
    rebuilt = []
    for f in fields:
        if f[0] == 0xA3:  # [3] EXPLICIT Extensions
            _, s, _end = _der_header(f, 0)
            _, s2, e2 = _der_header(f, s)
            exts = [x for x in _der_children(f, s2, e2) if POISON_OID_DER not in x[:16]]
            f = _der(0xA3, _der(0x30, b"".join(exts)))
        rebuilt.append(f)
    return _der(0x30, b"".join(rebuilt))
