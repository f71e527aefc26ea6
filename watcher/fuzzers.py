"""Typosquat permutations of an owned domain: dnstwist's fuzzers plus our own.

Each fuzzer is a plain function ``(domain) -> Iterable[str]`` in the ``FUZZERS`` tuple, and every
generated name says which fuzzer made it. The CT matcher and the permutation scan share this module.
(Issue 5 extends the table: finance words, co-jp flattening, TLD swaps, homoglyph IDNs.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import dnstwist

from watcher.names import InvalidName, normalize_host


@dataclass(frozen=True, slots=True)
class Permutation:
    name: str  # A-label, normalised
    fuzzer: str  # which fuzzer made it
    base: str  # the owned domain it imitates


def dnstwist_fuzzers(domain: str) -> Iterator[tuple[str, str]]:
    f = dnstwist.Fuzzer(domain)
    f.generate()
    for d in f.domains:
        if d["fuzzer"] != "*original":
            yield d["fuzzer"], d["domain"]


Fuzzer = Callable[[str], Iterable[tuple[str, str]]]

FUZZERS: tuple[tuple[str, Fuzzer], ...] = (("dnstwist", dnstwist_fuzzers),)


def permutations(domain: str, fuzzers: Iterable[tuple[str, Fuzzer]] = FUZZERS) -> list[Permutation]:
    """Every distinct lookalike of ``domain`` (normalised), first fuzzer wins."""
    base = normalize_host(domain).ascii
    seen: dict[str, Permutation] = {}
    for _group, fn in fuzzers:
        for fuzzer, raw in fn(base):
            try:
                name = normalize_host(raw, allow_wildcard=False, allow_ip=False).ascii
            except InvalidName:
                continue
            if name != base and name not in seen:
                seen[name] = Permutation(name, fuzzer, base)
    return list(seen.values())
