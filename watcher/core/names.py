"""The one normaliser for every domain name that enters omamori.

IDNA 2008 with UTS #46 mapping to A-labels, lowercase, no trailing dot; the registrable domain from
the public suffix list bundled with tldextract (never downloaded at run time). Invalid names are
rejected with ``InvalidName`` saying what is wrong, so a hostile certificate or report cannot put
garbage into the database.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

import idna
import tldextract

MAX_NAME = 253
MAX_LABEL = 63
# DNS labels outside hostnames (``_dmarc``, ``_mta-sts``, SRV) and some certificates carry underscores.
_UNDERSCORE_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
# Dots that IDNA's UTS #46 treats as label separators (ideographic full stop etc.).
_DOTS = str.maketrans({"。": ".", "．": ".", "｡": "."})


class InvalidName(ValueError):
    """A name that cannot be a DNS name; the message says why."""


@dataclass(frozen=True, slots=True)
class Name:
    ascii: str  # A-label form, lowercase, no trailing dot, without a leading "*." wildcard
    unicode: str  # U-label form for display
    registrable: str  # ICANN registrable domain ("" for a bare public suffix or an IP)
    site: str  # registrable including private suffixes (user.github.io), for grouping free hosting
    suffix: str
    wildcard: bool = False
    is_ip: bool = False

    @property
    def labels(self) -> list[str]:
        return self.ascii.split(".")

    @property
    def subdomain(self) -> str:
        if not self.registrable or self.ascii == self.registrable:
            return ""
        return self.ascii[: -len(self.registrable) - 1]

    def __str__(self) -> str:
        return ("*." if self.wildcard else "") + self.ascii


@lru_cache(maxsize=1)
def _icann() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)


@lru_cache(maxsize=1)
def _private() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def _to_alabel(label: str, whole: str) -> str:
    if not label:
        raise InvalidName(f"{whole!r}: empty label")
    if label.isascii():
        label = label.lower()
        if len(label) > MAX_LABEL:
            raise InvalidName(f"{whole!r}: label {label[:20]!r}... is longer than 63 octets")
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except idna.IDNAError as e:
                raise InvalidName(f"{whole!r}: bad punycode label {label!r} ({e})") from None
            return label
        if "_" in label:
            if not _UNDERSCORE_LABEL.match(label):
                raise InvalidName(f"{whole!r}: label {label!r} has characters not allowed in DNS")
            return label
    try:
        out = idna.encode(label, uts46=True, std3_rules=True, transitional=False).decode("ascii")
    except idna.IDNAError as e:
        raise InvalidName(f"{whole!r}: label {label!r} is not a valid IDNA label ({e})") from None
    if len(out) > MAX_LABEL:
        raise InvalidName(f"{whole!r}: label {label!r} is longer than 63 octets")
    return out


@lru_cache(maxsize=65536)
def normalize_host(raw: str, *, allow_wildcard: bool = True, allow_ip: bool = True) -> Name:
    """Normalise a hostname (or a bare IP address) as it arrives from any source.

    Accepts mixed case, a trailing dot, full-width characters and U-labels; a leading ``*.``
    is kept as a flag. Rejects empty, over-long, and otherwise impossible names.
    """
    if not isinstance(raw, str):
        raise InvalidName(f"{raw!r}: not a string")
    s = raw.strip().translate(_DOTS)
    if not s:
        raise InvalidName("empty name")
    if any(c.isspace() or ord(c) < 0x20 for c in s):
        raise InvalidName(f"{raw!r}: contains whitespace or control characters")
    host = s[1:-1] if s.startswith("[") and s.endswith("]") else s
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        if not allow_ip:
            raise InvalidName(f"{raw!r}: an IP address, not a domain name")
        text = str(ip)
        return Name(ascii=text, unicode=text, registrable="", site="", suffix="", is_ip=True)
    if s.endswith("."):
        s = s[:-1]
    wildcard = False
    if s.startswith("*."):
        if not allow_wildcard:
            raise InvalidName(f"{raw!r}: wildcard not allowed here")
        wildcard, s = True, s[2:]
    if "*" in s:
        raise InvalidName(f"{raw!r}: '*' is only allowed as the whole leftmost label")
    labels = [_to_alabel(label, raw) for label in s.split(".")]
    ascii_name = ".".join(labels)
    if len(ascii_name) > MAX_NAME:
        raise InvalidName(f"{raw!r}: longer than 253 octets")
    if len(labels) < 2 and ascii_name != "localhost":
        raise InvalidName(f"{raw!r}: a single label is not a public domain name")
    if labels[-1].isdigit():
        raise InvalidName(f"{raw!r}: the top-level label cannot be numeric")
    icann = _icann()(ascii_name)
    priv = _private()(ascii_name)
    registrable = f"{icann.domain}.{icann.suffix}" if icann.domain and icann.suffix else ""
    site = f"{priv.domain}.{priv.suffix}" if priv.domain and priv.suffix else registrable
    try:
        unicode_name = idna.decode(ascii_name) if "xn--" in ascii_name else ascii_name
    except idna.IDNAError:
        unicode_name = ascii_name
    return Name(
        ascii=ascii_name,
        unicode=unicode_name,
        registrable=registrable,
        site=site,
        suffix=icann.suffix,
        wildcard=wildcard,
    )


def try_normalize(raw: str) -> Name | None:
    try:
        return normalize_host(raw)
    except InvalidName:
        return None


def registrable(raw: str) -> str:
    n = normalize_host(raw)
    return n.registrable or n.ascii


def is_within(name: str, domain: str) -> bool:
    """True when ``name`` is ``domain`` or a subdomain of it (both already normalised)."""
    return name == domain or name.endswith("." + domain)


def flatten(domain: str) -> str:
    """``hoshizora-sec.co.jp`` -> ``hoshizora-sec-co-jp``: how phishers fold a domain into one label."""
    return domain.replace(".", "-")


def translate_goog_original(host: str) -> str:
    """``www-hoshizora--sec-co-jp.translate.goog`` -> ``www.hoshizora-sec.co.jp`` (Google's encoding:
    ``-`` for ``.`` and ``--`` for ``-``); "" when ``host`` is not a translate proxy name."""
    host = host.lower().rstrip(".")
    if not host.endswith(".translate.goog"):
        return ""
    label = host[: -len(".translate.goog")]
    if "." in label or not label:
        return ""
    return label.replace("--", "\x00").replace("-", ".").replace("\x00", "-")
