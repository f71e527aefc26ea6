"""Helpers shared by the CT tests."""

from __future__ import annotations

import json
from pathlib import Path

from watcher.discovery.ct.loglist import LogInfo, parse


def log_infos(log, api: str) -> list[LogInfo]:  # type: ignore[no-untyped-def]
    return [i for i in parse(log.log_list(), prefer=api) if i.api == api]


def write_log_list(log, path: Path) -> Path:  # type: ignore[no-untyped-def]
    path.write_text(json.dumps(log.log_list()))
    return path
