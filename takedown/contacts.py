"""Who can take a site down: recipients from the registrar, the networks, the hosting table and config.

Pure: every function takes typed facts (``RegistrarFacts``, ``NetworkFacts``, ``HostingFacts``,
which the watcher fills from the registration records its snapshot kept) and returns recipients.

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

# The RecipientKind values of watcher.core.models (takedown imports nothing from watcher).
REGISTRAR, HOSTING, CDN, CERT, OTHER = "registrar", "hosting", "cdn", "cert", "other"
SHORTENER, OWNER = "shortener", "owner"
# The TakedownMode values (takedown.policy.site_mode).
SUSPEND, REMOVE_CONTENT = "suspend", "remove_content"

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")


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
    why: str  # in English, for the log and the audit trail
    code: str = ""  # invalid_email | own_address | phisher_address: what a reader's language says instead


def valid_email(address: str) -> bool:
    return bool(_EMAIL.match(address or ""))


def email_domain(address: str) -> str:
    return address.rpartition("@")[2].lower().rstrip(".")


def _under(name: str, domain: str) -> bool:
    name, domain = name.lower().rstrip("."), domain.lower().rstrip(".")
    return bool(domain) and (name == domain or name.endswith("." + domain))


# ---------------------------------------------------------------- facts (the watcher reads RDAP and WHOIS)


@dataclass(frozen=True)
class RegistrarFacts:
    """The domain's registrar, as the registration lookup found it."""

    name: str = ""
    abuse_email: str = ""
    source: str = "rdap"  # rdap | whois: where the address was published


@dataclass(frozen=True)
class NetworkFacts:
    """One IP network the site resolves into, from IP RDAP."""

    name: str = ""
    handle: str = ""
    abuse_email: str = ""
    country: str = ""


@dataclass(frozen=True)
class ShortenerFacts:
    """A short link in the lure and the shortener's published abuse desk (data/shorteners.json)."""

    url: str
    service: str = ""
    abuse_email: str = ""
    form_url: str = ""
    source: str = ""


@dataclass(frozen=True)
class OwnerFacts:
    """A hacked site's owner: the registrant's published address, else the site's role mailbox."""

    name: str = ""
    email: str = ""
    source: str = ""


@dataclass(frozen=True)
class HostingFacts:
    """The CDN / free-hosting / cloud service the site sits behind (the hosting table)."""

    service: str = ""
    kind: str = ""  # cdn | free_hosting | cloud
    abuse_email: str = ""
    form_url: str = ""
    source: str = ""


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
    registrar: RegistrarFacts | None = None,
    networks: Iterable[NetworkFacts] = (),
    hosting: HostingFacts | None = None,
    always_inform: Iterable[Mapping[str, Any]] = (),
    escalate_to: Iterable[Mapping[str, Any]] = (),
    registry_fallback: Iterable[Mapping[str, Any]] = (),
    shorteners: Iterable[ShortenerFacts] = (),
    owner: OwnerFacts | None = None,
    mode: str = SUSPEND,
) -> list[Recipient]:
    """Every recipient the facts name, deduplicated by address, before the cut rules.

    ``networks``: one per network the site's addresses are in; parties are ``PartySettings`` as
    dicts (name, email, form_url, language). ``registry_fallback``: asked instead of a registrar
    that published no address (JPRS for a .jp name). ``mode``: in ``remove_content`` (a hacked
    site) the registrar is not asked to suspend a victim's domain; the host and the owner remove
    the content.
    """
    tld = registrable.rsplit(".", 1)[-1].lower()
    out: list[Recipient] = []
    if mode == REMOVE_CONTENT:
        if owner is not None and owner.email:
            out.append(Recipient(OWNER, owner.name or "Site owner", email=owner.email, source=owner.source,
                                 language=_language(owner.email, tld=tld)))
    elif registrar is not None and registrar.abuse_email:
        src = {"whois": "WHOIS abuse contact", "jp-designated": "designated registrar table (JPRS WHOIS names it)",
               "whois-contact": "WHOIS public contact (designated registrar)"}.get(
            registrar.source, "RDAP registrar abuse contact")
        out.append(Recipient(REGISTRAR, registrar.name or "Registrar", email=registrar.abuse_email, source=src,
                             language=_language(registrar.abuse_email, tld=tld)))
    elif mode == SUSPEND:
        for p in registry_fallback:
            if p.get("email") or p.get("form_url"):
                out.append(Recipient(REGISTRAR, str(p.get("name") or "Registry"), email=str(p.get("email") or ""),
                                     form_url=str(p.get("form_url") or ""), language=str(p.get("language") or "ja"),
                                     source=f"registry fallback: {p.get('source') or 'parties table'}"))
    if hosting is not None and (hosting.abuse_email or hosting.form_url):
        kind = CDN if hosting.kind.lower() == "cdn" else HOSTING
        out.append(Recipient(kind, hosting.service or "Hosting service", email=hosting.abuse_email,
                             form_url=hosting.form_url, source=f"hosting table: {hosting.source or hosting.service}",
                             language=_language(hosting.abuse_email)))
    for net in networks:
        if net.abuse_email:
            out.append(Recipient(HOSTING, net.name or "Hosting network", email=net.abuse_email,
                                 source=f"IP RDAP abuse contact {net.handle or net.name}".strip(),
                                 language=_language(net.abuse_email, country=net.country)))
    for sh in shorteners:
        if sh.abuse_email or sh.form_url:
            out.append(Recipient(SHORTENER, sh.service or "URL shortener", email=sh.abuse_email,
                                 form_url=sh.form_url, source=f"shortener table: {sh.source or sh.service}",
                                 language=_language(sh.abuse_email)))
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
    hosting: HostingFacts | None = None,
) -> tuple[list[Recipient], list[Cut]]:
    """Apply the cut rules (see the module docstring); returns (kept, cut with the reason).

    A hacked site's owner (kind ``owner``) is the victim, not the phisher: an address at the
    site's own domain is the right one there."""
    protected = [d.lower() for d in protected_domains if d]
    phisher = [domain.lower()]
    # The registrable domain is the phisher's unless the site is a subdomain of a hosting service
    # whose own address is at that domain (free hosting: abuse@freehost.test for x.freehost.test).
    service_domain = email_domain(hosting.abuse_email) if hosting is not None else ""
    if not (service_domain and _under(service_domain, registrable)):
        phisher.append(registrable.lower())
    kept, dropped = [], []
    for r in recipients:
        if r.email and not valid_email(r.email):
            dropped.append(Cut(r, f"not a valid email address: {r.email!r}", "invalid_email"))
            continue
        where = email_domain(r.email) if r.email else _host_of(r.form_url)
        if any(_under(where, p) for p in protected):
            dropped.append(Cut(r, f"{r.address} is the firm's own address (official or group domain)", "own_address"))
        elif r.kind != OWNER and any(_under(where, p) for p in phisher):
            dropped.append(Cut(r, f"{r.address} is at the reported domain itself (would tip off the phisher)",
                               "phisher_address"))
        else:
            kept.append(r)
    return kept, dropped


def _host_of(url: str) -> str:
    m = re.match(r"^[a-z][a-z0-9+.-]*://([^/:?#]+)", url or "", re.I)
    return m.group(1).lower() if m else ""


def with_level(r: Recipient, level: int) -> Recipient:
    return replace(r, level=level)
