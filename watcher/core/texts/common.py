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
    # --- a person's decision on a finding (omamori findings accept|reopen, the dashboard)
    "common.finding_status.open": ("未対応", "open"),
    "common.finding_status.accepted": ("リスク受容", "accepted"),
    "common.finding_status.resolved": ("解消", "resolved"),
    "common.finding.not_found": ("指摘 {id} はありません。`omamori findings list` で一覧を表示します",
                                 "no finding {id}; `omamori findings list` lists them"),
    "common.finding.resolved": ("指摘 {id} は解消済みです。受容も再開もできません",
                                "finding {id} is already resolved: nothing to accept or reopen"),
    "common.finding.already_accepted": ("指摘 {id} は受容済みです（{by}: {reason}）",
                                        "finding {id} is already accepted ({by}: {reason})"),
    "common.finding.not_accepted": ("指摘 {id} は受容されていません（未対応のままです）",
                                    "finding {id} is not accepted (it is open)"),
    "common.finding.no_reason": ("指摘 {id} を受容するには理由が必要です: --reason \"...\" を付けてください",
                                 "accepting finding {id} needs a reason: add --reason \"...\""),
}
