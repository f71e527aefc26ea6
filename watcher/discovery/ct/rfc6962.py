"""The RFC 6962 read API: get-sth, get-sth-consistency, get-entries."""

from __future__ import annotations

import base64
import binascii
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
        r = self.client.get("ct/v1/get-sth-consistency", {"first": old_size, "second": head.size})
        assert r is not None
        try:
            proof = [base64.b64decode(h) for h in r.json()["consistency"]]
        except (ValueError, KeyError, TypeError, binascii.Error) as e:
            raise VerificationError(f"get-sth-consistency answer is malformed: {e}") from None
        verify_consistency(old_size, head.size, old_root, head.root, proof)

    def fetch(self, start: int, end: int, *, want_hash: bool = False) -> list[Entry | EntryError]:
        """Entries [start, end): may return fewer than asked (the log's own batch limit); never more."""
        r = self.client.get("ct/v1/get-entries", {"start": start, "end": min(end, start + self.batch) - 1})
        assert r is not None
        try:
            items: list[dict[str, Any]] = r.json()["entries"]
        except (ValueError, KeyError, TypeError) as e:
            raise LogUnavailable(f"get-entries answer is malformed: {e}") from None
        if not items:
            raise LogUnavailable(f"get-entries returned nothing for {start}")
        items = items[: end - start]
        if len(items) < min(end - start, self.batch):
            self.batch = max(1, len(items))  # the log's real limit: ask for that from now on
        out: list[Entry | EntryError] = []
        for i, item in enumerate(items):
            try:
                out.append(parse_leaf(start + i, base64.b64decode(item["leaf_input"]),
                                      base64.b64decode(item.get("extra_data", "")), want_hash=want_hash))
            except (EntryError, KeyError, TypeError, ValueError, binascii.Error) as e:
                out.append(e if isinstance(e, EntryError) else EntryError(f"entry {start + i}: {e}"))
        return out

    def timestamp_at(self, index: int) -> int:
        item = self.fetch(index, index + 1)[0]
        if isinstance(item, EntryError):
            raise item
        return item.timestamp
