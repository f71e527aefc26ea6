"""The lab CT log: one Merkle tree behind two read APIs, growing while it runs.

- RFC 6962 at `{url}ct/v1/...` (the submission prefix is the server root),
- C2SP static-ct-api at `{url}static/...` (checkpoint, tiles, data tiles, issuers),
- a Google v3 log list at `{url}log_list.json`.

A sequencer thread integrates pending entries every `sequence_interval` seconds and signs a new tree
head (ECDSA P-256). Faults can be injected: 429/500 for the next N requests, a forged tree head, a
malformed entry at an index, entries that stop being served (`stall_entries`). `add_der` logs any
bytes as a certificate or precertificate, so real-world certificates can be replayed.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Self

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from lab import ctformat as F
from lab.merkle import MerkleTree, leaf_hash
from lab.net import LOOPBACK, HTTPService, Request, Response, json_response, text_response
from lab.pki import TRUSTED_CA, LabPKI

Subscriber = Callable[[list[F.LogEntry]], None]

_NOISE_WORDS = ("shop", "blog", "mail", "cloud", "app", "dev", "api", "cdn", "news", "photo", "travel", "food",
                "games", "music", "tech", "home", "auto", "green", "blue", "sakura", "fuji", "kumo", "data")
_NOISE_TLDS = ("com", "net", "org", "jp", "co.jp", "io", "dev", "app", "xyz", "top", "shop", "info", "cn")


@dataclass(frozen=True)
class TreeHead:
    size: int
    timestamp: int
    root: bytes
    signature: bytes  # DigitallySigned


def _now_ms() -> int:
    return int(time.time() * 1000)


class LabCTLog(HTTPService):
    """A growing CT log. `add_certificate()` returns the index the entry will have once integrated."""

    def __init__(self, pki: LabPKI | None = None, host: str = LOOPBACK, port: int = 0, *,
                 sequence_interval: float = 0.2, max_batch: int = 256, mmd: int = 60,
                 noise_rate: float = 0.0, seed: int = 1, description: str = "Lab CT Log 2026") -> None:
        super().__init__(host, port)
        self.pki = pki or LabPKI()
        self._own_pki = pki is None
        self.sequence_interval = sequence_interval
        self.max_batch = max_batch
        self.mmd = mmd
        self.noise_rate = noise_rate  # certificates per second added by the sequencer
        self.description = description
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.public_key_der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.log_id = hashlib.sha256(self.public_key_der).digest()
        self.tree = MerkleTree()
        self.entries: list[F.LogEntry] = []
        self._by_hash: dict[bytes, int] = {}
        self._pending: list[F.LogEntry] = []
        self._next_index = 0
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._subscribers: list[Subscriber] = []
        self._failures: list[tuple[int, int]] = []
        self._forge = False
        self._malformed: set[int] = set()
        self._stall = False
        self._noise_credit = 0.0
        self._stop = threading.Event()
        self._seq_thread: threading.Thread | None = None
        self.sth = self._sign(0, _now_ms(), self.tree.root(0))

    # --- addresses ----------------------------------------------------------------------------

    @property
    def rfc6962_url(self) -> str:
        """The RFC 6962 log URL (submission prefix); endpoints are under `ct/v1/`."""
        return self.url

    @property
    def static_url(self) -> str:
        """The static-ct-api monitoring prefix."""
        return self.url + "static/"

    @property
    def log_list_url(self) -> str:
        return self.url + "log_list.json"

    @property
    def origin(self) -> str:
        """Checkpoint origin: the submission prefix without scheme or trailing slash."""
        return f"{self.host}:{self.port}"

    @property
    def public_key_pem(self) -> str:
        return self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    # --- growing the log ----------------------------------------------------------------------

    def _enqueue(self, issued_list: Iterable[tuple[Any, tuple[str, ...]]]) -> list[int]:
        out = []
        with self._lock:
            for issued, names in issued_list:
                e = F.LogEntry(self._next_index, _now_ms(), issued.precert, issued.cert_der,
                               issued.tbs_der if issued.precert else b"", issued.issuer.key_hash,
                               issued.issuer.der, names)
                self._next_index += 1
                self._pending.append(e)
                out.append(e.index)
        return out

    def add_certificate(self, names: list[str] | str, precert: bool = False, issuer: str = TRUSTED_CA,
                        not_before: dt.datetime | None = None) -> int:
        """Issue a real certificate (or precertificate) for `names` and queue it; returns its index."""
        names = [names] if isinstance(names, str) else list(names)
        issued = self.pki.issue(names, issuer=issuer, precert=precert, not_before=not_before)
        return self._enqueue([(issued, tuple(names))])[0]

    def add_der(self, der: bytes, precert: bool = False, issuer: str = TRUSTED_CA) -> int:
        """Queue ``der`` exactly as given: a real-world certificate, or any bytes a log once accepted
        (a log does not parse what it logs, so neither does this). With ``precert`` the entry is a
        precertificate entry whose TBS is the DER's with the poison taken out, or the bytes themselves
        when they are not even DER. Returns the index the entry will have once integrated."""
        ca = self.pki.cas[issuer]
        tbs = b""
        if precert:
            try:
                tbs = F.tbs_without_poison(F.tbs_of(der))
            except (IndexError, ValueError):
                tbs = der
        with self._lock:
            e = F.LogEntry(self._next_index, _now_ms(), precert, der, tbs, ca.key_hash, ca.der, ())
            self._next_index += 1
            self._pending.append(e)
        return e.index

    def _noise_names(self) -> list[str]:
        r = self._rng
        base = f"{r.choice(_NOISE_WORDS)}{r.randrange(100000)}-{r.choice(_NOISE_WORDS)}.{r.choice(_NOISE_TLDS)}"
        kind = r.random()
        if kind < 0.3:
            return [base, "www." + base]
        if kind < 0.45:
            return ["*." + base, base]
        return [base]

    def add_noise(self, n: int, precert_ratio: float = 0.1, integrate: bool = True) -> range:
        """Add `n` unrelated certificates quickly (thousands per second); returns their index range."""
        nb = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
        issued = []
        for _ in range(n):
            names = self._noise_names()
            precert = self._rng.random() < precert_ratio
            issued.append((self.pki.fast_leaf(names, self.pki.next_serial(), nb, precert=precert), tuple(names)))
        idx = self._enqueue(issued)
        if integrate:
            self.integrate()
        return range(idx[0], idx[-1] + 1) if idx else range(0)

    def integrate(self) -> TreeHead:
        """Sequence every pending entry into the tree and sign a new tree head."""
        with self._lock:
            batch, self._pending = self._pending, []
            for e in batch:
                lh = leaf_hash(F.merkle_tree_leaf(e))
                self.tree.append_hash(lh)
                self._by_hash[lh] = e.index
                self.entries.append(e)
            if batch or self.sth.size != len(self.tree):
                ts = max(_now_ms(), batch[-1].timestamp if batch else 0)
                self.sth = self._sign(len(self.tree), ts, self.tree.root())
            subscribers = list(self._subscribers)
        if batch:
            for cb in subscribers:
                try:
                    cb(batch)
                except Exception:  # a broken subscriber must not stop the log
                    pass
        return self.sth

    def subscribe(self, callback: Subscriber) -> None:
        """`callback(entries)` after each integration (the certstream server uses this)."""
        with self._lock:
            self._subscribers.append(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        with self._lock:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

    def _sign(self, size: int, timestamp: int, root: bytes, forged: bool = False) -> TreeHead:
        signed_root = bytes([root[0] ^ 0xFF]) + root[1:] if forged else root
        sig = self.key.sign(F.tree_head_signature_input(timestamp, size, signed_root), ec.ECDSA(hashes.SHA256()))
        return TreeHead(size, timestamp, root, F.digitally_signed(sig))

    def _sequencer(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.sequence_interval):
            now = time.monotonic()
            if self.noise_rate > 0:
                self._noise_credit += self.noise_rate * (now - last)
                n = int(self._noise_credit)
                if n:
                    self._noise_credit -= n
                    self.add_noise(n, integrate=False)
            last = now
            if self._pending:
                self.integrate()

    # --- faults -------------------------------------------------------------------------------

    def fail_next(self, n: int, status: int = 429, retry_after: int = 1) -> None:
        """The next `n` API requests get `status` (429 carries Retry-After)."""
        with self._lock:
            self._failures.extend([(status, retry_after)] * n)

    def forge_sth(self, on: bool = True) -> None:
        """Serve tree heads (get-sth and checkpoint) whose signature does not verify."""
        self._forge = on

    def malform_entry(self, index: int) -> None:
        """Serve garbage for entry `index` in get-entries and in its data tile: bytes that are not the
        logged leaf (a misbehaving log; a monitor's tree verification catches it). For an entry that is
        in the tree but does not parse, log bad bytes with `add_der`."""
        self._malformed.add(index)

    def stall_entries(self, on: bool = True) -> None:
        """Answer 503 to every entry request (get-entries, data tiles) while tree heads keep coming:
        a log that grows but cannot be read, so a reader falls behind without any entry failing."""
        self._stall = on

    def reset_faults(self) -> None:
        with self._lock:
            self._failures.clear()
        self._forge = False
        self._stall = False
        self._malformed.clear()

    # --- views --------------------------------------------------------------------------------

    def current_sth(self) -> TreeHead:
        sth = self.sth
        if self._forge:
            return self._sign(sth.size, sth.timestamp, sth.root, forged=True)
        return sth

    def entry(self, index: int) -> F.LogEntry:
        return self.entries[index]

    def checkpoint(self) -> str:
        sth = self.current_sth()
        body = f"{self.origin}\n{sth.size}\n{F.b64(sth.root)}\n"
        key_id = hashlib.sha256(self.origin.encode() + b"\n\x05" + self.log_id).digest()[:4]
        sig = key_id + F.u64(sth.timestamp) + sth.signature
        return f"{body}\n\u2014 {self.origin} {F.b64(sig)}\n"

    def log_list(self) -> dict[str, Any]:
        """Google's v3 log list describing this log (RFC 6962 under `logs`, static API under `tiled_logs`)."""
        now = dt.datetime.now(dt.UTC)
        state = {"usable": {"timestamp": (now - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")}}
        interval = {"start_inclusive": f"{now.year}-01-01T00:00:00Z", "end_exclusive": f"{now.year + 1}-01-01T00:00:00Z"}
        common = {"description": self.description, "log_id": F.b64(self.log_id), "key": F.b64(self.public_key_der),
                  "mmd": self.mmd, "state": state, "temporal_interval": interval}
        return {
            "version": "1.0",
            "log_list_timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "operators": [{
                "name": "Lab CT Operator",
                "email": ["ct-operator@lab.test"],
                "logs": [{**common, "url": self.rfc6962_url}],
                "tiled_logs": [{**common, "submission_url": self.rfc6962_url, "monitoring_url": self.static_url}],
            }],
        }

    # --- HTTP ---------------------------------------------------------------------------------

    def app(self, request: Request) -> Response:
        path = request.path
        if path == "/log_list.json":
            return json_response(self.log_list())
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is None and self._stall and (path == "/ct/v1/get-entries" or path.startswith("/static/tile/data/")):
            failure = (503, 0)  # Retry-After: 0, so a test does not wait for the retries
        if failure:
            status, retry = failure
            return json_response({"error": "lab fault injection"}, status,
                                 {"Retry-After": str(retry)} if status in (429, 503) else {})
        if path.startswith("/ct/v1/"):
            if request.method == "POST" and path in ("/ct/v1/add-chain", "/ct/v1/add-pre-chain"):
                return self._add_chain(request, precert=path.endswith("add-pre-chain"))
            return self._rfc6962(path[len("/ct/v1/"):], request.query)
        if path.startswith("/static/"):
            return self._static(path[len("/static/"):], request.headers.get("Accept-Encoding", ""))
        return json_response({"error": "not found"}, 404)

    def _rfc6962(self, op: str, q: dict[str, str]) -> Response:
        sth = self.sth
        try:
            if op == "get-sth":
                s = self.current_sth()
                return json_response({"tree_size": s.size, "timestamp": s.timestamp,
                                      "sha256_root_hash": F.b64(s.root), "tree_head_signature": F.b64(s.signature)})
            if op == "get-sth-consistency":
                first, second = int(q["first"]), int(q["second"])
                if not 0 <= first <= second <= sth.size:
                    return json_response({"error": "bad sizes"}, 400)
                return json_response({"consistency": [F.b64(h) for h in self.tree.consistency_proof(first, second)]})
            if op == "get-proof-by-hash":
                lh, size = base64.b64decode(q["hash"]), int(q["tree_size"])
                index = self._by_hash.get(lh)
                if index is None or index >= size or size > sth.size:
                    return json_response({"error": "hash not found"}, 404)
                return json_response({"leaf_index": index,
                                      "audit_path": [F.b64(h) for h in self.tree.inclusion_proof(index, size)]})
            if op == "get-entries":
                start, end = int(q["start"]), int(q["end"])
                if start < 0 or end < start or start >= sth.size:
                    return json_response({"error": "bad range"}, 400)
                end = min(end, sth.size - 1, start + self.max_batch - 1)
                return json_response({"entries": [self._json_entry(i) for i in range(start, end + 1)]})
            if op == "get-entry-and-proof":
                index, size = int(q["leaf_index"]), int(q["tree_size"])
                if not 0 <= index < size <= sth.size:
                    return json_response({"error": "bad index"}, 400)
                e = self._json_entry(index)
                return json_response({**e, "audit_path": [F.b64(h) for h in self.tree.inclusion_proof(index, size)]})
            if op == "get-roots":
                return json_response({"certificates": [F.b64(ca.der) for ca in self.pki.web_cas()]})
        except (KeyError, ValueError) as exc:
            return json_response({"error": f"bad request: {exc}"}, 400)
        return json_response({"error": "unknown endpoint"}, 404)

    def _add_chain(self, request: Request, precert: bool) -> Response:
        """RFC 6962 4.1/4.2 submission: the entry is sequenced at once (static-ct-api needs its index in the
        SCT's leaf_index extension), and an SCT signed by the log comes back."""
        try:
            chain = [base64.b64decode(c) for c in request.json()["chain"]]
            leaf = x509.load_der_x509_certificate(chain[0])
            issuer = next((ca for ca in self.pki.cas.values()
                           if (len(chain) > 1 and ca.der == chain[1]) or ca.cert.subject == leaf.issuer), None)
            if issuer is None:
                return json_response({"error": "chain does not end in an accepted root"}, 400)
            issuer.key.public_key().verify(leaf.signature, leaf.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
            is_pre = any(ext.oid.dotted_string == "1.3.6.1.4.1.11129.2.4.3" for ext in leaf.extensions)
            if is_pre != precert:
                return json_response({"error": "precertificate sent to the wrong endpoint"}, 400)
        except (KeyError, ValueError, TypeError, InvalidSignature) as exc:
            return json_response({"error": f"bad chain: {exc!r}"}, 400)
        tbs = F.tbs_without_poison(leaf.tbs_certificate_bytes) if precert else b""
        names = tuple(leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                      .get_values_for_type(x509.DNSName)) if leaf.extensions else ()
        with self._lock:
            e = F.LogEntry(self._next_index, _now_ms(), precert, chain[0], tbs, issuer.key_hash, issuer.der, names)
            self._next_index += 1
            self._pending.append(e)
        self.integrate()
        sig = self.key.sign(F.sct_signature_input(e), ec.ECDSA(hashes.SHA256()))
        return json_response({"sct_version": 0, "id": F.b64(self.log_id), "timestamp": e.timestamp,
                              "extensions": F.b64(F.leaf_index_extension(e.index)[2:]),
                              "signature": F.b64(F.digitally_signed(sig))})

    def _json_entry(self, i: int) -> dict[str, str]:
        e = self.entries[i]
        if i in self._malformed:
            return {"leaf_input": F.b64(b"\x00\x00\xde\xad\xbe\xef"), "extra_data": F.b64(b"\x00")}
        return {"leaf_input": F.b64(F.merkle_tree_leaf(e)), "extra_data": F.b64(F.extra_data(e))}

    def _static(self, rest: str, accept_encoding: str = "") -> Response:
        binary = "application/octet-stream"
        immutable = {"Cache-Control": "public, max-age=604800, immutable"}
        if rest == "checkpoint":
            return text_response(self.checkpoint(), headers={"Cache-Control": "no-store"})
        parts = rest.split("/")
        if parts[0] == "issuer" and len(parts) == 2:
            for ca in self.pki.cas.values():
                if ca.fingerprint.hex() == parts[1].lower():
                    return Response(200, ca.der, "application/pkix-cert", immutable)
            return text_response("no such issuer\n", 404)
        if parts[0] != "tile" or len(parts) < 3:
            return text_response("not found\n", 404)
        try:
            index, width = F.parse_tile_path(parts[2:])
        except ValueError:
            return text_response("bad tile path\n", 400)
        size = self.sth.size
        if parts[1] == "data":
            tile = self._data_tile(index, width, size, immutable)
            if tile.status == 200 and "gzip" in accept_encoding:
                # the spec asks data tiles to be compressed at the HTTP layer (clients must accept gzip)
                assert isinstance(tile.body, bytes)
                tile.body = gzip.compress(tile.body, compresslevel=1)
                tile.headers["Content-Encoding"] = "gzip"
            return tile
        level = int(parts[1]) if parts[1].isdigit() and len(parts[1]) == 1 else -1
        if not 0 <= level <= 5:
            return text_response("bad level\n", 400)
        available = size // (256 ** level)  # hashes that exist at this level for this tree size
        w = width or 256
        if index * 256 + w > available:
            return text_response("tile not available\n", 404)
        return Response(200, self.tree.tile(level, index, w), binary, immutable)

    def _data_tile(self, index: int, width: int | None, size: int, headers: dict[str, str]) -> Response:
        w = width or 256
        if index * 256 + w > size:
            return text_response("tile not available\n", 404)
        chunks = []
        for i in range(index * 256, index * 256 + w):
            e = self.entries[i]
            if i in self._malformed:
                # Same framing, garbage certificate bytes: a parser must survive one bad entry.
                e = F.LogEntry(e.index, e.timestamp, e.precert, b"\xff" * len(e.cert_der),
                               b"\xff" * len(e.tbs_der), e.issuer_key_hash, e.issuer_der, e.names)
            chunks.append(F.tile_leaf(e))
        return Response(200, b"".join(chunks), "application/octet-stream", headers)

    # --- life cycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        super().start()
        self._stop.clear()
        self._seq_thread = threading.Thread(target=self._sequencer, name="ct-sequencer", daemon=True)
        self._seq_thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._seq_thread is not None:
            self._seq_thread.join(timeout=5)
            self._seq_thread = None
        super().stop()
        if self._own_pki:
            self.pki.close()

