"""The C2SP static-ct-api read side: the signed checkpoint, hash tiles and data tiles.

A checkpoint is a signed note (c2sp.org/signed-note) whose body is ``origin\\nsize\\nroot\\n`` and
whose RFC6962NoteSignature is key ID (4 bytes) + timestamp (u64) + a TLS DigitallySigned over the
RFC 6962 TreeHeadSignature. There is no consistency endpoint: the root of any earlier size is
recomputed from today's tiles (they are immutable), and so is the checkpoint's own root. Entries
come from 256-entry data tiles and each entry's leaf hash is checked against the level-0 hash tile.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

from watcher.discovery.ct.client import LogClient, LogUnavailable
from watcher.discovery.ct.entries import Entry, EntryError, parse_tile
from watcher.discovery.ct.merkle import (
    TreeHead,
    VerificationError,
    load_key,
    reduce_level,
    root_from_subtrees,
    subtree_ranges,
    tree_head_input,
    verify_digitally_signed,
)

TILE = 256


def tile_path(n: int) -> str:
    """c2sp tlog-tiles index encoding: 1234067 -> x001/x234/067."""
    s = f"{n:03d}"
    s = "0" * (-len(s) % 3) + s
    groups = [s[i:i + 3] for i in range(0, len(s), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def key_id(origin: str, log_id: bytes) -> bytes:
    return hashlib.sha256(origin.encode() + b"\n\x05" + log_id).digest()[:4]


def parse_checkpoint(text: str, origin: str, key_der: bytes) -> TreeHead:
    """Parse and verify a checkpoint; raises VerificationError unless it is signed by this log."""
    body, sep, sigs = text.partition("\n\n")
    if not sep:
        raise VerificationError("checkpoint without signature lines")
    lines = body.split("\n")
    if len(lines) < 3 or lines[0] != origin:
        raise VerificationError(f"checkpoint origin {lines[0]!r} is not {origin!r}")
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error):
        raise VerificationError("checkpoint size or root is malformed") from None
    if len(root) != 32 or size < 0:
        raise VerificationError("checkpoint root is not 32 bytes")
    key = load_key(key_der)
    kid = key_id(origin, hashlib.sha256(key_der).digest())
    errors = []
    for line in sigs.split("\n"):
        if not line.startswith("\u2014 "):
            continue
        parts = line[2:].split(" ")
        if len(parts) != 2 or parts[0] != origin:
            continue
        try:
            sig = base64.b64decode(parts[1], validate=True)
        except (ValueError, binascii.Error):
            continue
        if len(sig) < 12 or sig[:4] != kid:
            continue
        timestamp = struct.unpack(">Q", sig[4:12])[0]
        try:
            verify_digitally_signed(key, sig[12:], tree_head_input(timestamp, size, root))
        except VerificationError as e:
            errors.append(str(e))
            continue
        return TreeHead(size, timestamp, root, sig[12:])
    raise VerificationError(errors[0] if errors else "no signature by the log's key on the checkpoint")


class StaticLog:
    api = "static"
    batch = TILE

    def __init__(self, client: LogClient, key_der: bytes, origin: str, *, verify_leaves: bool = True) -> None:
        self.client = client
        self.key_der = key_der
        self.origin = origin
        self.size = 0  # of the last verified checkpoint: tiles are read for this size
        self.verify_leaves = verify_leaves
        self._tiles: dict[tuple[int, int, int], bytes] = {}

    def head(self) -> TreeHead:
        r = self.client.get("checkpoint")
        assert r is not None
        head = parse_checkpoint(r.text, self.origin, self.key_der)
        self._tiles.clear()
        if head.size:
            root = self.root_at(head.size, head.size)
            if root != head.root:
                raise VerificationError(f"the tiles do not hash to the checkpoint root at size {head.size}")
        self.size = head.size
        return head

    def check_consistency(self, old_size: int, old_root: bytes, head: TreeHead) -> None:
        if old_size > head.size:
            raise VerificationError(f"tree shrank from {old_size} to {head.size}")
        if old_size == 0:
            return
        if self.root_at(old_size, head.size) != old_root:
            raise VerificationError(f"the log's tiles no longer hash to the verified root at size {old_size}")

    # --- tiles ------------------------------------------------------------------------------

    def _width(self, level: int, index: int, size: int) -> int:
        count = size >> (8 * level)
        return min(TILE, count - index * TILE)

    def hash_tile(self, level: int, index: int, size: int) -> list[bytes]:
        width = self._width(level, index, size)
        if width <= 0:
            raise VerificationError(f"tile {level}/{index} is beyond tree size {size}")
        key = (level, index, width)
        data = self._tiles.get(key)
        if data is None:
            path = f"tile/{level}/{tile_path(index)}" + ("" if width == TILE else f".p/{width}")
            r = self.client.get(path)
            assert r is not None
            data = r.content
            if len(data) != 32 * width:
                raise VerificationError(f"tile {path} has {len(data)} bytes, expected {32 * width}")
            if len(self._tiles) > 64:
                self._tiles.clear()
            self._tiles[key] = data
        return [data[i:i + 32] for i in range(0, len(data), 32)]

    def node(self, k: int, idx: int, size: int) -> bytes:
        """The hash of the complete subtree at height ``k``, position ``idx``, from tiles of ``size``."""
        level = k // 8
        span = 1 << (k - 8 * level)
        first = idx * span
        tile, offset = divmod(first, TILE)
        hashes = self.hash_tile(level, tile, size)[offset:offset + span]
        if len(hashes) != span:
            raise VerificationError(f"tile {level}/{tile} is too short")
        return reduce_level(hashes)

    def root_at(self, size: int, tree_size: int) -> bytes:
        return root_from_subtrees([self.node(k, idx, tree_size) for k, idx in subtree_ranges(size)])

    # --- entries ----------------------------------------------------------------------------

    def fetch(self, start: int, end: int, *, want_hash: bool = False) -> list[Entry | EntryError]:
        """Entries [start, end) from the data tile holding ``start`` (at most to the tile's end)."""
        size = self.size
        if end > size:
            raise LogUnavailable(f"asked for entries up to {end} beyond the verified size {size}")
        tile = start // TILE
        width = min(TILE, size - tile * TILE)
        path = f"tile/data/{tile_path(tile)}" + ("" if width == TILE else f".p/{width}")
        r = self.client.get(path)
        assert r is not None
        check = self.verify_leaves
        try:
            leaves = parse_tile(r.content, tile * TILE, width, want_hash=check or want_hash)
        except EntryError as e:
            # The framing itself is broken: no entry of this tile can be trusted or even found.
            leaves = [EntryError(f"entry {tile * TILE + i}: unreadable data tile ({e})", index=tile * TILE + i,
                                 der=r.content if i == 0 else b"") for i in range(width)]
            check = False
        if check:
            expected = self.hash_tile(0, tile, size)
            for i, leaf in enumerate(leaves):
                if isinstance(leaf, Entry) and leaf.leaf_hash != expected[i]:
                    leaves[i] = EntryError(f"entry {leaf.index}: leaf hash does not match the log's hash tile",
                                           index=leaf.index, der=leaf.cert_der)
        lo = start - tile * TILE
        return leaves[lo: lo + (end - start)]

    def timestamp_at(self, index: int) -> int:
        item = self.fetch(index, index + 1)[0]
        if isinstance(item, EntryError):
            raise item
        return item.timestamp
