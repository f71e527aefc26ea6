"""The facts a registration lookup yields, whatever asked: RDAP, WHOIS, or the snapshot that kept them.

One ``Registration`` (a domain) and one ``Network`` (an IP block) are what the RDAP client returns,
what the WHOIS parsers fill, what a Snapshot stores (``as_dict``) and what the takedown side and the
owned-domain checks read back (``from_dict``). Nobody else reads RDAP JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta, timezone
from typing import Any


@dataclass
class Registration:
    name: str
    source: str = "rdap"  # rdap | whois
    registrar: str = ""
    registrar_iana_id: str = ""
    abuse_email: str = ""
    abuse_phone: str = ""
    created_at: datetime | None = None
    expires_at: datetime | None = None
    updated_at: datetime | None = None
    statuses: list[str] = field(default_factory=list)  # RFC 8056 words, lowercase: "client hold"
    nameservers: list[str] = field(default_factory=list)
    dnssec: bool | None = None
    error: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    exists: bool = True  # False on RDAP 404 / WHOIS "No match"
    server: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # registrant, public contact, ...

    @property
    def on_hold(self) -> bool:
        """Suspended by the registrar or registry (the takedown worked)."""
        return any(s in ("client hold", "server hold", "suspended") for s in self.statuses)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("created_at", "expires_at", "updated_at"):
            d[k] = d[k].isoformat() if d[k] else None
        return json.loads(json.dumps(d, default=str))

    @classmethod
    def from_dict(cls, data: Any, name: str = "") -> Registration:
        """A Registration back from its ``as_dict`` form (as a Snapshot keeps it); unknown keys are
        ignored and a missing or malformed value stays empty, so an old snapshot still reads."""
        if not isinstance(data, dict):
            return cls(name=name, error="no registration facts")
        known = {f.name for f in fields(cls)}
        kw: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        for k in ("created_at", "expires_at", "updated_at"):
            v = kw.get(k)
            kw[k] = v if isinstance(v, datetime) else parse_date(v)
        for k in ("statuses", "nameservers"):
            v = kw.get(k)
            kw[k] = [str(x) for x in v] if isinstance(v, list) else []
        for k in ("raw", "extra"):
            if not isinstance(kw.get(k), dict):
                kw.pop(k, None)
        kw.setdefault("name", name)
        for k in ("name", "source", "registrar", "registrar_iana_id", "abuse_email", "abuse_phone", "error",
                  "server"):
            if k in kw:
                kw[k] = str(kw[k] or "")
        return cls(**kw)


@dataclass
class Network:
    address: str
    start: str = ""
    end: str = ""
    cidr: str = ""
    name: str = ""
    handle: str = ""
    org: str = ""
    country: str = ""
    abuse_email: str = ""
    abuse_phone: str = ""
    error: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    server: str = ""

    def as_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=str))

    @classmethod
    def from_dict(cls, data: Any, address: str = "") -> Network:
        if not isinstance(data, dict):
            return cls(address=address, error="no network facts")
        kw: dict[str, Any] = {f.name: str(data.get(f.name) or "") for f in fields(cls) if f.name != "raw"}
        kw["address"] = kw["address"] or address
        return cls(**kw)


# ---------------------------------------------------------------- parsing (pure)

_JST = timezone(timedelta(hours=9))
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y.%m.%d %H:%M:%S",
                 "%Y.%m.%d", "%d-%b-%Y", "%d-%b-%Y %H:%M:%S", "%Y%m%d", "%d.%m.%Y", "%Y-%m-%d")


def parse_date(value: Any) -> datetime | None:
    """Aware UTC from the forms registries write: ISO 8601 (``Z``, offsets, fractions, date only),
    ``2026/11/25 10:00:00 (JST)``, ``2026/11/25``, ``25-Nov-2026``, ``2026-11-25 10:00:00 UTC``; None otherwise.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    s = value.strip()
    tz: timezone = UTC
    m = re.search(r"\s*\((JST|UTC|GMT)\)$|\s+(JST|UTC|GMT)$", s)
    if m:
        tz = _JST if "JST" in m.group(0) else UTC
        s = s[: m.start()]
    dt: datetime | None
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
    except ValueError:
        dt = None
        for fmt in _DATE_FORMATS:
            try:
                dt = datetime.strptime(s, fmt)
                break
            except ValueError:
                continue
        if dt is None:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt.astimezone(UTC)


def epp_status(value: str) -> str:
    """``clientTransferProhibited`` / ``client transfer prohibited`` -> ``client transfer prohibited``."""
    v = value.strip()
    if " " not in v:
        v = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", v)
    return v.lower().strip()


