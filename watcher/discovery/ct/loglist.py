"""The CT log list (Google's v3 JSON schema): which logs exist, their keys, URLs and APIs.

RFC 6962 logs are under ``operators[].logs[]`` (``url``), static-ct-api logs under
``operators[].tiled_logs[]`` (``monitoring_url`` to read, ``submission_url`` names the checkpoint
origin). Logs in state usable, qualified or readonly are read; pending, retired and rejected are not.
A log that appears under both (one tree, two APIs) is read once, through the tiles.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

READ_STATES = ("usable", "qualified", "readonly")


@dataclass(frozen=True)
class LogInfo:
    description: str
    log_id: str  # base64 SHA-256 of the key
    key_der: bytes
    url: str  # RFC 6962 base URL (endpoints under ct/v1/) or the static monitoring prefix
    api: str  # "rfc6962" or "static"
    mmd: int = 86400
    state: str = "usable"
    operator: str = ""
    submission_url: str = ""
    final_size: int | None = None  # readonly logs: the last tree size there will ever be

    @property
    def origin(self) -> str:
        """The checkpoint origin of a tiled log: the submission prefix without scheme and slash."""
        u = self.submission_url or self.url
        return u.split("://", 1)[-1].rstrip("/")


def _state(entry: dict[str, Any]) -> tuple[str, int | None]:
    state = entry.get("state") or {}
    for name in ("usable", "qualified", "readonly", "pending", "retired", "rejected"):
        if name in state:
            final = (state[name] or {}).get("final_tree_head", {}) if name == "readonly" else {}
            return name, final.get("tree_size")
    return "unknown", None


def parse(data: dict[str, Any], *, prefer: str = "static") -> list[LogInfo]:
    """Every log of the list; malformed entries are skipped (the rest is still useful)."""
    found: dict[str, LogInfo] = {}
    for op in data.get("operators", []):
        for kind, api in (("logs", "rfc6962"), ("tiled_logs", "static")):
            entries = op.get(kind) if isinstance(op, dict) else None
            for e in entries if isinstance(entries, list) else []:
                try:
                    key = base64.b64decode(e["key"], validate=True)
                    url = e["url"] if api == "rfc6962" else e["monitoring_url"]
                except (KeyError, TypeError, ValueError):
                    continue
                if not key or not isinstance(url, str) or not url.startswith(("http://", "https://")):
                    continue
                log_id = e.get("log_id") or base64.b64encode(hashlib.sha256(key).digest()).decode()
                state, final = _state(e)
                info = LogInfo(e.get("description", url), str(log_id), key, url if url.endswith("/") else url + "/",
                               api, int(e.get("mmd", 86400)), state, op.get("name", ""),
                               e.get("submission_url", ""), final)
                prev = found.get(info.log_id)
                if prev is None or (prev.api != prefer and info.api == prefer):
                    found[info.log_id] = info
    return list(found.values())


def load(path: Path, *, include: list[str] | None = None, exclude: list[str] | None = None,
         prefer: str = "static", readable_only: bool = True) -> list[LogInfo]:
    logs = parse(json.loads(path.read_text(encoding="utf-8")), prefer=prefer)
    if readable_only:
        logs = [lg for lg in logs if lg.state in READ_STATES]

    def hit(lg: LogInfo, pats: list[str]) -> bool:
        return any(p.lower() in lg.description.lower() or p in lg.url or p == lg.log_id for p in pats)

    if include:
        logs = [lg for lg in logs if hit(lg, include)]
    if exclude:
        logs = [lg for lg in logs if not hit(lg, exclude)]
    return logs
