"""The takedown reference tables of data/ (data/README.md): parties, .jp designated registrars, shorteners.

Read from the paths in ``[takedown]`` (the lab points them at its own fictional copies), cached by
path and modification time. A missing or broken table is an empty one plus a log line: a takedown
must not stop because a reference file is bad, and the cases it affects open Findings of their own.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from watcher.core.config import Settings

log = logging.getLogger("omamori.takedowns")


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    role: str  # cert | jp_fallback
    email: str = ""
    form_url: str = ""
    language: str = "ja"
    source: str = ""

    def as_party(self) -> dict[str, str]:
        """The shape ``takedown.contacts.gather`` takes for configured parties."""
        return {"name": self.name, "email": self.email, "form_url": self.form_url, "language": self.language,
                "source": self.source}


@dataclass(frozen=True)
class Shortener:
    host: str
    service: str
    email: str = ""
    form_url: str = ""
    source: str = ""


@lru_cache(maxsize=16)
def _read(path: Path, _mtime: float) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        log.warning("takedown table %s unreadable: %s", path, e)
        return {}
    return data if isinstance(data, dict) else {}


def _load(path: Path) -> dict[str, Any]:
    try:
        mtime = path.stat().st_mtime
    except OSError:
        log.warning("takedown table %s is missing", path)
        return {}
    return _read(path, mtime)


def _str(entry: dict[str, Any], key: str) -> str:
    return str(entry.get(key) or "")


def parties(settings: Settings) -> list[Party]:
    data = _load(settings.path(settings.takedown.parties_file))
    return [Party(_str(p, "id"), _str(p, "name"), _str(p, "role"), _str(p, "email"), _str(p, "form_url"),
                  _str(p, "language") or "ja", _str(p, "source"))
            for p in data.get("parties", []) if isinstance(p, dict) and p.get("id")]


def cert_parties(settings: Settings) -> list[Party]:
    wanted = settings.takedown.cert_parties
    return [p for p in parties(settings) if p.id in wanted]


def jp_fallback(settings: Settings) -> list[Party]:
    return [p for p in parties(settings) if p.role == "jp_fallback"]


def jp_registrar_abuse(settings: Settings, registrar: str) -> tuple[str, str]:
    """(abuse address, source) of the designated registrar named ``registrar``; ("", "") if unknown."""
    key = " ".join(registrar.lower().split())
    if not key:
        return "", ""
    data = _load(settings.path(settings.takedown.jp_registrars_file))
    for r in data.get("registrars", []):
        if not isinstance(r, dict):
            continue
        names = [_str(r, "name"), *[str(a) for a in r.get("aliases", []) or []]]
        if any(" ".join(n.lower().split()) == key for n in names if n):
            return _str(r, "abuse_email"), _str(r, "source")
    return "", ""


def shortener(settings: Settings, host: str) -> Shortener | None:
    host = host.lower().rstrip(".")
    data = _load(settings.path(settings.takedown.shorteners_file))
    for s in data.get("shorteners", []):
        if isinstance(s, dict) and _str(s, "host").lower() == host:
            return Shortener(host, _str(s, "service"), _str(s, "email"), _str(s, "form_url"), _str(s, "source"))
    return None
