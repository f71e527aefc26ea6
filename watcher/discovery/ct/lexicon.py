"""Ordinary English words: what tells a brand word *used in another phrase* from a brand word *used as
the brand*.

A short brand word is an acronym, and acronyms collide: ``smbc-comics`` or ``au-pair`` name another
thing with the same letters, while ``smbc-card`` or ``au-xk29`` name the brand. A brand word that is an
English word itself (Apple, Chase, Amazon) glued to another English word (``appleinsider``,
``chaseherbal``) is a phrase of the language, while glued to a finance or login word or to junk
(``appleid``, ``apple7x``) it is the brand. A brand word made of one letter and an English word
(``icloud``) is that word when the letter belongs to the word before it (``huaweicloud``).

The words are Webster's Second International (``web2``, public domain), as the MIT-licensed
``english-words`` package ships it, lower-cased, letters only, four letters or more (shorter
"words" of that dictionary are mostly abbreviations and would make every acronym ordinary). Finance
and login words (``watcher.discovery.ct.tokens.JOIN_WORDS``) and the lures phishers write beside a
brand (``refund``, ``prime``, ``delivery``) are never ordinary here: beside them a brand word is the
brand.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import Final

from watcher.discovery.ct.tokens import JOIN_WORDS, fold

MIN_LETTERS: Final = 4
log = logging.getLogger("omamori.ct")

# Lures written beside a brand in phishing against Japanese firms' customers (tax refunds, parcel
# redelivery, points expiring, account locks); English words, but beside a brand they name the brand.
LURE_WORDS: Final = frozenset({
    "refund", "refunds", "tax", "taxes", "payment", "payments", "invoice", "billing", "bill", "delivery",
    "deliver", "redelivery", "parcel", "package", "tracking", "track", "prime", "bonus", "reward", "rewards",
    "campaign", "present", "gift", "prize", "claim", "notify", "notification", "urgent", "suspend",
    "suspended", "limited", "limit", "locked", "lock", "restrict", "restricted", "apply", "renew", "renewal",
    "expire", "expired", "benefit", "receive", "transfer", "deposit", "withdraw", "balance", "statement",
    "settle", "settlement", "entry", "register", "registration", "regist", "change", "cancel", "stop",
    "first", "gold", "platinum", "premium", "plus", "life", "family", "travel", "express", "airline",
})

_NEVER: Final = frozenset(fold(w) for w in (*JOIN_WORDS, *LURE_WORDS))
_lock = threading.Lock()
_words: frozenset[str] | None = None


def _load() -> frozenset[str]:
    global _words
    with _lock:
        if _words is None:
            try:
                from english_words import get_english_words_set
            except ImportError:
                # A checkout whose venv predates the dependency: the matcher still runs, as before
                # these rules, and says so once (``make setup`` installs it).
                log.warning("the english-words package is not installed: the matcher's English-word rules "
                            "are off (run make setup)")
                _words = frozenset()
                return _words
            raw = get_english_words_set(["web2"], lower=True, alpha=True)
            # Folded as the matcher reads labels (``insider`` is ``lnslder`` there).
            _words = frozenset(fold(w) for w in raw if len(w) >= MIN_LETTERS)
        return _words


@lru_cache(maxsize=16384)
def ordinary(word: str) -> bool:
    """``word`` (folded, as ``watcher.discovery.ct.tokens.fold`` reads it) is an English word of 4+
    letters (or its plural) that is not a finance/login word or a lure."""
    if len(word) < MIN_LETTERS or word in _NEVER:
        return False
    words = _words if _words is not None else _load()
    if word in words:
        return True
    for end in ("s", "es"):
        stem = word[: -len(end)]
        if word.endswith(end) and len(stem) >= MIN_LETTERS and stem in words and stem not in _NEVER:
            return True
    return False


def phrase(text: str) -> bool:
    """``text`` (folded) is one or two ordinary words glued together (``insider``, ``herbalpasty``)."""
    if ordinary(text):
        return True
    for i in range(MIN_LETTERS, len(text) - MIN_LETTERS + 1):
        if ordinary(text[:i]) and ordinary(text[i:]):
            return True
    return False
