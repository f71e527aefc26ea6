"""The brand in a reported URL's path or query (``k3v9q.xyz/hoshizora/login.php``): a reason for a
report or feed row whose host names no brand at all.

Only for URLs someone reported (a person, a feed): a path is free text and every site links to big
brands somewhere, so this is never applied to names from CT. A keyword of 5+ letters counts anywhere
in a path segment or query value, read the way the matcher reads a label (folded, hyphens ignored); a
short one (``jcb``) only as a whole segment or word (``/jcb/``, ``?card=jcb``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from watcher.core.brands import BrandSpec
from watcher.core.reasons import Reason
from watcher.core.texts import text
from watcher.discovery.ct.tokens import fold

POINTS = 25
SHORT = 4
_WORDS = re.compile(r"[a-z0-9]+")
_MAX_URL = 4096


@dataclass(frozen=True)
class PathHit:
    brand: str
    keyword: str
    part: str  # the path segment or query value it was found in


def brand_in_path(url: str, brands: Iterable[BrandSpec]) -> PathHit | None:
    """The first brand whose keyword (or official label) is in the URL's path or query."""
    try:
        parts = urlsplit(url[:_MAX_URL] if "://" in url else "http://" + url[:_MAX_URL])
    except ValueError:
        return None
    raw = unquote(parts.path + "?" + parts.query).lower()
    pieces = [p for p in re.split(r"[/?&=#;]+", raw) if p]
    if not pieces:
        return None
    for b in brands:
        words = {k for k in b.keywords if k.isascii()} | {d.split(".")[0] for d in b.official_domains}
        for kw in sorted(words, key=len, reverse=True):
            flat_kw = fold(kw.replace("-", "").replace(" ", ""))
            if len(flat_kw) < 2:
                continue
            for piece in pieces:
                if len(flat_kw) <= SHORT:
                    if flat_kw in {fold(w) for w in _WORDS.findall(piece)}:
                        return PathHit(b.slug, kw, piece[:80])
                elif flat_kw in fold(piece.replace("-", "").replace("_", "")):
                    return PathHit(b.slug, kw, piece[:80])
    return None


def path_reason(hit: PathHit, source: str = "") -> Reason:
    return Reason.said("in_path", text("discovery.in_path", keyword=hit.keyword, part=hit.part), POINTS, source)
