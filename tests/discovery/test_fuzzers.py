"""Every fuzzer on a table: a domain, a name it must make, and the fuzzer it must say made it."""

from __future__ import annotations

import pytest

from watcher.discovery.fuzzers import (
    FUZZERS,
    co_jp_flatten,
    finance_words,
    homoglyph_idn,
    permutations,
    split_domain,
    tld_cheap,
)

# (group in FUZZERS, owned domain, expected lookalike (A-label), fuzzer name on it)
TABLE = [
    ("dnstwist", "hoshizora-sec.co.jp", "hosizora-sec.co.jp", "omission"),
    ("dnstwist", "hoshizora-sec.co.jp", "hoshizora-sec.co", "tld-swap"),
    ("dnstwist", "hoshizora-sec.co.jp", "hoshizora-sec.jp", "tld-swap"),
    ("dnstwist", "hoshizora-sec.co.jp", "hoshizoar-sec.co.jp", "transposition"),
    ("dnstwist", "hoshizora-sec.co.jp", "hoshizorasec.co.jp", "omission"),
    ("dnstwist", "hoshizora-sec.co.jp", "hoshi-zora-sec.co.jp", "hyphenation"),
    ("dnstwist", "hoshizora-sec.co.jp", "hoshizora-sec-login.co.jp", "dictionary"),
    ("dnstwist", "hzsec.com", "hzsec.top", "tld-swap"),
    ("dnstwist", "hzsec.com", "hzsecc.com", "addition"),
    ("dnstwist", "hzsec.com", "hzsex.com", "replacement"),
    ("dnstwist", "hzsec.com", "hzsesec.com", "plural"),
    ("dnstwist", "hoshizora.jp", "hoshizora.jpa", None),  # not a TLD: must not appear at all
    ("finance-words", "hoshizora-sec.co.jp", "hoshizora-sec-kabu.top", "finance-words"),
    ("finance-words", "hoshizora-sec.co.jp", "shoken-hoshizora-sec.cn", "finance-words"),
    ("finance-words", "hoshizora.jp", "hoshizoranisa.com", "finance-words"),
    ("finance-words", "hoshizora.jp", "mypage-hoshizora.xyz", "finance-words"),
    ("co-jp", "hoshizora-sec.co.jp", "hoshizora-sec-co-jp.com", "co-jp"),
    ("co-jp", "hoshizora-sec.co.jp", "www-hoshizora-sec-co-jp.top", "co-jp"),
    ("co-jp", "hoshizora-sec.co.jp", "hoshizora-seccojp.cn", "co-jp"),
    ("co-jp", "hzsec.com", "hzsec-com.top", "co-jp"),
    ("tld-cheap", "hoshizora-sec.co.jp", "hoshizora-sec.ne.jp", "tld-cheap"),
    ("tld-cheap", "hoshizora-sec.co.jp", "hoshizora-sec.jp.net", "tld-cheap"),
    ("homoglyph-idn", "hoshizora-sec.co.jp", "xn--hoshizora-se-khk.com", "homoglyph-idn"),  # Cyrillic с
    ("homoglyph-idn", "hoshizora-sec.co.jp", "xn--hshizora-sec-4fk.co.jp", "homoglyph-idn"),  # Cyrillic о
]


@pytest.mark.parametrize(("group", "domain", "name", "fuzzer"), TABLE)
def test_fuzzer_table(group: str, domain: str, name: str, fuzzer: str | None) -> None:
    fn = dict(FUZZERS)[group]
    alone = {p.name: p.fuzzer for p in permutations(domain, [(group, fn)])}
    if fuzzer is None:
        assert name not in alone
        return
    assert alone.get(name) == fuzzer, f"{group} did not make {name}"


def test_every_fuzzer_has_a_row() -> None:
    assert {g for g, *_ in TABLE} == {g for g, _ in FUZZERS}


def test_all_fuzzers_together_are_normalised_unique_and_labelled() -> None:
    perms = permutations("hoshizora-sec.co.jp")
    names = [p.name for p in perms]
    assert len(names) == len(set(names)) > 1000
    assert "hoshizora-sec.co.jp" not in names
    assert all(p.fuzzer and p.base == "hoshizora-sec.co.jp" for p in perms)
    assert all(n == n.lower() and n.isascii() for n in names)
    fuzzers = {p.fuzzer for p in perms}
    # every dnstwist fuzzer that applies to this name, plus ours
    assert {"addition", "bitsquatting", "homoglyph", "hyphenation", "insertion", "omission", "repetition",
            "replacement", "subdomain", "transposition", "vowel-swap", "dictionary", "tld-swap",
            "finance-words", "co-jp", "homoglyph-idn"} <= fuzzers


def test_split_domain_uses_the_public_suffix_list() -> None:
    assert split_domain("www.hoshizora-sec.co.jp") == ("www", "hoshizora-sec", "co.jp")
    assert split_domain("hzsec.com") == ("", "hzsec", "com")


def test_our_fuzzers_are_plain_functions_of_a_domain() -> None:
    for fn in (finance_words, co_jp_flatten, tld_cheap, homoglyph_idn):
        out = list(fn("hoshizora.jp"))
        assert out and all(isinstance(f, str) and isinstance(n, str) for f, n in out)
