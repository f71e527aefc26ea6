"""Reading scenario TOML files: relative times (`+40s`), relative dates (`+20d`), and the file itself.

A scenario is a list of world actions: everything under `[[domains]]`, `[[records]]`, `[[sites]]`,
`[[lookalikes]]`, `[[certificates]]` happens at start (or at its own `at`), and `[[events]]` are actions
with an `at`. See data/lab/demo.toml for the vocabulary.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_offset(value: str | float | int | None) -> float:
    """'+40s', '2m', '+1.5s', 30 -> seconds."""
    if value is None:
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    m = re.fullmatch(r"\+?\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h|d)?", value.strip())
    if not m:
        raise ValueError(f"bad time offset {value!r}")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def parse_date(value: str | dt.date | dt.datetime | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """'2005-04-01', '+20d', '-400d', a TOML date or datetime -> aware UTC datetime."""
    if value is None:
        return None
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    m = re.fullmatch(r"([+-])\s*([0-9]+)\s*([dhm])", value.strip())
    if m:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[m.group(3)]
        delta = dt.timedelta(**{unit: int(m.group(2))})
        return now + delta if m.group(1) == "+" else now - delta
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@dataclass
class Action:
    action: str
    params: dict[str, Any]
    at: float = 0.0
    label: str = ""


@dataclass
class Scenario:
    name: str
    settings: dict[str, Any]
    registrars: list[dict[str, Any]]
    networks: list[dict[str, Any]]
    actions: list[Action] = field(default_factory=list)
    path: str = ""


_SECTIONS = {"domains": "register_domain", "records": "set_record", "sites": "publish",
             "lookalikes": "register_lookalike", "certificates": "issue_certificate", "zones": "load_zone",
             "ptr": "set_ptr", "bimi": "publish_bimi"}


def load(path: str | Path) -> Scenario:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    return from_dict(data, str(path))


def from_dict(data: dict[str, Any], path: str = "") -> Scenario:
    settings = dict(data.get("lab", {}))
    actions: list[Action] = []
    for section, action in _SECTIONS.items():
        for item in data.get(section, []):
            params = dict(item)
            at = parse_offset(params.pop("at", 0))
            actions.append(Action(action, params, at, params.pop("label", "")))
    for item in data.get("events", []):
        params = dict(item)
        actions.append(Action(params.pop("action"), params, parse_offset(params.pop("at", 0)),
                              params.pop("label", "")))
    actions.sort(key=lambda a: a.at)  # stable: file order within the same instant
    return Scenario(settings.get("name", Path(path).stem), settings, list(data.get("registrars", [])),
                    list(data.get("networks", [])), actions, path)
