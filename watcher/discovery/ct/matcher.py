"""The one brand matcher: every name from CT (and from any other source) goes through ``match``.

Built once from all brands (``Matcher.from_brands``), then pure and fast: it runs on every name of
every CT entry, so everything is precomputed here — an Aho-Corasick automaton over the brands' words
(keywords and official labels, folded, hyphens removed) and one over flattened and embedded official
domains; the typosquat permutation set of every official domain (``watcher.discovery.fuzzers``); a
symmetric-deletion index for one-edit lookalikes and length buckets for two-edit ones.

Real phishing against Japanese firms mostly puts the brand, or the whole domain flattened
(``www-hoshizora-sec-co-jp.k7x2.top``), in a *subdomain label* of an unrelated fresh domain, so every
label is looked at, not only the registrable one. A label is read as a person reads it
(``watcher.discovery.ct.tokens``): hyphens ignored, look-alike ASCII folded on both sides, split into
tokens at digits and at the words phishers glue to a brand (``mercarilogin``). Then:

- a brand word of 5+ letters anywhere in a label is a hit, also glued to another word;
- a short one (4 letters or fewer: ``jcb``, ``au``) only as a token of its own, or beside a finance
  or login word (``aupay``, ``myjcb``) or another of the brand's words — never inside a longer word;
- a token, a token without its glued words, or adjacent tokens joined, within Damerau–Levenshtein 1
  of a brand word of 5+ letters (2 from 9 letters) is a lookalike.

Every hit is a reason in words from the text catalogue (``watcher.core.texts.discovery``). Ordinary
words that contain or resemble a brand word are the brand's ``word_exceptions``, which the analyst
chooses with ``omamori brands suggest-exceptions`` against a benign list.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, pairwise
from typing import TYPE_CHECKING, Any

import ahocorasick
import idna
from rapidfuzz.distance import DamerauLevenshtein

from watcher.core.brands import BrandSpec
from watcher.core.names import InvalidName, flatten, normalize_host
from watcher.core.reasons import Reason
from watcher.core.texts import Text, text
from watcher.discovery.ct.lexicon import ordinary, phrase
from watcher.discovery.ct.tokens import (
    COMBO_WORDS,
    JOIN_ENDS,
    JOIN_STARTS,
    PREFIXES,
    core,
    fold,
    read,
    strip_words,
    tokens,
    word_after,
    word_before,
)
from watcher.discovery.ct.vetted import vetted
from watcher.discovery.fuzzers import permutations

if TYPE_CHECKING:
    from watcher.context import Context

# Points per reason kind: discovery evidence, later added to page evidence by the scorer.
POINTS = {
    "owned": 0,
    "permutation": 40,
    "flattened": 45,
    "embedded": 45,
    "keyword": 30,
    "edit_distance": 25,
    "homoglyph": 45,
    "combo": 15,
    "lapsed": 40,
    "cheap_tld": 5,
}

# TLDs that carry about half of the phishing reported in Japan (public 2025 reports).
CHEAP_TLDS = frozenset({"top", "cn", "xyz", "icu", "cyou", "shop", "buzz", "vip", "asia", "sbs", "cfd", "bond",
                        "click", "online", "site", "live", "work", "life", "ltd", "wang", "club", "rest"})

# Characters that look like ASCII letters (Cyrillic, Greek, Armenian, Latin extensions, digits),
# mapped to the letter a reader sees. A small, explicit table instead of the full UTS #39 data:
# these are the ones seen in IDN homograph phishing.
_CONFUSABLES = {
    "а": "a", "ɑ": "a", "α": "a", "à": "a", "á": "a", "â": "a", "ã": "a", "ä": "a", "å": "a",
    "Ь": "b", "ь": "b", "ƅ": "b", "с": "c", "ϲ": "c", "ç": "c", "ԁ": "d", "ɗ": "d", "е": "e", "ё": "e",
    "ε": "e", "è": "e", "é": "e", "ê": "e", "ë": "e", "ғ": "f", "ɡ": "g", "ց": "g", "һ": "h", "Һ": "h",
    "ի": "h", "і": "i", "ι": "i", "ı": "i", "ɩ": "i", "ì": "i", "í": "i", "î": "i", "ï": "i", "1": "l",
    "ј": "j", "κ": "k", "к": "k", "ӏ": "l", "Ɩ": "l", "|": "l", "м": "m", "ո": "n", "п": "n", "η": "n",
    "ñ": "n", "о": "o", "ο": "o", "օ": "o", "0": "o", "ò": "o", "ó": "o", "ô": "o", "õ": "o", "ö": "o",
    "ø": "o", "р": "p", "ρ": "p", "ԛ": "q", "г": "r", "ѕ": "s", "ʂ": "s", "τ": "t", "т": "t", "υ": "u",
    "ս": "u", "ù": "u", "ú": "u", "û": "u", "ü": "u", "ν": "v", "ѵ": "v", "ԝ": "w", "ѡ": "w", "х": "x",
    "χ": "x", "у": "y", "ү": "y", "ý": "y", "ÿ": "y", "ʐ": "z", "ż": "z", "ž": "z",
}
_SKELETON = str.maketrans(_CONFUSABLES)


def skeleton(text: str) -> str:
    """What a reader sees: NFKC (full-width -> ASCII), confusables folded, accents stripped, rn -> m."""
    s = unicodedata.normalize("NFKC", text).lower().translate(_SKELETON)
    if not s.isascii():
        s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    return s.replace("rn", "m").replace("vv", "w")


_NO_SIZES: frozenset[int] = frozenset()
SHORT = 4  # keywords of this many letters or fewer count only as a word of their own
EDIT1_FROM, EDIT2_FROM = 5, 9  # one edit allowed from 5 letters, two from 9
INSIDE_FROM = 6  # a one-edit lookalike inside a longer word counts from 6 letters
GLUED_FROM = 7  # shorter words count glued to other letters on one side only
_CACHE_MAX = 200_000


@dataclass
class Match:
    brand: str  # slug
    reasons: list[Reason]
    points: int
    owned: bool = False  # the firm's own (or its group's) name: never a candidate
    name: str = ""  # the A-label name that was matched (without a wildcard)
    group: bool = False  # owned through a group (parent) domain: not the firm's inventory
    wildcard: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "brand": self.brand, "points": self.points, "owned": self.owned,
                "group": self.group, "wildcard": self.wildcard, "reasons": [r.as_dict() for r in self.reasons]}


@dataclass
class _BrandData:
    slug: str
    exceptions: tuple[str, ...]  # folded, hyphens removed
    allowed_issuers: tuple[str, ...]


@dataclass(frozen=True)
class _Word:
    """A brand word as the matcher compares it: folded, without hyphens, and what it is."""

    slug: str
    folded: str
    shown: str  # as the brand file writes it
    what: Text
    edits: int = 0  # how many edits still make a lookalike (0: only the word itself)
    short: bool = False  # its distinctive part is 4 letters or fewer: never a fragment of a longer word
    common: bool = False  # an English word itself (apple, chase): glued to another English word it is a phrase
    lead: bool = False  # one letter and an English word (icloud): without that letter, it is the word
    own: str = ""  # the brand's own part without its finance/login words ("au" of "aupay"), when shorter


def edits_allowed(word: str, distinct: str) -> int:
    """One edit from 5 letters, two from 9; a word whose distinctive part is short (``jcb-global``:
    ``jcb`` and a finance word) gets at most one, so the edits cannot rewrite the brand away."""
    if not word.isascii() or len(word) < EDIT1_FROM:
        return 0
    if len(word) >= EDIT2_FROM and len(distinct) > SHORT:
        return 2
    return 1


class _Hits:
    # slug -> (kind, text key, parameters) -> the reason's text; rendered into Reasons only for the
    # brand that wins (most names that hit at all hit one brand, but rendering is the costly part).
    # A plain class with slots: one is made for every name, hit or not.
    __slots__ = ("reasons",)

    def __init__(self) -> None:
        self.reasons: dict[str, dict[tuple[Any, ...], tuple[str, Text]]] = {}

    def add(self, slug: str, kind: str, said: Text) -> None:
        key = (kind, said.key, *sorted((k, str(v)) for k, v in said.params.items()))
        self.reasons.setdefault(slug, {}).setdefault(key, (kind, said))

    def kinds(self, slug: str) -> set[str]:
        return {kind for kind, _t in self.reasons.get(slug, {}).values()}

    def points(self, slug: str) -> int:
        return sum(POINTS[kind] for kind, _t in self.reasons.get(slug, {}).values())

    def best(self) -> tuple[str, list[Reason]]:
        slug = max(self.reasons, key=self.points)
        return slug, [Reason.said(kind, said, POINTS[kind]) for kind, said in self.reasons[slug].values()]


def _flat(word: str) -> str:
    return fold(word.replace("-", "").replace(" ", "").replace(".", ""))


def _ready(auto: ahocorasick.Automaton) -> ahocorasick.Automaton:
    """The automaton made searchable even with no word (no brand configured: pyahocorasick raises
    AttributeError instead of finding nothing): a word no label holds stands in, so ``iter`` is
    called directly on every name."""
    if auto.kind == ahocorasick.EMPTY:
        auto.add_word("\x00", ("\x00", ()))
    if auto.kind != ahocorasick.AHOCORASICK:
        auto.make_automaton()
    return auto


class Matcher:
    def __init__(self, brands: list[BrandSpec], *, with_permutations: bool = True) -> None:
        self.brands = {b.slug: _BrandData(b.slug, tuple(_flat(e) for e in b.word_exceptions),
                                          tuple(b.allowed_issuers)) for b in brands}
        # name -> (slug, group?) for the firm's own names; suffix lookups make subdomains ours too.
        self.owned: dict[str, tuple[str, bool]] = {}
        self.lapsed: dict[str, str] = {}
        self.perms: dict[str, tuple[str, str, str]] = {}  # name -> (slug, fuzzer, official domain)
        self.skeleton_targets: dict[str, tuple[str, str]] = {}  # skeleton -> (slug, what)
        words: dict[str, list[_Word]] = {}  # folded word -> the brands' words it is
        domains: dict[str, list[tuple[str, str, str]]] = {}  # flattened/embedded official domains

        def word(shown: str, slug: str, what: Text, *, editable: bool = True, label: str = "") -> None:
            f = _flat(shown)
            if len(f) < 2:
                return
            distinct = core(f)
            if word_after(distinct, 0) == distinct:  # only finance words left ("japanpost"): all of it
                distinct = f
            # Short: the word itself has 4 letters or fewer ("jcb"), or it is a flattened domain of a
            # short label ("au-com"). "aupay" or "jcbcard" carry their own finance word: not short.
            short = shown.isascii() and len(_flat(label) if label else f) <= SHORT
            lst = words.setdefault(f, [])
            if not any(w.slug == slug for w in lst):
                common = shown.isascii() and not short and ordinary(f)
                # The "i-" and "e-" of product names (iCloud, eTax): the rest is the English word.
                lead = shown.isascii() and len(f) >= EDIT1_FROM and f[0] in "le" and ordinary(f[1:])
                lst.append(_Word(slug, f, shown, what, edits_allowed(f, distinct) if editable else 0, short,
                                 common, lead, distinct if distinct != f else ""))

        def domain(textual: str, kind: str, slug: str, source: str) -> None:
            lst = domains.setdefault(textual, [])
            if (kind, slug, source) not in lst:
                lst.append((kind, slug, source))

        for b in brands:
            for d in b.official_domains:
                self.owned.setdefault(d, (b.slug, False))
                domain(flatten(d), "flattened", b.slug, d)
                domain(d, "embedded", b.slug, d)
                label = d.split(".")[0]
                word(label, b.slug, text("discovery.what_label", domain=d))
                # A flattened domain is a word only as it is; its edits are the label's.
                word(flatten(d), b.slug, text("discovery.what_flattened", domain=d), editable=False, label=label)
                self.skeleton_targets[label] = (b.slug, d)
                if with_permutations and len(label) > 2:  # "au.com" -> "eu.com" is another name, not a typo
                    for p in permutations(d):
                        if _telling(p.name, p.fuzzer, label):
                            self.perms.setdefault(p.name, (b.slug, p.fuzzer, d))
            for h in b.official_hosts:
                self.owned.setdefault(h, (b.slug, False))
            for g in b.group_domains:
                self.owned.setdefault(g, (b.slug, True))
            for d in b.lapsed_domains:
                self.lapsed.setdefault(d, b.slug)
            for kw in b.keywords:
                word(kw, b.slug, text("discovery.what_keyword", keyword=kw))
                if kw.isascii():
                    self.skeleton_targets.setdefault(kw.replace(" ", ""), (b.slug, f"keyword {kw!r}"))
        # Our own names are never permutations of themselves (e.g. hoshizora.jp vs hoshizora-sec.co.jp).
        for own in self.owned:
            self.perms.pop(own, None)
        self._known = frozenset({*self.owned, *self.lapsed, *self.perms})  # one lookup for the three
        # A brand word is a compound (its own part and a finance word) only when that part is another
        # word of the same brand: "aupay" is "au" + "pay", "apple" is not "app" + "le".
        for lst in words.values():
            lst[:] = [w if not w.own or any(o.slug == w.slug for o in words.get(w.own, ()))
                      else dataclasses.replace(w, own="") for w in lst]
        self.words = words
        self.auto = ahocorasick.Automaton()
        for f, lst in words.items():
            self.auto.add_word(f, (f, tuple(lst)))
        _ready(self.auto)
        self.domains_auto = ahocorasick.Automaton()
        for textual, payload in domains.items():
            if len(textual) >= 3:
                self.domains_auto.add_word(textual, (textual, tuple(payload)))
        _ready(self.domains_auto)
        # Lookalikes: one edit of a word of 5+ letters (two from 9) keeps its first two or its last two
        # letters as they were, so the words are indexed by their ends and a part of a label is
        # compared (Damerau-Levenshtein, in C) only with the few words it starts or ends like.
        self._by_start: dict[str, list[_Word]] = {}
        self._by_stop: dict[str, list[_Word]] = {}
        start_sizes: dict[str, set[int]] = {}
        stop_sizes: dict[str, set[int]] = {}
        # Inside a longer word, one edit of a word of 6+ letters: one of its two halves is intact there.
        self.halves = ahocorasick.Automaton()
        halves: dict[str, list[tuple[_Word, int]]] = {}
        for f, lst in words.items():
            for w in lst:
                if not w.edits:
                    continue
                self._by_start.setdefault(f[:2], []).append(w)
                self._by_stop.setdefault(f[-2:], []).append(w)
                reach = range(len(f) - w.edits, len(f) + w.edits + 1)
                start_sizes.setdefault(f[:2], set()).update(reach)
                stop_sizes.setdefault(f[-2:], set()).update(reach)
                if len(f) >= INSIDE_FROM:
                    mid = len(f) // 2
                    halves.setdefault(f[:mid], []).append((w, 0))
                    halves.setdefault(f[mid:], []).append((w, 1))
        self._start_sizes = {k: frozenset(v) for k, v in start_sizes.items()}
        self._stop_sizes = {k: frozenset(v) for k, v in stop_sizes.items()}
        for h, entries in halves.items():
            self.halves.add_word(h, (h, tuple(entries)))
        _ready(self.halves)
        # Brand words and their halves in one automaton, saying only "something is here": most labels
        # hold neither, and are done with one call (and a look at their ends for a lookalike).
        self._any = ahocorasick.Automaton()
        for f in (*words, *halves):
            self._any.add_word(f, None)
        _ready(self._any)
        self._edit_min = EDIT1_FROM
        self._edit_max = max((len(f) for f in words if f.isascii()), default=0) + 2
        self._edit_cache: dict[str, tuple[tuple[_Word, int], ...]] = {}
        self._token_edits: dict[tuple[str, ...], tuple[tuple[str, _Word, int], ...]] = {}

    @classmethod
    def from_brands(cls, brands: list[BrandSpec]) -> Matcher:
        return cls(brands)

    def clear_caches(self) -> None:
        """Forget what was learned about parts of names already seen (the benchmark starts cold)."""
        self._edit_cache.clear()
        self._token_edits.clear()
        for cached in (read, tokens, strip_words, _suffix_of_tail):
            cached.cache_clear()

    def allowed_issuers(self, slug: str) -> tuple[str, ...]:
        b = self.brands.get(slug)
        return b.allowed_issuers if b else ()

    # ------------------------------------------------------------------------------------------

    def match(self, name: str) -> Match | None:
        """Match one host name (wildcards on their base); None when it has nothing to do with a brand."""
        s = name.strip().lower().rstrip(".")
        wildcard = s.startswith("*.")
        if wildcard:
            s = s[2:]
        if not s or len(s) > 253 or " " in s:
            return None
        if not s.isascii():
            try:
                s = normalize_host(s, allow_wildcard=False).ascii
            except InvalidName:
                return None
        labels = s.split(".")
        # Made only when something is found (most names: nothing), in the order things are found.
        hits: _Hits | None = None
        # Own and group names first: they are never candidates whatever else they look like.
        pos = -1
        for i in range(len(labels) - 1):
            suffix = s[pos + 1:]
            pos = s.index(".", pos + 1)
            if suffix not in self._known:
                continue
            owner = self.owned.get(suffix)
            if owner is not None:
                slug, group = owner
                key = "discovery.owned_group" if group else "discovery.owned_official"
                return Match(slug, [Reason.said("owned", text(key, suffix=suffix, brand=slug))], 0, owned=True,
                             name=s, group=group, wildcard=wildcard)
            hits = hits or _Hits()
            lapsed = self.lapsed.get(suffix)
            if lapsed is not None:
                hits.add(lapsed, "lapsed", text("discovery.lapsed", suffix=suffix, brand=lapsed))
            perm = self.perms.get(suffix)
            if perm is not None and _flat(labels[i]) not in self.brands[perm[0]].exceptions:
                slug, fuzzer, base = perm
                hits.add(slug, "permutation", text("discovery.permutation", name=suffix, base=base, fuzzer=fuzzer))
        uni = s
        if "xn--" in s:
            try:
                uni = ".".join(idna.decode(lab) if lab.startswith("xn--") else lab for lab in labels)
            except (idna.IDNAError, UnicodeError, ValueError):
                uni = s
        for end, (textual, payload) in self.domains_auto.iter(uni):  # rarely anything: no call for none
            hits = hits or _Hits()
            self._domain(uni, end, textual, payload, hits)
        uni_labels = labels if uni is s else uni.split(".")
        where: _Where | None = None
        anything, shortest = self._any.iter, self._edit_min - 1
        for i, label in enumerate(uni_labels[:-1] if len(uni_labels) > 1 else uni_labels):
            if label.isascii() and label.isalpha():
                # Most labels: letters only, no brand word nor half of one in them, and no end of one a
                # lookalike could keep: done here, without a call.
                flat = fold(label)
                if next(anything(flat), None) is None:
                    if len(flat) >= shortest and self._may_edit(flat):
                        hits, where = hits or _Hits(), where or _Where(uni, len(uni_labels))
                        self._edits(label, (flat,), set(), hits, i, where)
                    continue
            hits, where = hits or _Hits(), where or _Where(uni, len(uni_labels))
            self._label(label, i, where, hits)
        if hits is None or not hits.reasons:
            return None
        for slug in list(hits.reasons):
            kinds = hits.kinds(slug)
            if kinds & {"keyword", "flattened", "embedded", "edit_distance", "homoglyph", "permutation"}:
                self._combo(s, slug, hits)
                if labels[-1] in CHEAP_TLDS:
                    hits.add(slug, "cheap_tld", text("discovery.cheap_tld", tld=labels[-1]))
        slug, reasons = hits.best()
        return Match(slug, reasons, sum(r.points for r in reasons), name=s, wildcard=wildcard)

    def _domain(self, uni: str, end: int, textual: str, payload: tuple[tuple[str, str, str], ...],
                hits: _Hits) -> None:
        """An official domain flattened into a label, or embedded whole in a longer name."""
        start = end - len(textual) + 1
        label_start = uni.rfind(".", 0, start) + 1
        label_end = uni.find(".", end + 1)
        label = uni[label_start:len(uni) if label_end < 0 else label_end]
        for kind, slug, source in payload:
            if kind == "flattened":
                if uni.count(".", start, end + 1) == 0:
                    hits.add(slug, "flattened", text("discovery.flattened", domain=source, label=label))
            elif uni != textual and (start == 0 or not uni[start - 1].isalnum()):
                # at a label's start: "au.com" in "rehau.com" is another name, not ours embedded
                hits.add(slug, "embedded", text("discovery.embedded", domain=source))

    def _label(self, label: str, index: int, where: _Where, hits: _Hits) -> None:
        """Every brand word in one label: exact (glued or not), short as a word, one or two edits."""
        readable = label
        if not label.isascii():
            readable = skeleton(label)
            if not readable.isascii():
                if any(c.isascii() and c.isalpha() for c in readable):
                    # Letters no table folds (an inserted Cyrillic komi de) inside a Latin label are
                    # junk to a reader's eye: drop them and read what remains.
                    readable = "".join(c for c in readable if c.isascii())
                else:  # Japanese (or another script): read as written, full-width folded
                    readable = unicodedata.normalize("NFKC", label).lower()
        toks: tuple[str, ...]
        bounds: tuple[int, ...]
        if readable.isalpha():  # most labels: letters only, one token, read without the cache
            flat = fold(readable)
            if next(self._any.iter(flat), None) is None:  # no brand word, no half of one
                if len(flat) >= self._edit_min - 1 and self._may_edit(flat):
                    self._edits(label, (flat,), set(), hits, index, where)
                return
            toks, bounds = (flat,), (0, len(flat))
        else:
            toks, flat, bounds = read(readable)
            if not toks:
                return
            if next(self._any.iter(flat), None) is None:  # only a lookalike could be here
                if len(flat) >= self._edit_min - 1 and (len(toks) > 1 or self._may_edit(flat)):
                    self._edits(label, toks, set(), hits, index, where)
                return
        done: set[str] = set()
        found: list[tuple[int, int, _Word]] = []
        for end, (f, lst) in self.auto.iter(flat):
            start = end - len(f) + 1
            for w in lst:
                if not self._excepted(w.slug, flat, start, end + 1):
                    found.append((start, end + 1, w))
        if found:
            literal = label.replace("-", "")
            best: dict[str, tuple[int, int, _Word, Text]] = {}
            for start, stop, w in found:
                said = self._exact(w, label, literal, flat, start, stop, bounds, found, index, where)
                if said is None:
                    continue
                prev = best.get(w.slug)
                if prev is None or stop - start > prev[1] - prev[0]:
                    best[w.slug] = (start, stop, w, said)
            if best and where.held_by_vetted(index):
                return  # "nta.ac.in": a name its registry gave to the holder it checked
            for slug, (_s, _e, _w, said) in best.items():
                kind = "keyword" if said.key.startswith(("discovery.keyword", "discovery.short")) else "homoglyph"
                hits.add(slug, kind, said)
            done = set(best)
        if len(flat) >= self._edit_min - 1 and (len(toks) > 1 or self._may_edit(flat)):
            done |= self._edits(label, toks, done, hits, index, where)
        if len(flat) > INSIDE_FROM:
            halves = self.halves.iter(flat)
            first = next(halves, None)  # most labels hold no half of a brand word: no call then
            if first is not None:
                self._inside(label, flat, bounds, done, hits, index, where, chain((first,), halves))

    def _inside(self, label: str, flat: str, bounds: tuple[int, ...], done: set[str], hits: _Hits, index: int,
                where: _Where, halves: Iterable[tuple[int, Any]]) -> None:
        """One edit of a brand word of 6+ letters inside a longer word (``jabonkoptions``): one half of
        the word is there intact (``halves``: where the halves automaton found one); the windows around
        it are compared."""
        seen: set[str] = set()
        for end, (half, entries) in halves:
            for w, which in entries:
                if w.slug in done or w.slug in seen:
                    continue
                n = len(w.folded)
                if which == 0:
                    p = end - len(half) + 1
                    spans = [(p, p + m) for m in (n, n - 1, n + 1)]
                else:
                    q = end + 1
                    spans = [(q - m, q) for m in (n, n - 1, n + 1)]
                for a, b in spans:
                    if a < 0 or b > len(flat) or not (a in bounds or b in bounds):
                        continue  # anchored at a token's edge: "jabonk|options", not "red|breast|"
                    part = flat[a:b]
                    if a not in bounds and not word_before(flat, a):
                        continue  # inside a word, the brand comes first ("jabonk|options") or after a word
                    if DamerauLevenshtein.distance(part, w.folded, score_cutoff=1) != 1 or not phisher_edit(
                            part, w.folded, 1) or _ordinary_edit(part, w) or not _keeps_own(part, w) or (
                            self._excepted(w.slug, flat, a, b)):
                        continue
                    if where.held_by_vetted(index):
                        return
                    if where.registrable(index):
                        t0, t1 = _token_around(bounds, a, b)
                        if phrase(flat[t0:t1]):
                            continue  # two English words ("appleinsider"), not a lookalike inside one
                    seen.add(w.slug)
                    hits.add(w.slug, "edit_distance", text("discovery.edit_distance", part=part, label=label,
                                                           d=1, target=w.shown, what=w.what))
                    break

    def _exact(self, w: _Word, label: str, literal: str, flat: str, start: int, stop: int, bounds: tuple[int, ...],
               found: list[tuple[int, int, _Word]], index: int, where: _Where) -> Text | None:
        if w.short:
            whole = start in bounds and stop in bounds
            left = _left_word(flat, start, bounds) or next(
                (o.shown for s, e, o in found if e == start and o.slug == w.slug and o is not w), "")
            right = _right_word(flat, stop, bounds) or next(
                (o.shown for s, e, o in found if s == stop and o.slug == w.slug and o is not w), "")
            left_ok, right_ok = start in bounds or bool(left), stop in bounds or bool(right)
            if not (left_ok and right_ok):
                return None  # a fragment of a longer word ("au" in "sauce")
            if whole and not (left and start not in bounds) and not (right and stop not in bounds):
                if len(w.folded) <= 2 and not (left or right):
                    return None  # two letters alone ("au" of Aarhus University) say nothing
                if not (left or right) and where.registrable(index) and _beside_ordinary(w, flat, start, stop,
                                                                                          bounds, found):
                    return None  # the same letters naming another thing ("smbc-comics", "au-pair")
                return text("discovery.short_alone", keyword=w.shown, label=label)
            return text("discovery.short_beside", keyword=w.shown, word=left or right, label=label)
        if (w.shown.isascii() and len(w.folded) < GLUED_FROM and start not in bounds and stop not in bounds
                and not word_before(flat, start) and not word_after(flat, stop) and not where.cheap_tld()):
            # A word of 5-6 letters inside a longer one on both sides ("r|apple|r") is a fragment of
            # another word, except under a TLD where phishing against Japan is mostly registered
            # ("move|aupay|isco.shop"): popular names there are few.
            return None
        if ((w.common or w.lead) and (start not in bounds or stop not in bounds) and where.registrable(index)
                and _in_phrase(w, flat, start, stop, bounds, found)):
            return None  # "apple|insider", "pine|apple", "huawe|icloud": English, not the brand
        if not w.shown.isascii() or w.folded.replace("-", "") in literal or w.shown.replace("-", "") in literal:
            key = "discovery.keyword_registrable" if where.registrable(index) else "discovery.keyword_subdomain"
            return text(key, keyword=w.shown, label=label)
        if start not in bounds and not word_before(flat, start):
            return None  # only the fold makes it, in the middle of a word ("globalcloud" is not "icloud")
        if stop not in bounds and not word_after(flat, stop):
            return None  # only the fold makes it, and letters run on: another word ("appie|r", "1|6|clouds")
        return text("discovery.reads_as", label=label, reads=flat, keyword=w.shown, what=w.what)

    def _excepted(self, slug: str, flat: str, start: int, end: int) -> bool:
        b = self.brands.get(slug)
        if not b:
            return False
        for exc in b.exceptions:
            pos = flat.find(exc)
            while pos >= 0:
                # The exception covers the hit (a lookalike may reach one letter past it: "mercur|l").
                overlap = min(end, pos + len(exc)) - max(start, pos)
                if overlap >= min(len(exc), end - start) - (0 if pos <= start and end <= pos + len(exc) else 1):
                    return True
                pos = flat.find(exc, pos + 1)
        return False

    def _edits(self, label: str, toks: tuple[str, ...], done: set[str], hits: _Hits, index: int,
               where: _Where) -> set[str]:
        """Tokens, tokens without their glued words, and adjacent tokens joined, one or two edits away;
        returns the brands hit."""
        found = self._token_edits.get(toks)
        if found is None:
            found = self._find_edits(toks)
            if len(self._token_edits) > _CACHE_MAX:
                self._token_edits.clear()
            self._token_edits[toks] = found
        out: set[str] = set()
        if found and where.held_by_vetted(index):
            return out
        for part, w, d in found:
            if w.slug in done or self._excepted_part(w.slug, part, toks):
                continue
            if where.registrable(index) and any(part in t and phrase(t) for t in toks):
                continue  # "applei|nsider" inside "appleinsider": two English words, not a lookalike
            out.add(w.slug)
            hits.add(w.slug, "edit_distance", text("discovery.edit_distance", part=part, label=label, d=d,
                                                   target=w.shown, what=w.what))
        return out

    def _may_edit(self, tok: str) -> bool:
        """Whether one token could hold a lookalike at all (``_find_edits`` on one token, without
        building anything): most labels are one token that starts and ends like no brand word."""
        size = len(tok)
        if size > self._edit_max:
            return False
        none = _NO_SIZES
        if size in self._start_sizes.get(tok[:2], none) or size in self._stop_sizes.get(tok[-2:], none):
            return True
        if size <= self._edit_min or not (tok[:2] in JOIN_STARTS or tok[-2:] in JOIN_ENDS):
            return False
        bare = strip_words(tok)
        b = len(bare)
        return bare != tok and (b in self._start_sizes.get(bare[:2], none) or b in self._stop_sizes.get(bare[-2:], none))

    def _find_edits(self, toks: tuple[str, ...]) -> tuple[tuple[str, _Word, int], ...]:
        # A lookalike keeps the first two or the last two letters of the word (one edit cannot change
        # both; of two, one end is kept): a part is compared only when it starts or ends like one.
        # Indexed by their ends and by the lengths they reach within their edits: a part is looked at
        # only when it starts or ends like a word of about its length (most parts of most names do not).
        starts, stops = self._start_sizes, self._stop_sizes
        none = _NO_SIZES
        n = len(toks)
        seen: set[str] = set()
        out: list[tuple[str, _Word, int]] = []
        for i in range(n):
            joined = ""
            for j in range(i, min(n, i + 3)):
                joined += toks[j]
                size = len(joined)
                if size > self._edit_max:
                    break
                if size < self._edit_min:
                    continue
                if (size in starts.get(joined[:2], none) or size in stops.get(joined[-2:], none)) and (
                        joined not in seen):
                    seen.add(joined)
                    out.extend((joined, w, d) for w, d in self._edit_hits(joined))
                if size > self._edit_min and (joined[:2] in JOIN_STARTS or joined[-2:] in JOIN_ENDS):
                    bare = strip_words(joined)
                    # may be 4 letters: "vpas" + "co" is "vpass" with a letter dropped
                    b = len(bare)
                    if bare != joined and bare not in seen and (b in starts.get(bare[:2], none)
                                                                or b in stops.get(bare[-2:], none)):
                        seen.add(bare)
                        out.extend((bare, w, d) for w, d in self._edit_hits(bare))
        return tuple(out)

    def _edit_hits(self, part: str) -> tuple[tuple[_Word, int], ...]:
        cached = self._edit_cache.get(part)
        if cached is not None:
            return cached
        out: dict[tuple[str, str], tuple[_Word, int]] = {}
        n = len(part)
        for w in (*self._by_start.get(part[:2], ()), *self._by_stop.get(part[-2:], ())):
            if abs(len(w.folded) - n) > w.edits:
                continue
            dist = DamerauLevenshtein.distance(part, w.folded, score_cutoff=w.edits)
            if (0 < dist <= w.edits and phisher_edit(part, w.folded, w.edits) and not _ordinary_edit(part, w)
                    and _keeps_own(part, w)):
                out[(w.slug, w.folded)] = (w, dist)
        result = tuple(out.values())
        if len(self._edit_cache) > _CACHE_MAX:
            self._edit_cache.clear()
        self._edit_cache[part] = result
        return result

    def _excepted_part(self, slug: str, part: str, toks: tuple[str, ...]) -> bool:
        b = self.brands.get(slug)
        if not b or not b.exceptions:
            return False
        return any(part == e or part in e or e in t for e in b.exceptions for t in toks if part in t)

    def _combo(self, s: str, slug: str, hits: _Hits) -> None:
        words = [w for w in COMBO_WORDS if w in s]
        if words:
            hits.add(slug, "combo", text("discovery.combo", words=", ".join(repr(w) for w in words[:4])))


# dnstwist's fuzzers that change the letters of a label (the others change its shape: a hyphen, the
# suffix, an added word, a look-alike character).
_LETTER_FUZZERS = frozenset({"addition", "bitsquatting", "insertion", "omission", "repetition", "replacement",
                             "transposition", "vowel-swap"})


def _telling(name: str, fuzzer: str, label: str) -> bool:
    """Whether a typosquat permutation of an official domain still tells of the brand: a three- or
    four-letter label with a letter changed is another short name (``aon``/``eon`` of ``aeon``,
    ``koddi`` of ``kddi``: short names are dense); one that is an English word is that word
    (``cloud`` of ``icloud``); a dictionary word that replaced the brand's own part leaves nothing of
    it (``cdn-net`` of ``eki-net``); a name under a suffix whose registry vets its holder
    (``nta.ac.in``) is that holder's."""
    if len(label) <= SHORT and fuzzer in _LETTER_FUZZERS:
        return False
    mine, theirs = _flat(label), _flat(name.split(".")[0])
    if theirs != mine and ordinary(theirs):
        return False
    if fuzzer == "dictionary" and core(mine) not in theirs:
        return False
    return not _suffix_of_tail(".".join(name.split(".")[-4:]))[1]


