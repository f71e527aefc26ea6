"""Evidence files, content-addressed: stored once under their sha256, never changed.

The hash in a Snapshot row is the chain of custody: anyone can re-hash the file and compare.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class EvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a crash never leaves a truncated file under a valid hash.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def put_file(self, path: Path) -> str:
        return self.put(path.read_bytes())

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        try:
            return self.path(sha256).exists()
        except ValueError:
            return False

    def size(self, sha256: str) -> int:
        """The file's size in bytes (0 if it is not stored)."""
        try:
            return self.path(sha256).stat().st_size
        except (OSError, ValueError):
            return 0

    def verify(self, sha256: str) -> bool:
        return hashlib.sha256(self.get(sha256)).hexdigest() == sha256
