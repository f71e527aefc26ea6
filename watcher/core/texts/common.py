"""Texts of the common area: key -> (Japanese, English). See watcher/core/texts/__init__.py."""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, tuple[str, str]]] = {
    "common.days": ("{n} 日", "{n} day(s)"),
    "common.hours": ("{n} 時間", "{n} hour(s)"),
    "common.unknown": ("不明", "unknown"),
    # --- a finding's or an alert's severity, as a person reads it (the terminal, the story and the dashboard)
    "common.severity.critical": ("緊急", "critical"),
    "common.severity.high": ("高", "high"),
    "common.severity.medium": ("中", "medium"),
    "common.severity.low": ("低", "low"),
    "common.severity.info": ("情報", "info"),
}
