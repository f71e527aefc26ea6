"""Typosquat permutations of an owned domain: dnstwist's fuzzers plus our own.

Each fuzzer is a plain function ``(domain) -> Iterable[(fuzzer_name, name)]`` in the ``FUZZERS``
tuple, and every generated name says which fuzzer made it. The CT matcher and the permutation scan
share this module.

dnstwist brings the textbook typos (all its fuzzers, with dictionary and tld-swap fed from the word
and TLD lists shipped in ``data/fuzz/``). Ours add what phishing against Japanese securities brands
actually looks like (see docs/architecture.md): brand + finance words in English and romaji, the
whole domain flattened into one label (``hoshizora-sec-co-jp.com``), ``.co.jp`` swapped for ``.jp``,
``.com`` and the cheap TLDs (``.top``, ``.cn``...), and IDN homoglyphs (Cyrillic ``с`` for ``c``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import dnstwist

from watcher.core.config import DATA
from watcher.core.names import InvalidName, normalize_host

FUZZ_DIR = DATA / "fuzz"


@dataclass(frozen=True, slots=True)
class Permutation:
    name: str  # A-label, normalised
    fuzzer: str  # which fuzzer made it
    base: str  # the owned domain it imitates


@lru_cache(maxsize=16)
def word_list(filename: str) -> tuple[str, ...]:
    """A shipped list from data/fuzz/: one entry a line, '#' comments, blanks ignored."""
    path = Path(filename) if Path(filename).is_absolute() else FUZZ_DIR / filename
    out: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        word = line.split("#", 1)[0].strip().lower()
        if word and word not in out:
            out.append(word)
    return tuple(out)


def split_domain(domain: str) -> tuple[str, str, str]:
    """``www.hoshizora-sec.co.jp`` -> (``www``, ``hoshizora-sec``, ``co.jp``) using the bundled PSL."""
    n = normalize_host(domain)
    if not n.registrable:
        raise InvalidName(f"{domain!r}: no registrable domain")
    label = n.registrable[: -len(n.suffix) - 1]
    return n.subdomain, label, n.suffix


# ---------------------------------------------------------------- dnstwist


def dnstwist_fuzzers(domain: str) -> Iterator[tuple[str, str]]:
    """Every dnstwist fuzzer (addition, bitsquatting, homoglyph, ..., dictionary, tld-swap)."""
    # Our words and TLDs, and dnstwist's own shipped dictionaries (english, common and abused TLDs).
    words = _unique([*word_list("dictionary.txt"), *word_list("dnstwist-english.txt")])
    tlds = _unique([*word_list("tlds.txt"), *word_list("dnstwist-common-tlds.txt"),
                    *word_list("dnstwist-abused-tlds.txt")])
    f = dnstwist.Fuzzer(domain, dictionary=list(words), tld_dictionary=list(tlds))
    f.generate()
    # dnstwist keeps a set (one entry per name, the first fuzzer that made it); sorted, so the list
    # comes out in the same order on every run.
    for d in sorted(f.domains, key=lambda d: d["domain"]):
        if d["fuzzer"] != "*original":
            yield d["fuzzer"], d["domain"]


# ---------------------------------------------------------------- ours


def finance_words(domain: str) -> Iterator[tuple[str, str]]:
    """Brand label + finance word (English and romaji), with and without a hyphen.

    ``hoshizora-sec-login.top``, ``login-hoshizora-sec.com``, ``hoshizora-seckabu.co.jp``: hyphenated
    forms on the own suffix, .com and the cheap TLDs; glued forms only on the own suffix and .com
    (they are rarer and would double the list).
    """
    _sub, label, suffix = split_domain(domain)
    hyphen_tlds = _unique([suffix, "com", *word_list("cheap-tlds.txt")])
    glued_tlds = _unique([suffix, "com"])
    for word in word_list("finance-words.txt"):
        if word == label:
            continue
        for tld in hyphen_tlds:
            yield "finance-words", f"{label}-{word}.{tld}"
            yield "finance-words", f"{word}-{label}.{tld}"
        for tld in glued_tlds:
            yield "finance-words", f"{label}{word}.{tld}"
            yield "finance-words", f"{word}{label}.{tld}"


def co_jp_flatten(domain: str) -> Iterator[tuple[str, str]]:
    """The whole domain folded into one label: ``hoshizora-sec-co-jp.com``, ``hoshizora-seccojp.top``."""
    _sub, label, suffix = split_domain(domain)
    parts = suffix.split(".")
    folds = _unique([f"{label}-{'-'.join(parts)}", f"{label}{''.join(parts)}", f"{label}-{''.join(parts)}",
                     f"www-{label}-{'-'.join(parts)}"])
    for fold in folds:
        for tld in _unique(["com", "net", "jp", *word_list("cheap-tlds.txt")]):
            yield "co-jp", f"{fold}.{tld}"


def tld_cheap(domain: str) -> Iterator[tuple[str, str]]:
    """The same label under .jp/.com/.net, the other Japanese second levels, and the cheap TLDs."""
    _sub, label, suffix = split_domain(domain)
    for tld in _unique(["jp", "com", "net", "co", "co.jp", "ne.jp", "or.jp", "jp.net",
                        *word_list("cheap-tlds.txt")]):
        if tld != suffix:
            yield "tld-cheap", f"{label}.{tld}"


# Latin letters and the Cyrillic/Greek letters that look the same in most fonts (one swap per name:
# that is what registrars' IDN tables allow and what phishers register).
HOMOGLYPHS: dict[str, tuple[str, ...]] = {
    "a": ("а", "ɑ"), "c": ("с", "ϲ"), "e": ("е",), "h": ("һ",), "i": ("і", "ı"), "j": ("ј",),
    "k": ("κ",), "n": ("ո",), "o": ("о", "ο"), "p": ("р",), "s": ("ѕ",), "x": ("х",), "y": ("у",),
}


def homoglyph_idn(domain: str) -> Iterator[tuple[str, str]]:
    """One letter of the label swapped for a Unicode look-alike, on the own suffix and .com (A-labels)."""
    _sub, label, suffix = split_domain(domain)
    for i, ch in enumerate(label):
        for glyph in HOMOGLYPHS.get(ch, ()):
            fake = label[:i] + glyph + label[i + 1:]
            for tld in _unique([suffix, "com"]):
                yield "homoglyph-idn", f"{fake}.{tld}"


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


Fuzzer = Callable[[str], Iterable[tuple[str, str]]]

FUZZERS: tuple[tuple[str, Fuzzer], ...] = (
    ("dnstwist", dnstwist_fuzzers),
    ("finance-words", finance_words),
    ("co-jp", co_jp_flatten),
    ("tld-cheap", tld_cheap),
    ("homoglyph-idn", homoglyph_idn),
)


# Plain lowercase LDH names need no IDNA work: the fast path for the thousands of ASCII permutations.
_LDH_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_LDH = re.compile(rf"^{_LDH_LABEL}(?:\.{_LDH_LABEL})+$")


def _normal(raw: str) -> str:
    s = raw.lower().rstrip(".")
    if _LDH.match(s) and "xn--" not in s and len(s) <= 253 and not s.rsplit(".", 1)[-1].isdigit():
        return s
    return normalize_host(raw, allow_wildcard=False, allow_ip=False).ascii


def permutations(domain: str, fuzzers: Iterable[tuple[str, Fuzzer]] = FUZZERS) -> list[Permutation]:
    """Every distinct lookalike of ``domain`` (normalised), first fuzzer wins."""
    base = normalize_host(domain).ascii
    seen: dict[str, Permutation] = {}
    for _group, fn in fuzzers:
        for fuzzer, raw in fn(base):
            try:
                name = _normal(raw)
            except InvalidName:
                continue
            if name != base and name not in seen:
                seen[name] = Permutation(name, fuzzer, base)
    return list(seen.values())