# Two-letter words that may stand beside a short keyword: "my" before it, "co"/"jp" after it
# (flattened "smbc.co.jp"). Others are too common inside words ("co" + "nta" is "conta").
_LEFT2, _RIGHT2 = frozenset({"my"}), frozenset({"co", "jp"})


def _left_word(flat: str, start: int, bounds: tuple[int, ...]) -> str:
    """A finance/login word just before ``start`` that is itself a word there (it starts at a token
    edge or after another such word): "my" + "jcb", not "auto" + "pepsia"."""
    w = word_before(flat, start)
    if len(w) < 3 and w not in _LEFT2:
        return ""
    s = start - len(w)
    return w if s in bounds or word_before(flat, s) else ""


def _right_word(flat: str, stop: int, bounds: tuple[int, ...]) -> str:
    w = word_after(flat, stop)
    if not w and flat[stop:stop + 4] in PREFIXES and len(flat) - stop >= 6:
        return flat[stop:stop + 4] + "…"  # a misspelt finance word: "jcb" + "servies", "au" + "suppoit"
    if len(w) < 3 and w not in _RIGHT2:
        return ""
    e = stop + len(w)
    return w if e in bounds or word_after(flat, e) else ""


def _token_around(bounds: tuple[int, ...], start: int, stop: int) -> tuple[int, int]:
    """Where the token (or the run of glued tokens) holding ``flat[start:stop]`` begins and ends."""
    return max(b for b in bounds if b <= start), min(b for b in bounds if b >= stop)


