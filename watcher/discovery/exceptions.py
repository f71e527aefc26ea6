"""Word exceptions for the analyst: which ordinary names of a benign list the matcher would flag, and
the word to add to the brand's ``word_exceptions`` if the analyst agrees.

Nothing is learned silently: ``omamori brands suggest-exceptions --benign FILE`` prints the
suggestions with the reason the matcher gave; the analyst copies the ones that are really not the brand
into the brands file. The list may hold hostnames (a popular-domains list) or plain words (a
dictionary): a word is read as a label.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from watcher.core.names import try_normalize
from watcher.discovery.ct.matcher import Matcher

# Reasons an exception can silence (a permutation or an embedded official domain is never ordinary).
WORD_KINDS = frozenset({"keyword", "edit_distance", "homoglyph"})


@dataclass(frozen=True)
class Suggestion:
    brand: str
    word: str  # the label to add to word_exceptions
    example: str  # the benign name it came from
    reason: str  # what the matcher said, in English


def _names(lines: Iterable[str]) -> Iterable[tuple[str, str]]:
    for raw in lines:
        entry = raw.strip().lower()
        if not entry or entry.startswith("#"):
            continue
        entry = entry.split(",")[-1].strip() if "," in entry else entry  # a ranked CSV: rank,domain
        if "." in entry:
            n = try_normalize(entry)
            if n is not None and not n.is_ip:
                yield n.ascii, n.ascii
        elif entry.replace("-", "").isalnum() and entry.isascii():
            yield f"{entry}.invalid", entry  # a dictionary word, read as a label


def suggest(matcher: Matcher, lines: Iterable[str], *, brand: str | None = None) -> list[Suggestion]:
    """Every benign entry the matcher flags through a word of the brand, with the word to except."""
    out: dict[tuple[str, str], Suggestion] = {}
    for name, shown in _names(lines):
        m = matcher.match(name)
        if m is None or m.owned or (brand and m.brand != brand):
            continue
        words = [r for r in m.reasons if r.kind in WORD_KINDS]
        if not words or any(r.kind in {"permutation", "embedded", "flattened", "lapsed"} for r in m.reasons):
            continue
        for r in words:
            label = _label_of(r.detail, name)
            if label and (m.brand, label) not in out:
                out[(m.brand, label)] = Suggestion(m.brand, label, shown, r.detail)
    return sorted(out.values(), key=lambda s: (s.brand, s.word))


def _label_of(detail: str, name: str) -> str:
    """The label a reason names (``... label 'appleinsider' ...``), else the name's first label."""
    marker = "label '"
    i = detail.find(marker)
    if i >= 0:
        j = detail.find("'", i + len(marker))
        if j > i:
            return detail[i + len(marker):j].replace("-", "")
    return name.split(".")[0].replace("-", "")
