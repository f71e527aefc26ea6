"""Who can take a site down: recipients from RDAP/WHOIS facts, IP RDAP, the hosting table and config.

Pure: every function takes facts (parsed JSON, text, plain values) and returns recipients. The
watcher looks the facts up and stores the result.

Levels (``Recipient.level``, stored as ``TakedownRequest.escalation_level``):

- 0 — sent when the candidate is confirmed: the registrar's abuse desk, the hosting network's abuse
  desk, the CDN / free-hosting service the site sits behind, and the ``takedown.always_inform``
  parties (JPCERT/CC, the Council of Anti-Phishing Japan: they want every confirmed site at once).
- 1 — the ``takedown.escalate_to`` parties, drafted only when level 0 has not brought the site down
  after ``takedown.escalate_after_hours``.

The cut rules (``cut``) run last, on every list, whatever its source:

- never an address at an official or group domain of any brand (a network whose RDAP abuse contact
  is the firm itself, a misconfigured table entry: the firm must not report itself);
- never an address at the candidate's own host or registrable domain (it tips off the phisher),
  except the registrable domain of a free-hosting service the site lives on (``abuse@freehost.test``
  for ``evil.freehost.test`` is the service, not the phisher).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

# The RecipientKind values of watcher.models (takedown imports nothing from watcher).
REGISTRAR, HOSTING, CDN, CERT, OTHER = "registrar", "hosting", "cdn", "cert", "other"

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@dataclass(frozen=True)
class Recipient:
    kind: str  # registrar, hosting, cdn, cert, other
    name: str
    email: str = ""
    form_url: str = ""  # a recipient that takes reports only by web form has no email
    language: str = "en"  # ja or en: the language of the request
    level: int = 0
    source: str = ""  # where the address came from, shown in the request's history

    @property
    def channel(self) -> str:
        return "email" if self.email else "webform"

    @property
    def address(self) -> str:
        return self.email or self.form_url


@dataclass(frozen=True)
class Cut:
    recipient: Recipient
    why: str


def valid_email(address: str) -> bool:
    return bool(_EMAIL.match(address or ""))


def email_domain(address: str) -> str:
    return address.rpartition("@")[2].lower().rstrip(".")


def _under(name: str, domain: str) -> bool:
    name, domain = name.lower().rstrip("."), domain.lower().rstrip(".")
    return bool(domain) and (name == domain or name.endswith("." + domain))


# ---------------------------------------------------------------- RDAP (RFC 9083) facts


def vcard_value(entity: Mapping[str, Any], prop: str) -> str:
    """The first ``prop`` (email, fn, ...) of an entity's jCard (RFC 7095)."""
    card = entity.get("vcardArray")
    if not isinstance(card, list) or len(card) < 2 or not isinstance(card[1], list):
        return ""
    for item in card[1]:
        if isinstance(item, list) and len(item) >= 4 and item[0] == prop and isinstance(item[3], str):
            value = item[3]
            return value.removeprefix("mailto:") if prop == "email" else value
    return ""