def _brand_beside(w: _Word, start: int, stop: int, found: list[tuple[int, int, _Word]]) -> bool:
    return any(o.slug == w.slug and o is not w and (e == start or s == stop) for s, e, o in found)


def _beside_ordinary(w: _Word, flat: str, start: int, stop: int, bounds: tuple[int, ...],
                     found: list[tuple[int, int, _Word]]) -> bool:
    """A short word alone as a token, beside a token that is an ordinary English word, and with no
    finance/login word or other word of the brand in the label: an acronym of something else."""
    if any(o.slug == w.slug and o is not w for _s, _e, o in found):
        return False
    spans = list(pairwise(bounds))
    if any(word_after(flat[a:z], 0) == flat[a:z] for a, z in spans):
        return False
    return any(ordinary(flat[a:z]) for a, z in spans if z == start or a == stop)


def _in_phrase(w: _Word, flat: str, start: int, stop: int, bounds: tuple[int, ...],
               found: list[tuple[int, int, _Word]]) -> bool:
    """A brand word that is English itself glued to English words (``appleinsider``), or one letter and
    an English word whose letter ends the word before it (``huaweicloud``)."""
    if _brand_beside(w, start, stop, found):
        return False
    a, z = _token_around(bounds, start, stop)
    left, right = flat[a:start], flat[stop:z]
    if w.lead and left and not word_before(flat, start):
        return True
    if not w.common:
        return False
    return bool((left and not word_before(flat, start) and phrase(left))
                or (right and not word_after(flat, stop) and phrase(right)))


