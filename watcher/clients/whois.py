"""WHOIS (port 43) for the TLDs without RDAP, parsed into the same ``Registration`` as RDAP.

Two parsers: JPRS's bracketed layout (``[Domain Name]``, ``[登録年月日]``, ``a. [ドメイン名]``; .jp has no
RDAP service, so this is how .jp lookalikes get their dates and status) and a generic ``key: value``
parser for the ICANN-style text most other registries answer with. Hostile or odd text yields a
record with what could be read, never an exception.
"""

from __future__ import annotations

import re
import socket
from typing import Any

from watcher.clients.records import Registration, epp_status, parse_date

MAX_BYTES = 256 * 1024  # a WHOIS answer is a few KB; a server that streams forever is cut off


def query(host: str, port: int, name: str, timeout: float = 10.0) -> str:
    """Ask a port-43 server about ``name``; the answer as text (UTF-8, or Latin-1 when it is not)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.settimeout(timeout)
        s.sendall(name.encode("idna") + b"\r\n")
        chunks: list[bytes] = []
        size = 0
        while size < MAX_BYTES:
            data = s.recv(8192)
            if not data:
                break
            chunks.append(data)
            size += len(data)
    raw = b"".join(chunks)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def split_server(spec: str) -> tuple[str, int]:
    """``whois.jprs.jp`` or ``127.0.0.1:4343`` -> (host, port)."""
    host, sep, port = spec.rpartition(":")
    if sep and port.isdigit() and host and not host.endswith(":"):
        return host, int(port)
    return spec, 43


_NOT_FOUND = re.compile(r"^\s*(no match|not found|no entries found|no data found|domain not found|"
                        r"the queried object does not exist|status:\s*free|no object found)", re.I | re.M)
_JPRS_LINE = re.compile(r"^\s*(?:[a-z]\.\s*)?\[(?P<key>[^\]]+)\]\s*(?P<value>.*?)\s*$")

# JPRS keys (English and Japanese) -> our field.
_JPRS_KEYS = {
    "domain name": "name", "ドメイン名": "name",
    "registrant": "registrant", "登録者名": "registrant", "組織名": "registrant", "organization": "registrant",
    "name server": "ns", "ネームサーバ": "ns",
    "created on": "created", "登録年月日": "created",
    "expires on": "expires", "有効期限": "expires",
    "status": "status", "状態": "status", "state": "status",
    "registered date": "created",
    "last updated": "updated", "last update": "updated", "最終更新": "updated",
    "signing key": "signing_key",
    "名前": "contact_name", "name": "contact_name",
    "email": "contact_email",
    "電話番号": "contact_phone", "phone": "contact_phone",
    "registrar": "registrar",
}


def looks_jprs(text: str) -> bool:
    return sum(1 for line in text.splitlines() if _JPRS_LINE.match(line)) >= 3


def parse(text: str, name: str, server: str = "") -> Registration:
    """Whichever layout ``text`` is in."""
    reg = parse_jprs(text, name) if looks_jprs(text) else parse_generic(text, name)
    reg.raw = {"whois": text[:20000], "server": server}
    return reg


def parse_jprs(text: str, name: str) -> Registration:
    reg = Registration(name=name, source="whois")
    if _NOT_FOUND.search(text):
        reg.exists = False
        return reg
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        m = _JPRS_LINE.match(line)
        if not m:
            continue
        key = _JPRS_KEYS.get(m["key"].strip().lower())
        if key and m["value"]:
            fields.setdefault(key, []).append(m["value"])
    first = {k: v[0] for k, v in fields.items()}
    reg.created_at = parse_date(first.get("created", ""))
    reg.expires_at = parse_date(first.get("expires", ""))
    reg.updated_at = parse_date(first.get("updated", ""))
    reg.nameservers = sorted({v.lower().rstrip(".") for v in fields.get("ns", [])})
    reg.dnssec = bool(fields.get("signing_key"))
    if "status" in first:
        reg.statuses = [_jprs_status(first["status"])]
    # JPRS shows a public contact, which for most .jp names is the designated registrar (指定事業者).
    # Its address goes in as the abuse contact only when it is not inside the domain itself
    # (hostmaster@phish.jp reaches the phisher, not someone who can suspend it).
    reg.registrar = first.get("registrar", "") or first.get("contact_name", "")
    email = first.get("contact_email", "")
    if email and not email.lower().endswith("@" + name.lower()) and not email.lower().endswith("." + name.lower()):
        reg.abuse_email = email
    reg.abuse_phone = first.get("contact_phone", "") if reg.abuse_email else ""
    reg.extra = {"registrant": first.get("registrant", ""), "contact_name": first.get("contact_name", ""),
                 "contact_email": email}
    return reg


def _jprs_status(value: str) -> str:
    # "Active", "Connected (2026/03/31)", "Suspended", "To be suspended", "Deleted" -> lowercase words
    v = value.strip().lower()
    if v.startswith("connected"):
        return "active"
    return re.sub(r"\s*\(.*\)$", "", v)


_GENERIC_KEYS = {
    "domain name": "name", "domain": "name",
    "registrar": "registrar", "sponsoring registrar": "registrar", "registrar name": "registrar",
    "registrar iana id": "iana_id",
    "registrar abuse contact email": "abuse_email", "abuse contact email": "abuse_email",
    "registrar abuse contact phone": "abuse_phone", "abuse contact phone": "abuse_phone",
    "creation date": "created", "created": "created", "created on": "created", "registration time": "created",
    "registered on": "created", "domain registration date": "created",
    "registry expiry date": "expires", "registrar registration expiration date": "expires",
    "expiration date": "expires", "expiry date": "expires", "expires": "expires", "expires on": "expires",
    "expiration time": "expires", "paid-till": "expires",
    "updated date": "updated", "last updated": "updated", "last modified": "updated", "changed": "updated",
    "domain status": "status", "status": "status", "state": "status",
    "name server": "ns", "nameserver": "ns", "nserver": "ns", "name servers": "ns",
    "dnssec": "dnssec",
}


def parse_generic(text: str, name: str) -> Registration:
    """ICANN-style ``Key: value`` WHOIS (Verisign, CNNIC, most gTLD registries)."""
    reg = Registration(name=name, source="whois")
    if _NOT_FOUND.search(text):
        reg.exists = False
        return reg
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        if ":" not in line or line.lstrip().startswith(("%", "#", ">>>")):
            continue
        key, _, value = line.partition(":")
        field = _GENERIC_KEYS.get(key.strip().lower())
        value = value.strip()
        if field and value:
            fields.setdefault(field, []).append(value)
    first = {k: v[0] for k, v in fields.items()}
    reg.registrar = first.get("registrar", "")
    reg.registrar_iana_id = first.get("iana_id", "")
    reg.abuse_email = first.get("abuse_email", "")
    reg.abuse_phone = first.get("abuse_phone", "")
    reg.created_at = parse_date(first.get("created", ""))
    reg.expires_at = parse_date(first.get("expires", ""))
    reg.updated_at = parse_date(first.get("updated", ""))
    reg.statuses = _unique(epp_status(v.split()[0]) if " " in v and "http" in v else epp_status(v)
                           for v in fields.get("status", []))
    reg.nameservers = sorted({v.split()[0].lower().rstrip(".") for v in fields.get("ns", [])})
    if "dnssec" in first:
        reg.dnssec = first["dnssec"].strip().lower() not in ("unsigned", "no", "inactive", "false")
    return reg


def _unique(items: Any) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))
