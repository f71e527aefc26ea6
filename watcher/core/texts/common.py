"""Texts of the common area: key -> (Japanese, English). See watcher/core/texts/__init__.py."""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, tuple[str, str]]] = {
    "common.days": ("{n} 日", "{n} day(s)"),
    "common.hours": ("{n} 時間", "{n} hour(s)"),
    "common.unknown": ("不明", "unknown"),
}