def _keeps_own(part: str, w: _Word) -> bool:
    """A lookalike of a brand word glued to a finance word (``aupay``, ``chasebank``) keeps the brand's
    own part as a word of its length would: intact under 5 letters, within one edit at 5-6 (the other
    edits fall on the finance word); from 7 letters it takes the edits the whole word allows
    (``raikuen-bank``); its own letters swapped are still it (``mizohu-bank``). Other edits of a short
    own part make another name: ``ai-pay`` is not ``au pay``,
    ``chimebank`` is not ``chase bank``."""
    own = w.own
    n = len(own)
    if not own or n >= GLUED_FROM or own in part:
        return True
    if n < EDIT1_FROM:
        return False
    letters = sorted(own)
    return any(DamerauLevenshtein.distance(part[i:i + m], own, score_cutoff=1) <= 1
               or (m == n and sorted(part[i:i + m]) == letters)  # its letters swapped: "mizohu"
               for m in (n - 1, n, n + 1) for i in range(len(part) - m + 1))


def _ordinary_edit(part: str, w: _Word) -> bool:
    """A lookalike that is an English word itself ("applied"), or one that keeps the English word of a
    one-letter brand word and changes its letter ("mycloud", "acloud"), is that word."""
    return ordinary(part) or (w.lead and w.folded[1:] in part)


