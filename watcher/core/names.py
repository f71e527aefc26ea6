"""The one normaliser for every domain name that enters omamori.

IDNA 2008 with UTS #46 mapping to A-labels, lowercase, no trailing dot; the registrable domain from
the public suffix list bundled with tldextract (never downloaded at run time). Invalid names are
rejected with ``InvalidName`` saying what is wrong, so a hostile certificate or report cannot put
garbage into the database.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable
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


# Letters of other scripts that read as Latin letters in most fonts (Cyrillic, Greek, Armenian and a
# few Latin extensions): the look-alikes registries' IDN tables allow and phishers register.
_LOOKALIKES: dict[str, str] = {
    "а": "a", "ɑ": "a", "α": "a", "в": "b", "с": "c", "ϲ": "c", "ԁ": "d", "е": "e", "ε": "e", "ҽ": "e",
    "һ": "h", "і": "i", "ı": "i", "ι": "i", "ј": "j", "κ": "k", "к": "k", "ӏ": "l", "м": "m", "ո": "n",
    "п": "n", "η": "n", "о": "o", "ο": "o", "օ": "o", "р": "p", "ρ": "p", "ԛ": "q", "г": "r", "ѕ": "s",
    "т": "t", "τ": "t", "υ": "u", "ս": "u", "ν": "v", "ѵ": "v", "ԝ": "w", "ω": "w", "х": "x", "χ": "x",
    "у": "y", "γ": "y", "ʏ": "y", "ᴢ": "z",
}


def _script(ch: str) -> str:
    """The script of one character, coarsely (what a reader would call it): Latin, Cyrillic, ..."""
    if ch.isascii():
        return "Latin" if ch.isalpha() else ""
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return "Unknown"
    for script in ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "HIRAGANA", "KATAKANA", "CJK", "HANGUL",
                   "ARABIC", "HEBREW", "THAI", "FULLWIDTH"):
        if name.startswith(script):
            return "Han" if script == "CJK" else script.title()
    return "Other"


def skeleton(text: str) -> str:
    """``text`` as it reads: look-alike letters folded to Latin, accents dropped (``hoshizora-seс`` with a
    Cyrillic ``с`` -> ``hoshizora-sec``)."""
    out = []
    for ch in text.lower():
        ch = _LOOKALIKES.get(ch, ch)
        if not ch.isascii():
            ch = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class ShownName:
    """A hostname as a person must see it: the Unicode form with every non-ASCII character marked,
    the A-label beside it, the scripts it mixes, and the official domain it imitates."""

    unicode: str
    alabel: str
    marked: tuple[int, ...]  # positions in ``unicode`` of the characters to highlight
    scripts: tuple[str, ...]
    looks_like: str = ""

    @property
    def is_idn(self) -> bool:
        return self.unicode != self.alabel

    @property
    def mixed_script(self) -> bool:
        return len([s for s in self.scripts if s not in ("", "Han", "Hiragana", "Katakana")]) > 1

    def spans(self) -> list[tuple[str, bool]]:
        """The Unicode form in runs of (text, highlighted)."""
        runs: list[tuple[str, bool]] = []
        for i, ch in enumerate(self.unicode):
            hot = i in self.marked
            if runs and runs[-1][1] == hot:
                runs[-1] = (runs[-1][0] + ch, hot)
            else:
                runs.append((ch, hot))
        return runs

    def plain(self) -> str:
        """One line for letters, reports and terminals: ``U-label (A-label)``, or the name alone."""
        return f"{self.unicode} ({self.alabel})" if self.is_idn else self.alabel

    def bracketed(self) -> str:
        """The Unicode form with each highlighted run in ［］, for plain text where colour is not there."""
        return "".join(f"［{t}］" if hot else t for t, hot in self.spans())


def show_name(name: str, official: Iterable[str] = ()) -> ShownName:
    """How to show ``name`` (an A-label or Unicode hostname) safely; ``official`` are the firm's own
    domains, for the "looks like" badge. Never raises: a name that does not normalise is shown as is,
    every non-ASCII character marked."""
    n = try_normalize(name)
    uni = n.unicode if n else name
    alabel = n.ascii if n else name
    marked = tuple(i for i, ch in enumerate(uni) if not ch.isascii())
    scripts = tuple(sorted({s for s in map(_script, uni) if s}))
    reg = (n.registrable or n.ascii) if n else name
    try:
        reg_uni = idna.decode(reg) if "xn--" in reg else reg
    except idna.IDNAError:
        reg_uni = reg
    return ShownName(uni, alabel, marked, scripts, _looks_like(uni, alabel, reg_uni, official))


def _looks_like(uni: str, alabel: str, registrable: str, official: Iterable[str]) -> str:
    """The official domain whose name this one reads as, when it is not that domain: the same letters
    with look-alike characters, on the same or another suffix."""
    first = skeleton(registrable.split(".")[0])
    whole = skeleton(uni)
    for dom in official:
        d = dom.lower().strip(".")
        if d == alabel or alabel.endswith("." + d):
            return ""  # it is ours
        label = d.split(".")[0]
        if whole == d or whole.endswith("." + d):
            return d
        if uni != alabel and first in (label, d.replace(".", "-")):
            return d
    return ""


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
