"""Independent RFC 9162 / RFC 6962 verifiers, written from the RFC text for the tests (not lab code).

RFC 9162 section 2.1.3.2 (verifying an inclusion proof) and 2.1.4.2 (verifying a consistency proof),
plus a TLS reader for MerkleTreeLeaf, so the lab's encodings are checked by a second implementation.
"""

from __future__ import annotations

import hashlib
import struct


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: list[bytes]) -> bool:
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path
    if first > second or not path:
        return False
    if first & (first - 1) == 0:  # first is an exact power of 2: prepend first_root
        path = [first_root, *path]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


class Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def opaque(self, len_bytes: int) -> bytes:
        return self.take(self.uint(len_bytes))

    def done(self) -> bool:
        return self.pos == len(self.data)


def parse_timestamped_entry(r: Reader) -> dict[str, object]:
    ts = r.uint(8)
    entry_type = r.uint(2)
    out: dict[str, object] = {"timestamp": ts, "entry_type": entry_type}
    if entry_type == 0:
        out["cert"] = r.opaque(3)
    elif entry_type == 1:
        out["issuer_key_hash"] = r.take(32)
        out["tbs"] = r.opaque(3)
    else:
        raise ValueError("unknown entry type")
    out["extensions"] = r.opaque(2)
    return out


def parse_leaf(leaf_input: bytes) -> dict[str, object]:
    r = Reader(leaf_input)
    version, leaf_type = r.uint(1), r.uint(1)
    assert (version, leaf_type) == (0, 0)
    out = parse_timestamped_entry(r)
    assert r.done()
    return out


def sth_input(timestamp: int, size: int, root: bytes) -> bytes:
    return struct.pack(">BBQQ", 0, 1, timestamp, size) + root