_VOWELS = frozenset("aeoul")  # folded: "i" reads as "l"
# Letters romaji spells either way (oriko/orico, saizon/saison, vpass/bpass), that look alike turned
# (n/u, m/n) or mirrored (b/d, p/q: "jadank").
_SWAPS = frozenset({("c", "k"), ("k", "c"), ("s", "z"), ("z", "s"), ("b", "v"), ("v", "b"), ("n", "u"), ("u", "n"),
                    ("m", "n"), ("n", "m"), ("b", "d"), ("d", "b"), ("p", "q"), ("q", "p")})


def phisher_edit(part: str, word: str, allowed: int) -> bool:
    """A one-edit lookalike made the way phishers make them: a letter inserted, dropped or doubled, two
    letters swapped, a vowel for a vowel (dnstwist's vowel-swap), a romaji spelling variant (c/k,
    s/z, b/v, n/m) or a letter turned or mirrored (n/u, b/d, p/q); look-alike letters are already
    folded. Any other letter for a letter ("pcloud", "origo") is another word. From 9 letters (two
    edits allowed) any edit counts."""
    if allowed >= 2 or len(part) != len(word):
        return True
    diff = [i for i in range(len(word)) if part[i] != word[i]]
    if len(diff) == 1:
        a, b = part[diff[0]], word[diff[0]]
        return (a in _VOWELS and b in _VOWELS) or (a, b) in _SWAPS
    return len(diff) == 2 and diff[1] == diff[0] + 1 and part[diff[0]] == word[diff[1]] and part[diff[1]] == word[diff[0]]


