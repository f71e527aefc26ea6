"""0.1's brand matcher, kept unchanged as the baseline the detection benchmark compares with (see bench/detection.py)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import ahocorasick
import idna
from rapidfuzz.distance import Levenshtein

from watcher.core.brands import BrandSpec
from watcher.core.names import InvalidName, flatten, normalize_host
from watcher.core.reasons import Reason
from watcher.discovery.fuzzers import permutations

# Points per reason kind: discovery evidence, later added to page evidence by the scorer.
POINTS = {
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

# Words phishers pair with a brand (English and romanised Japanese).
COMBO_WORDS = (
    "login", "log-in", "signin", "sign-in", "secure", "security", "account", "acount", "support", "verify",
    "verification", "auth", "update", "confirm", "mypage", "my-page", "member", "kabu", "shoken", "syoken",
    "nisa", "trade", "trading", "kouza", "koza", "password", "ident", "check", "service", "online", "web",
    "app", "otp", "reset", "unlock", "info",
)
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
    exceptions: tuple[str, ...]
    allowed_issuers: tuple[str, ...]


@dataclass
class _Hits:
    reasons: dict[str, list[Reason]] = field(default_factory=dict)

    def add(self, slug: str, kind: str, detail: str) -> None:
        lst = self.reasons.setdefault(slug, [])
        if not any(r.kind == kind and r.detail == detail for r in lst):
            lst.append(Reason(kind, detail, POINTS[kind]))

    def kinds(self, slug: str) -> set[str]:
        return {r.kind for r in self.reasons.get(slug, [])}


class Matcher:
    def __init__(self, brands: list[BrandSpec], *, with_permutations: bool = True) -> None:
        self.brands = {b.slug: _BrandData(b.slug, tuple(b.word_exceptions), tuple(b.allowed_issuers))
                       for b in brands}
        # name -> (slug, group?) for the firm's own names; suffix lookups make subdomains ours too.
        self.owned: dict[str, tuple[str, bool]] = {}
        self.lapsed: dict[str, str] = {}
        self.perms: dict[str, tuple[str, str, str]] = {}  # name -> (slug, fuzzer, official domain)
        # (target label, slug, max distance, what it is) for the edit-distance check
        self.targets: list[tuple[str, str, int, str]] = []
        self.skeleton_targets: dict[str, tuple[str, str]] = {}  # skeleton -> (slug, what)
        auto = ahocorasick.Automaton()
        patterns: dict[str, list[tuple[str, str, str]]] = {}

        def pattern(text: str, kind: str, slug: str, source: str) -> None:
            text = text.lower().strip()
            if len(text) >= 3:
                lst = patterns.setdefault(text, [])
                if (kind, slug, source) not in lst:
                    lst.append((kind, slug, source))

        for b in brands:
            for d in b.official_domains:
                self.owned.setdefault(d, (b.slug, False))
                pattern(flatten(d), "flattened", b.slug, d)
                pattern(d, "embedded", b.slug, d)
                label = d.split(".")[0]
                self._target(label, b.slug, f"the label of {d}")
                self._target(flatten(d), b.slug, f"{d} flattened")
                self.skeleton_targets[label] = (b.slug, d)
                if with_permutations:
                    for p in permutations(d):
                        self.perms.setdefault(p.name, (b.slug, p.fuzzer, d))
            for h in b.official_hosts:
                self.owned.setdefault(h, (b.slug, False))
            for g in b.group_domains:
                self.owned.setdefault(g, (b.slug, True))
            for d in b.lapsed_domains:
                self.lapsed.setdefault(d, b.slug)
            for kw in b.keywords:
                variants = {kw, kw.replace(" ", ""), kw.replace(" ", "-")}
                for v in variants:
                    pattern(v, "keyword", b.slug, kw)
                    if v.isascii():
                        self._target(v, b.slug, f"keyword {kw!r}")
                        self.skeleton_targets.setdefault(v, (b.slug, f"keyword {kw!r}"))
        # Our own names are never permutations of themselves (e.g. hoshizora.jp vs hoshizora-sec.co.jp).
        for own in self.owned:
            self.perms.pop(own, None)
        for text, payload in patterns.items():
            auto.add_word(text, (text, tuple(payload)))
        auto.make_automaton()
        self.auto = auto
        self._target_strings = [t[0] for t in self.targets]
        self._min_target = min((len(t) for t in self._target_strings), default=0)

    def _target(self, label: str, slug: str, what: str) -> None:
        # Short labels give too many accidental neighbours ("kaede" ~ "kaeda"): keywords cover them.
        n = len(label.replace("-", ""))
        if n < 6 or not label.isascii():
            return
        k = 1 if n < 10 else 2
        if not any(t[0] == label and t[1] == slug for t in self.targets):
            self.targets.append((label, slug, k, what))

    @classmethod
    def from_brands(cls, brands: list[BrandSpec]) -> Matcher:
        return cls(brands)

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
        hits = _Hits()
        # Own and group names first: they are never candidates whatever else they look like.
        for i in range(len(labels) - 1):
            suffix = ".".join(labels[i:]) if i else s
            owner = self.owned.get(suffix)
            if owner is not None:
                slug, group = owner
                what = "a group domain" if group else "an official domain"
                return Match(slug, [Reason("owned", f"within {suffix}, {what} of {slug}", 0)], 0, owned=True,
                             name=s, group=group, wildcard=wildcard)
            lapsed = self.lapsed.get(suffix)
            if lapsed is not None:
                hits.add(lapsed, "lapsed", f"within {suffix}, a domain {lapsed} let lapse (drop-catch?)")
            perm = self.perms.get(suffix)
            if perm is not None:
                slug, fuzzer, base = perm
                hits.add(slug, "permutation", f"{suffix} is a typosquat of {base} (fuzzer: {fuzzer})")
        uni = s
        if "xn--" in s:
            try:
                uni = ".".join(idna.decode(lab) if lab.startswith("xn--") else lab for lab in labels)
            except (idna.IDNAError, UnicodeError, ValueError):
                uni = s
        keyword_labels = self._automaton(uni, hits)
        uni_labels = uni.split(".")
        self._edit_distance([skeleton(lab) if lab != a else a for lab, a in zip(uni.split("."), labels, strict=False)],
                            keyword_labels, hits)
        if uni != s or any(c.isdigit() for c in s):
            self._homoglyphs(uni_labels, keyword_labels, hits)
        if not hits.reasons:
            return None
        for slug in list(hits.reasons):
            kinds = hits.kinds(slug)
            if kinds & {"keyword", "flattened", "embedded", "edit_distance", "homoglyph", "permutation"}:
                self._combo(s, slug, hits)
                if labels[-1] in CHEAP_TLDS:
                    hits.add(slug, "cheap_tld", f".{labels[-1]} is a top-level domain much used for phishing")
        slug, reasons = max(hits.reasons.items(), key=lambda kv: sum(r.points for r in kv[1]))
        return Match(slug, reasons, sum(r.points for r in reasons), name=s, wildcard=wildcard)

    def _automaton(self, uni: str, hits: _Hits) -> set[int]:
        """Keywords, flattened and embedded domains anywhere; returns the label numbers with a hit."""
        found: set[int] = set()
        # Only the longest keyword per label and brand counts ("hoshizora-sec" over "hoshizora").
        best: dict[tuple[str, int], tuple[str, str, str]] = {}
        for end, (text, payload) in self.auto.iter(uni):
            start = end - len(text) + 1
            first = uni.count(".", 0, start)
            last = uni.count(".", 0, end + 1)
            label_start = uni.rfind(".", 0, start) + 1
            label_end = uni.find(".", end + 1)
            label_end = len(uni) if label_end < 0 else label_end
            label = uni[label_start:label_end]
            for kind, slug, source in payload:
                if kind == "keyword":
                    if first != last:
                        continue  # a keyword across a dot is not a keyword
                    if self._excepted(slug, label, start - label_start, end + 1 - label_start):
                        continue
                    prev = best.get((slug, first))
                    if prev is None or len(text) > len(prev[0]):
                        best[(slug, first)] = (text, source, label)
                elif kind == "flattened":
                    hits.add(slug, "flattened", f"official domain {source} flattened into label {label!r}")
                else:
                    hits.add(slug, "embedded", f"official domain {source} embedded in a longer name")
                found.update(range(first, last + 1))
        if best:
            registrable_label = uni.count(".") - _suffix_labels(uni)
            for (slug, index), (_text, source, label) in best.items():
                where = "the registrable label" if index == registrable_label else "a subdomain label"
                hits.add(slug, "keyword", f"brand keyword {source!r} in {where} {label!r}")
        return found

    def _excepted(self, slug: str, label: str, start: int, end: int) -> bool:
        b = self.brands.get(slug)
        if not b:
            return False
        for exc in b.exceptions:
            pos = label.find(exc)
            while pos >= 0:
                if pos <= start and end <= pos + len(exc):
                    return True
                pos = label.find(exc, pos + 1)
        return False

    def _edit_distance(self, labels: list[str], skip: set[int], hits: _Hits) -> None:
        for i, label in enumerate(labels[:-1]):  # the TLD is never a brand label
            if i in skip or len(label) < self._min_target - 2:
                continue
            for target, slug, k, what in self.targets:
                if abs(len(target) - len(label)) > k:
                    continue
                d = Levenshtein.distance(label, target, score_cutoff=k)
                if 0 < d <= k and not self._excepted(slug, label, 0, len(label)):
                    hits.add(slug, "edit_distance", f"label {label!r} is {d} edit(s) from {target!r} ({what})")

    def _homoglyphs(self, uni_labels: list[str], skip: set[int], hits: _Hits) -> None:
        for i, label in enumerate(uni_labels):
            if i in skip and label.isascii():
                continue
            sk = skeleton(label)
            if not sk.isascii() and any(c.isascii() and c.isalpha() for c in sk):
                # Leftover letters no table folds (e.g. an inserted Cyrillic komi de) inside a Latin
                # label are unreadable junk to a reader's eye: drop them and see what remains.
                sk = "".join(c for c in sk if c.isascii())
            if sk == label:
                continue
            target = self.skeleton_targets.get(sk)
            if target is not None:
                slug, what = target
                hits.add(slug, "homoglyph", f"label {label!r} looks like {sk!r} ({what})")
                continue
            if i in skip:
                continue  # the label already names the brand as it is
            for end, (text, payload) in self.auto.iter(sk):
                for kind, slug, source in payload:
                    if kind == "keyword" and not self._excepted(slug, sk, end - len(text) + 1, end + 1):
                        hits.add(slug, "homoglyph", f"label {label!r} reads as {sk!r}, which contains {source!r}")

    def _combo(self, s: str, slug: str, hits: _Hits) -> None:
        words = [w for w in COMBO_WORDS if w in s]
        if words:
            hits.add(slug, "combo", f"brand together with {', '.join(repr(w) for w in words[:4])}")


def _suffix_labels(uni: str) -> int:
    """Labels of the public suffix (co.jp has two), so the registrable label can be named."""
    try:
        n = normalize_host(uni, allow_wildcard=False)
    except InvalidName:
        return 0
    return n.suffix.count(".") + 1 if n.suffix else 0


# ----------------------------------------------------------------------------------------------
