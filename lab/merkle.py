"""An RFC 6962 / RFC 9162 Merkle tree kept as levels of complete-subtree hashes.

`levels[k][i]` is the hash of the complete subtree of 2**k leaves starting at leaf i * 2**k, so a
static-ct-api tile at level L is simply a slice of `levels[8 * L]`, and any MTH(D[a:b]) over an
aligned range is a lookup. Proofs follow the recursive definitions of RFC 6962 section 2.1.
"""

from __future__ import annotations

import hashlib
import threading

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    def __init__(self) -> None:
        self.levels: list[list[bytes]] = [[]]
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.levels[0])

    def append_hash(self, lh: bytes) -> int:
        """Add a leaf by its leaf hash; returns its index."""
        with self._lock:
            index = len(self.levels[0])
            self.levels[0].append(lh)
            level, i, h = 0, index, lh
            while i & 1:  # we just completed a right child: its parent is now complete too
                h = node_hash(self.levels[level][i - 1], h)
                level += 1
                i >>= 1
                if level == len(self.levels):
                    self.levels.append([])
                self.levels[level].append(h)
            return index

    def append(self, data: bytes) -> int:
        return self.append_hash(leaf_hash(data))

    def subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for the ranges the RFC recursion produces (start aligned to the split)."""
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0 and start % n == 0:
            return self.levels[n.bit_length() - 1][start // n]
        k = _split(n)
        return node_hash(self.subtree(start, start + k), self.subtree(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        size = len(self) if size is None else size
        if size > len(self):
            raise ValueError("size beyond the tree")
        return self.subtree(0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(m, D[n]) of RFC 6962 2.1.1."""
        if not 0 <= index < size <= len(self):
            raise ValueError("index outside the tree")
        return self._path(index, 0, size)

    def _path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = _split(n)
        if m < k:
            return [*self._path(m, start, start + k), self.subtree(start + k, end)]
        return [*self._path(m - k, start + k, end), self.subtree(start, start + k)]

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """PROOF(m, D[n]) of RFC 6962 2.1.2."""
        if not 0 <= first <= second <= len(self):
            raise ValueError("sizes outside the tree")
        if first == 0 or first == second:
            return []
        return self._subproof(first, 0, second, True)

    def _subproof(self, m: int, start: int, end: int, b: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if b else [self.subtree(start, end)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, b), self.subtree(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self.subtree(start, start + k)]

    def tile(self, level: int, index: int, width: int = 256) -> bytes:
        """static-ct-api hash tile: `width` hashes of level `level` starting at tile `index`."""
        row = self.levels[8 * level] if 8 * level < len(self.levels) else []
        hashes = row[index * 256: index * 256 + width]
        if len(hashes) != width:
            raise KeyError("tile not available")
        return b"".join(hashes)