def _entities(obj: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    for e in obj.get("entities") or []:
        if isinstance(e, Mapping):
            yield e


def _abuse_email_of(entity: Mapping[str, Any]) -> str:
    for sub in _entities(entity):
        if "abuse" in (sub.get("roles") or []):
            email = vcard_value(sub, "email")
            if email:
                return email
    return vcard_value(entity, "email") if "abuse" in (entity.get("roles") or []) else ""


def registrar_from_rdap(rdap: Mapping[str, Any]) -> tuple[str, str]:
    """(registrar name, abuse email) from a domain's RDAP answer.

    ICANN's response profile puts the abuse contact as an entity with role ``abuse`` inside the
    registrar entity. A parsed form (``{"registrar": ..., "abuse_email": ...}``) is read too, so
    the snapshot may store either.
    """
    name, email = "", ""
    for ent in _entities(rdap):
        if "registrar" in (ent.get("roles") or []):
            name = vcard_value(ent, "fn") or str(ent.get("handle") or "")
            email = _abuse_email_of(ent)
    if not email:  # some registries put the abuse entity at the top level
        for ent in _entities(rdap):
            if "abuse" in (ent.get("roles") or []):
                email = vcard_value(ent, "email")
                break
    reg = rdap.get("registrar")
    if not name:
        name = reg.get("name", "") if isinstance(reg, Mapping) else str(reg or "")
    if not email:
        email = str(rdap.get("abuse_email") or rdap.get("registrar_abuse_email") or "")
        if not email and isinstance(reg, Mapping):
            email = str(reg.get("abuse_email") or "")
    return name, email


def abuse_from_whois(text: str) -> tuple[str, str]:
    """(registrar name, abuse email) from WHOIS text: the ``Abuse`` line, else any email on a line
    that mentions abuse. JPRS-style ``[登録担当者]`` lines name the registrar."""
    name, email = "", ""
    for line in text.splitlines():
        low = line.lower()
        if not name and ("registrar:" in low or "登録担当" in line or "sponsoring registrar" in low):
            name = line.split(":", 1)[-1].split("]", 1)[-1].strip()
        if not email and "abuse" in low:
            found = _EMAIL_IN_TEXT.search(line)
            if found:
                email = found.group(0)
    return name, email


def network_from_rdap(ip_rdap: Mapping[str, Any]) -> tuple[str, str, str]:
    """(network name, abuse email, country) from an IP network's RDAP answer (or a parsed form)."""
    email = ""
    for ent in _entities(ip_rdap):
        if "abuse" in (ent.get("roles") or []):
            email = vcard_value(ent, "email")
            if email:
                break
        email = email or _abuse_email_of(ent)
    org = ""
    for ent in _entities(ip_rdap):
        if "registrant" in (ent.get("roles") or []):
            org = vcard_value(ent, "fn")
    name = org or str(ip_rdap.get("org") or ip_rdap.get("name") or "")
    email = email or str(ip_rdap.get("abuse_email") or "")
    return name, email, str(ip_rdap.get("country") or "")


# ---------------------------------------------------------------- gathering


def _language(email: str, *, tld: str = "", country: str = "") -> str:
    """Japanese for Japanese desks: a .jp address, a .jp registration's registrar, a JP network."""
    if email_domain(email).endswith(".jp") or tld == "jp" or country.upper() == "JP":
        return "ja"
    return "en"


def gather(
    *,
    domain: str,
    registrable: str,
    rdap: Mapping[str, Any] | None = None,
    whois_text: str = "",
    networks: Iterable[Mapping[str, Any]] = (),
    hosting: Mapping[str, Any] | None = None,
    always_inform: Iterable[Mapping[str, Any]] = (),
    escalate_to: Iterable[Mapping[str, Any]] = (),
) -> list[Recipient]:
    """Every recipient the facts name, deduplicated by address, before the cut rules.

    ``networks`` are IP RDAP answers, one per address the site resolves to; ``hosting`` is
    ``watcher.hosting.Hosting`` as a dict (service, kind, abuse_email, form_url, source);
    parties are ``PartySettings`` as dicts (name, email, form_url, language).
    """
    tld = registrable.rsplit(".", 1)[-1].lower()
    out: list[Recipient] = []
    name, email = registrar_from_rdap(rdap or {})
    src = "RDAP registrar abuse contact"
    if not email and whois_text:
        wname, email = abuse_from_whois(whois_text)
        name, src = name or wname, "WHOIS abuse contact"
    if email:
        out.append(Recipient(REGISTRAR, name or "Registrar", email=email, source=src,
                             language=_language(email, tld=tld)))
    if hosting and (hosting.get("abuse_email") or hosting.get("form_url")):
        kind = CDN if str(hosting.get("kind", "")).lower() == "cdn" else HOSTING
        out.append(Recipient(kind, str(hosting.get("service") or "Hosting service"),
                             email=str(hosting.get("abuse_email") or ""), form_url=str(hosting.get("form_url") or ""),
                             source=f"hosting table: {hosting.get('source') or hosting.get('service')}",
                             language=_language(str(hosting.get("abuse_email") or ""))))
    for net in networks:
        nname, nemail, country = network_from_rdap(net)
        if nemail:
            where = net.get("handle") or net.get("name") or ""
            out.append(Recipient(HOSTING, nname or "Hosting network", email=nemail,
                                 source=f"IP RDAP abuse contact {where}".strip(),
                                 language=_language(nemail, country=country)))
    for level, parties in ((0, always_inform), (1, escalate_to)):
        for p in parties:
            if p.get("email") or p.get("form_url"):
                out.append(Recipient(CERT if level == 0 else OTHER, str(p.get("name") or ""),
                                     email=str(p.get("email") or ""), form_url=str(p.get("form_url") or ""),
                                     language=str(p.get("language") or "ja"), level=level, source="config"))
    return dedupe(out)


def dedupe(recipients: Iterable[Recipient]) -> list[Recipient]:
    """One recipient per address (case-insensitive); the first (most specific) wins."""
    seen: set[str] = set()
    out = []
    for r in recipients:
        key = r.address.lower()
        if key and key not in seen:
            seen.add(key)
            out.append(r)
    return out


def cut(
    recipients: Iterable[Recipient],
    *,
    protected_domains: Iterable[str],
    domain: str,
    registrable: str,
    hosting: Mapping[str, Any] | None = None,
) -> tuple[list[Recipient], list[Cut]]:
    """Apply the cut rules (see the module docstring); returns (kept, cut with the reason)."""
    protected = [d.lower() for d in protected_domains if d]
    phisher = [domain.lower()]
    # The registrable domain is the phisher's unless the site is a subdomain of a hosting service
    # whose own address is at that domain (free hosting: abuse@freehost.test for x.freehost.test).
    service_domain = email_domain(str((hosting or {}).get("abuse_email") or ""))
    if not (service_domain and _under(service_domain, registrable)):
        phisher.append(registrable.lower())
    kept, dropped = [], []
    for r in recipients:
        if r.email and not valid_email(r.email):
            dropped.append(Cut(r, f"not a valid email address: {r.email!r}"))
            continue
        where = email_domain(r.email) if r.email else _host_of(r.form_url)
        if any(_under(where, p) for p in protected):
            dropped.append(Cut(r, f"{r.address} is the firm's own address (official or group domain)"))
        elif any(_under(where, p) for p in phisher):
            dropped.append(Cut(r, f"{r.address} is at the reported domain itself (would tip off the phisher)"))
        else:
            kept.append(r)
    return kept, dropped


def _host_of(url: str) -> str:
    m = re.match(r"^[a-z][a-z0-9+.-]*://([^/:?#]+)", url or "", re.I)
    return m.group(1).lower() if m else ""


def with_level(r: Recipient, level: int) -> Recipient:
    return replace(r, level=level)
