"""The RFC 6962 read API: get-sth, get-sth-consistency, get-entries."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from watcher.discovery.ct.client import LogClient, LogUnavailable
from watcher.discovery.ct.entries import Entry, EntryError, parse_leaf
from watcher.discovery.ct.merkle import (
    TreeHead,
    VerificationError,
    load_key,
    verify_consistency,
    verify_tree_head,
)


class Rfc6962Log:
    api = "rfc6962"

    def __init__(self, client: LogClient, key_der: bytes, *, batch: int = 256) -> None:
        self.client = client
        self.key = load_key(key_der)
        self.batch = batch  # shrinks to what the log actually returns per call

    def head(self) -> TreeHead:
        r = self.client.get("ct/v1/get-sth")
        assert r is not None
        try:
            j = r.json()
            head = TreeHead(int(j["tree_size"]), int(j["timestamp"]), base64.b64decode(j["sha256_root_hash"]),
                            base64.b64decode(j["tree_head_signature"]))
        except (ValueError, KeyError, TypeError, binascii.Error) as e:
            raise VerificationError(f"get-sth answer is malformed: {e}") from None
        if len(head.root) != 32:
            raise VerificationError("get-sth root hash is not 32 bytes")
        verify_tree_head(self.key, head)
        return head

    def check_consistency(self, old_size: int, old_root: bytes, head: TreeHead) -> None:
        if old_size == 0 or old_size == head.size:
            verify_consistency(old_size, head.size, old_root, head.root, [])
            return
        verify_consistency(old_size, head.size, old_root, head.root, self.consistency(old_size, head.size))

    def fetch(self, start: int, end: int, *, want_hash: bool = False) -> list[Entry | EntryError]:
        """Entries [start, end): may return fewer than asked (the log's own batch limit); never more."""
        r = self.client.get("ct/v1/get-entries", {"start": start, "end": min(end, start + self.batch) - 1})
        assert r is not None
        try:
            items: list[Any] = r.json()["entries"]
        except (ValueError, KeyError, TypeError) as e:
            raise LogUnavailable(f"get-entries answer is malformed: {e}") from None
        if not isinstance(items, list):
            raise LogUnavailable("get-entries answer is malformed: `entries` is not a list")
        if not items:
            raise LogUnavailable(f"get-entries returned nothing for {start}")
        items = items[: end - start]
        if len(items) < min(end - start, self.batch):
            self.batch = max(1, len(items))  # the log's real limit: ask for that from now on
        out: list[Entry | EntryError] = []
        for i, item in enumerate(items):
            out.append(_entry(start + i, item))
        return out

    def leaf_proof(self, index: int, size: int, leaf: bytes) -> list[bytes]:
        """The audit path of leaf ``index`` (by its hash) in the tree of ``size`` (get-proof-by-hash)."""
        r = self.client.get("ct/v1/get-proof-by-hash", {"hash": base64.b64encode(leaf).decode(), "tree_size": size})
        assert r is not None
        try:
            j = r.json()
            if int(j["leaf_index"]) != index:
                raise VerificationError(f"get-proof-by-hash: the log puts entry {index}'s hash at {j['leaf_index']}")
            return [base64.b64decode(h, validate=True) for h in j["audit_path"]]
        except (ValueError, KeyError, TypeError, binascii.Error) as e:
            raise VerificationError(f"get-proof-by-hash answer is malformed: {e}") from None

    def consistency(self, first: int, second: int) -> list[bytes]:
        r = self.client.get("ct/v1/get-sth-consistency", {"first": first, "second": second})
        assert r is not None
        try:
            return [base64.b64decode(h, validate=True) for h in r.json()["consistency"]]
        except (ValueError, KeyError, TypeError, binascii.Error) as e:
            raise VerificationError(f"get-sth-consistency answer is malformed: {e}") from None

    def timestamp_at(self, index: int) -> int:
        item = self.fetch(index, index + 1)[0]
        if isinstance(item, EntryError):
            raise item
        return item.timestamp


def _entry(index: int, item: Any) -> Entry | EntryError:
    """One get-entries item. The leaf hash is taken from the raw leaf_input before anything is parsed,
    so an entry whose certificate is garbage still counts in the tree's verification."""
    try:
        leaf_input = base64.b64decode(item["leaf_input"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error) as e:
        # Without the leaf the batch cannot be checked against the tree: the log answered nonsense.
        raise VerificationError(f"entry {index}: leaf_input is not base64 ({type(e).__name__})") from None
    lh = hashlib.sha256(b"\x00" + leaf_input).digest()
    try:
        extra = base64.b64decode(item.get("extra_data", "") or "", validate=True)
        entry = parse_leaf(index, leaf_input, extra)
    except Exception as e:  # a hostile entry: recorded as bad, the batch goes on
        msg = str(e) if str(e).startswith(f"entry {index}") else f"entry {index}: {type(e).__name__}: {e}"
        return EntryError(msg, index=index, der=leaf_input, leaf_hash=lh)
    entry.leaf_hash = lh
    return entry
