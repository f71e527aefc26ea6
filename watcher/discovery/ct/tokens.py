"""How the matcher reads a label: the ASCII confusable fold, tokens, and the words phishers glue to a brand.

A label is read the way a person reads it: hyphens are ignored (``mizuho-bank`` is ``mizuhobank``),
digits 2-9 split it into tokens (``smbc2card``), and look-alike ASCII is folded on both sides of every
comparison (``l``/``i``/``1`` -> ``l``, ``0`` -> ``o``, ``rn`` -> ``m``, ``vv`` -> ``w``, ``cl`` -> ``d``),
so ``rnizuho``, ``mlzuho`` and ``m1zuho`` all read as ``mizuho``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

# Words phishers pair with a brand (English and romanised Japanese): they separate tokens glued
# together (``mercarilogin``), make a short keyword count (``aupay``, ``myjcb``) and are the "combo"
# reason. Finance and login words, and the pieces of a flattened domain (``co``, ``jp``, ``www``).
COMBO_WORDS: Final = (
    "login", "log-in", "signin", "sign-in", "secure", "security", "account", "acount", "support", "verify",
    "verification", "auth", "update", "confirm", "mypage", "my-page", "member", "kabu", "shoken", "syoken",
    "nisa", "trade", "trading", "kouza", "koza", "password", "ident", "check", "service", "online", "web",
    "app", "otp", "reset", "unlock", "info",
)
JOIN_WORDS: Final = frozenset({
    *(w.replace("-", "") for w in COMBO_WORDS),
    "www", "co", "jp", "com", "net", "my", "card", "cards", "bank", "banking", "pay", "point", "points",
    "wallet", "id", "user", "users", "help", "center", "centre", "official", "mobile", "customer", "global",
    "direct", "login", "logon", "sign", "signup", "session", "portal", "home", "page", "site",
    "visa", "master", "credit", "cash", "money", "post", "mail", "sms", "notice", "alert", "safe",
    "safety", "guard", "status", "record", "detail", "details", "access", "manage", "private", "personal",
    "connect", "contact", "japan", "nippon", "ginko", "ginkou", "kaiin", "kojin", "riyou", "meisai", "shop", "store", "smart",
})

_FOLD_CHARS = str.maketrans({"i": "l", "1": "l", "|": "l", "0": "o"})
_FOLD_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_SPLIT = re.compile(r"[-_2-9]+")


def fold(text: str) -> str:
    """The ASCII confusable fold, applied to both the name and the brand's words."""
    s = text.lower().translate(_FOLD_CHARS)
    for a, b in _FOLD_PAIRS:
        if a in s:
            s = s.replace(a, b)
    return s


_FOLDED_WORDS: Final = frozenset(fold(w) for w in JOIN_WORDS)
# Their first and last two letters: most tokens begin and end with neither, and need no further look.
# Each maps to the lengths of the words that begin (end) so, longest first: a word is looked for only
# at the lengths some word has there (about four slices instead of fourteen).
_AFTER: Final = {k: tuple(sorted({len(w) for w in _FOLDED_WORDS if w[:2] == k}, reverse=True))
                 for k in {w[:2] for w in _FOLDED_WORDS}}
_BEFORE: Final = {k: tuple(sorted({len(w) for w in _FOLDED_WORDS if w[-2:] == k}, reverse=True))
                  for k in {w[-2:] for w in _FOLDED_WORDS}}
_STARTS: Final = frozenset(_AFTER)
_ENDS: Final = frozenset(_BEFORE)
JOIN_STARTS: Final = _STARTS  # a token that starts with none of these begins with no join word
JOIN_ENDS: Final = _ENDS
# The first four letters of the longer finance/login words: a misspelt one still starts right.
PREFIXES: Final = frozenset(fold(w)[:4] for w in JOIN_WORDS if len(w) >= 6)


@lru_cache(maxsize=65536)
def tokens(label: str) -> tuple[str, ...]:
    """The folded tokens of a label: split at hyphens, underscores and the digits 2-9."""
    return tuple(t for t in _SPLIT.split(fold(label)) if t)


@lru_cache(maxsize=65536)
def read(label: str) -> tuple[tuple[str, ...], str, tuple[int, ...]]:
    """A label's tokens, the tokens joined (hyphens gone, folded), and where one token ends and the
    next begins in that string (ascending, 0 and its length included)."""
    if label.isalpha():  # most labels: letters only, one token (no split, no join)
        f = fold(label)
        return (f,), f, (0, len(f))
    toks = tuple(t for t in _SPLIT.split(fold(label)) if t)
    if len(toks) == 1:
        return toks, toks[0], (0, len(toks[0]))
    flat = "".join(toks)
    bounds = [0]
    pos = 0
    for t in toks:
        pos += len(t)
        bounds.append(pos)
    return toks, flat, tuple(bounds)


def word_before(text: str, end: int) -> str:
    """A join word that ends at ``end`` in the folded ``text`` (the longest), or ""."""
    sizes = _BEFORE.get(text[end - 2:end]) if end >= 2 else None
    if sizes is None:
        return ""
    for n in sizes:
        if n <= end and text[end - n:end] in _FOLDED_WORDS:
            return text[end - n:end]
    return ""


def word_after(text: str, start: int) -> str:
    """A join word that starts at ``start`` in ``text`` (the longest), or ""."""
    sizes = _AFTER.get(text[start:start + 2])
    if sizes is None:
        return ""
    room = len(text) - start
    for n in sizes:
        if n <= room and text[start:start + n] in _FOLDED_WORDS:
            return text[start:start + n]
    return ""


@lru_cache(maxsize=65536)
def strip_words(token: str, keep: int = 4) -> str:
    """``mercarrilogin`` -> ``mercarri``: the join words glued at either end of a token, removed (as
    long as ``keep`` letters remain)."""
    out = token
    for _ in range(3):
        w = word_after(out, 0)
        if w and len(out) - len(w) >= keep:
            out = out[len(w):]
            continue
        w = word_before(out, len(out))
        if w and len(out) - len(w) >= keep:
            out = out[:-len(w)]
            continue
        break
    return out


def core(word: str) -> str:
    """What is left of a brand word without its finance/login words: ``aupay`` -> ``au``,
    ``jcbcard`` -> ``jcb``, ``mizuhobank`` -> ``mizuho``."""
    return strip_words(word, 2)


def deletions(text: str, depth: int) -> set[str]:
    """Every string ``depth`` or fewer deletions away (symmetric-deletion index of the edit check)."""
    out = {text}
    frontier = {text}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out