class _Where:
    """Which label is the registrable one, and whether its registry vets its holder
    (``watcher.discovery.ct.vetted``), worked out only when a reason needs to say it (the
    public-suffix lookup costs more than the rest of a match)."""

    __slots__ = ("count", "index", "uni", "vetted")

    def __init__(self, uni: str, count: int) -> None:
        self.uni, self.count, self.index, self.vetted = uni, count, -2, False

    def registrable(self, index: int) -> bool:
        if self.index == -2:
            labels, self.vetted = _suffix_of_tail(".".join(self.uni.split(".")[-4:]))
            self.index = self.count - 1 - labels
        return index == self.index

    def cheap_tld(self) -> bool:
        return self.uni[self.uni.rfind(".") + 1:] in CHEAP_TLDS

    def held_by_vetted(self, index: int) -> bool:
        """The label is the registrable one under a suffix whose registry vets who holds it
        (``nta.ac.in``, ``ntt.ac.jp``): its holder's own name, not a lookalike."""
        return self.registrable(index) and self.vetted


@lru_cache(maxsize=4096)
def _suffix_of_tail(tail: str) -> tuple[int, bool]:
    """Labels of the public suffix (co.jp has two), so the registrable label can be named, and whether
    its registry vets holders; looked up on the last four labels, which repeat from name to name (com,
    co.jp, top)."""
    try:
        n = normalize_host(tail, allow_wildcard=False)
    except InvalidName:
        return 1, False
    if not n.suffix:
        return 1, False
    count = n.suffix.count(".") + 1
    return (count, vetted(n.suffix)) if count < len(tail.split(".")) else (1, False)


# ----------------------------------------------------------------------------------------------

_cache: dict[str, Matcher] = {}
_cache_lock = threading.Lock()


def _key(brands: Iterable[BrandSpec]) -> str:
    blob = json.dumps([b.model_dump(mode="json") for b in brands], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def matcher_for(ctx: Context) -> Matcher:
    """The Matcher for the Context's brands, built once (about 2 s: permutations) and cached."""
    key = _key(ctx.brands)
    with _cache_lock:
        m = _cache.get(key)
        if m is None:
            m = Matcher.from_brands(list(ctx.brands))
            _cache[key] = m
        return m


def explain(ctx: Context, name: str) -> list[str]:
    """Lines for ``omamori check``: what the matcher says about one name."""
    m = matcher_for(ctx).match(name)
    if m is None:
        return ["no brand match"]
    if m.owned:
        return [f"ours ({m.brand}): {m.reasons[0].detail}"]
    return [f"brand {m.brand}, {m.points} points"] + [f"{r.kind}: {r.detail} (+{r.points})" for r in m.reasons]
