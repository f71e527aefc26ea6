"""RFC 6962 / RFC 9162 Merkle tree hashing and proofs, and tree heads: what a monitor must verify.

Pure functions over bytes. The consistency check follows RFC 9162 section 2.1.4.2; tree-head
signatures are TLS ``DigitallySigned`` structs (SHA-256 with ECDSA P-256 or RSA), RFC 6962 3.5.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

EMPTY_ROOT = hashlib.sha256(b"").digest()


class VerificationError(Exception):
    """A tree head, proof or tile that does not verify: the log is misbehaving (or forged)."""


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


@dataclass(frozen=True)
class TreeHead:
    size: int
    timestamp: int  # ms since the epoch
    root: bytes
    signature: bytes  # DigitallySigned

    @property
    def root_b64(self) -> str:
        return base64.b64encode(self.root).decode()


def tree_head_input(timestamp: int, size: int, root: bytes) -> bytes:
    """TreeHeadSignature: version v1 (0), signature_type tree_hash (1), timestamp, tree_size, root."""
    return b"\x00\x01" + struct.pack(">QQ", timestamp, size) + root


def load_key(der: bytes) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    key = serialization.load_der_public_key(der)
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise VerificationError(f"unsupported log key type {type(key).__name__}")
    return key


def verify_digitally_signed(key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey, signed: bytes, data: bytes) -> None:
    if len(signed) < 4:
        raise VerificationError("signature too short")
    hash_alg, sig_alg, length = signed[0], signed[1], struct.unpack(">H", signed[2:4])[0]
    sig = signed[4:]
    if hash_alg != 4 or len(sig) != length:
        raise VerificationError(f"malformed DigitallySigned (hash {hash_alg}, length {length}/{len(sig)})")
    try:
        if sig_alg == 3 and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, data, ec.ECDSA(hashes.SHA256()))
        elif sig_alg == 1 and isinstance(key, rsa.RSAPublicKey):
            key.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise VerificationError(f"signature algorithm {sig_alg} does not fit the log key")
    except InvalidSignature:
        raise VerificationError("tree head signature does not verify with the log's key") from None


def verify_tree_head(key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey, head: TreeHead) -> None:
    verify_digitally_signed(key, head.signature, tree_head_input(head.timestamp, head.size, head.root))


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]) -> None:
    """RFC 9162 2.1.4.2; raises VerificationError when the two heads are not of one append-only tree."""
    if first > second:
        raise VerificationError(f"tree shrank from {first} to {second}")
    if first == second:
        if first_root != second_root or proof:
            raise VerificationError(f"two different roots for tree size {first}")
        return
    if first == 0:
        return
    if not proof:
        raise VerificationError("empty consistency proof")
    if first & (first - 1) == 0:
        proof = [first_root, *proof]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise VerificationError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != first_root or sr != second_root:
        raise VerificationError(f"consistency proof from {first} to {second} does not verify")


def root_from_subtrees(subtrees: list[bytes]) -> bytes:
    """MTH from the hashes of the complete subtrees of a tree, largest (leftmost) first."""
    if not subtrees:
        return EMPTY_ROOT
    h = subtrees[-1]
    for left in reversed(subtrees[:-1]):
        h = node_hash(left, h)
    return h


def subtree_ranges(size: int) -> list[tuple[int, int]]:
    """The complete subtrees of a tree of ``size`` leaves as (level, index at that level), left to right."""
    out = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size & (1 << level):
            out.append((level, start >> level))
            start += 1 << level
    return out


def reduce_level(hashes: list[bytes]) -> bytes:
    """The hash of a complete subtree from its 2**k hashes one level down (or more)."""
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


class CompactRange:
    """The complete subtrees of the tree's first ``size`` leaves, left to right (a "collapsed tree").

    What certspotter keeps with its download position: appending leaf hashes one by one gives the
    root of every prefix of the tree, so each entry read is checked against a signed tree head
    without trusting the log for anything but the entries themselves. At most 64 hashes.
    """

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: list[bytes] | None = None) -> None:
        hashes = list(hashes or [])
        if len(hashes) != size.bit_count() or any(len(h) != 32 for h in hashes):
            raise VerificationError(f"a compact range of size {size} needs {size.bit_count()} hashes of 32 bytes")
        self.size = size
        self.hashes = hashes

    def append(self, leaf: bytes) -> None:
        self.hashes.append(leaf)
        self.size += 1
        # Each trailing 1-bit that the increment turned into a carry merges two equal subtrees.
        carries = (self.size & -self.size).bit_length() - 1
        for _ in range(carries):
            right = self.hashes.pop()
            left = self.hashes.pop()
            self.hashes.append(node_hash(left, right))

    def root(self) -> bytes:
        return root_from_subtrees(self.hashes)

    def copy(self) -> CompactRange:
        return CompactRange(self.size, list(self.hashes))

    def to_json(self) -> list[str]:
        return [base64.b64encode(h).decode() for h in self.hashes]

    @classmethod
    def from_json(cls, size: int, hashes: list[str]) -> CompactRange:
        try:
            return cls(size, [base64.b64decode(h, validate=True) for h in hashes])
        except (ValueError, TypeError) as e:
            raise VerificationError(f"stored compact range is unreadable: {e}") from None

    @classmethod
    def from_inclusion_proof(cls, index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> CompactRange:
        """The range [0, index + 1) from leaf ``index``'s audit path in a tree of ``size`` leaves: its
        left siblings are exactly the complete subtrees of [0, index). The path is checked against
        ``root`` first, so the range is as trustworthy as the signed head that gave the root."""
        if not 0 <= index < size:
            raise VerificationError(f"leaf {index} is not in a tree of {size}")
        sides = _audit_sides(index, 0, size)  # bottom-up, as the proof is ordered
        if len(sides) != len(proof):
            raise VerificationError(f"inclusion proof for {index} in {size} has {len(proof)} hashes, expected {len(sides)}")
        h = leaf
        lefts: list[bytes] = []
        for side, sibling in zip(sides, proof, strict=True):
            if side == "left":
                h = node_hash(sibling, h)
                lefts.append(sibling)
            else:
                h = node_hash(h, sibling)
        if h != root:
            raise VerificationError(f"inclusion proof for entry {index} does not verify against the tree head")
        out = cls(index, list(reversed(lefts)))
        out.append(leaf)
        return out


def _audit_sides(m: int, lo: int, hi: int) -> list[str]:
    """For leaf ``m`` in the RFC 6962 tree over [lo, hi): which side each audit-path sibling is on, bottom-up."""
    out: list[str] = []
    while hi - lo > 1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)  # largest power of two below the width
        if m < lo + k:
            out.append("right")
            hi = lo + k
        else:
            out.append("left")
            lo = lo + k
    return list(reversed(out))
