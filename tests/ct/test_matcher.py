"""The brand matcher: a table per reason kind, homographs, and names that must not match."""

from __future__ import annotations

import pytest

from watcher.discovery.ct.matcher import Matcher, explain, skeleton

# (name, brand, reason kinds that must be among the reasons)
MATCHES = [
    # permutation: an exact dnstwist/our fuzzer output of an official domain (and its subdomains)
    ("hosizora-sec.co.jp", "hoshizora", {"permutation", "edit_distance"}),
    ("hoshizora-sec.co", "hoshizora", {"permutation", "keyword"}),
    ("login.hosizora-sec.co.jp", "hoshizora", {"permutation"}),
    ("kaede-sec.co", "kaede", {"permutation"}),
    # keyword in the registrable label or in any subdomain label
    ("hoshizora-sec-login.top", "hoshizora", {"keyword", "combo", "cheap_tld"}),
    ("hzsec-support.xyz", "hoshizora", {"keyword", "combo"}),
    ("hoshizora.k7x2.top", "hoshizora", {"keyword", "cheap_tld"}),
    ("ほしぞら.jp", "hoshizora", {"keyword"}),
    ("xn--68jo9fqc.com", "hoshizora", {"keyword"}),  # ほしぞら as an A-label
    ("kaede-sec-support.cn", "kaede", {"keyword", "combo"}),
    # flattened / embedded official domain in a label of an unrelated domain
    ("www-hoshizora-sec-co-jp.k7x2.top", "hoshizora", {"flattened", "cheap_tld"}),
    ("hoshizora-sec-co-jp.secure-login.asia", "hoshizora", {"flattened", "combo"}),
    ("hoshizora-sec.co.jp.login-check.cn", "hoshizora", {"embedded", "combo"}),
    ("kaede-sec-co-jp.abc.top", "kaede", {"flattened"}),
    # small edit distance of a label to a brand label
    ("hoshizor-sec.net", "hoshizora", {"edit_distance"}),
    ("hoshizoora.online", "hoshizora", {"edit_distance"}),
    ("secure.hosizora-sec-co-jp.top", "hoshizora", {"edit_distance"}),
    # IDN homographs: confusable skeleton equals (or contains) a brand label
    ("xn--hoshizora-se-khk.com", "hoshizora", {"homoglyph"}),  # Cyrillic с
    ("xn--hoshizora-se-khk.com", "hoshizora", {"homoglyph"}),  # the demo's logo-only clone
    ("xn--hshizora-nbh.net", "hoshizora", {"homoglyph"}),  # Cyrillic о
    ("h0shizora.net", "hoshizora", {"homoglyph"}),
    # combination with a phishing word
    ("kabu-hoshizora.com", "hoshizora", {"keyword", "combo"}),
    ("hoshizora-nisa.jp", "hoshizora", {"keyword", "combo"}),
    # a lapsed domain of the firm re-appearing in a certificate: drop-catch
    ("hoshizora-fx.jp", "hoshizora", {"lapsed"}),
    # wildcards match on their base
    ("*.hoshizora-sec-co-jp.k7x2.top", "hoshizora", {"flattened"}),
    ("*.hoshizora-login.top", "hoshizora", {"keyword", "combo"}),
]

OWNED = [
    ("hoshizora-sec.co.jp", False),
    ("trade.hoshizora-sec.co.jp", False),
    ("*.hoshizora-sec.co.jp", False),
    ("new-campaign.hoshizora.jp", False),
    ("HZSEC.COM.", False),
    ("kaede-sec.co.jp", False),
    ("hoshizora-hd.co.jp", True),  # the group (parent company): never flagged
    ("ir.hoshizora-hd.co.jp", True),
]

NO_MATCH = [
    "kaede-cafe.jp",  # word exception of brand kaede
    "www.kaedecafe.com",
    "kaede-hair.tokyo",
    "example.com",
    "shop12345-blog.top",
    "sakura-travel.co.jp",
    "tsubame-sec.co.jp",  # a genuine other firm
    "hoshi.jp",  # too short to be the brand
    "xn--80ak6aa92e.com",  # аррӏе: a homograph, but not of our brands
    "",
    "*.",
    "a" * 300 + ".com",
    "bad name.com",
]


@pytest.fixture(scope="module")
def m() -> Matcher:
    from types import SimpleNamespace

    from watcher.core.brands import load_brands
    from watcher.core.config import ROOT
    from watcher.discovery.ct.matcher import matcher_for

    # The same cached Matcher the other CT tests use (building one costs about 2.5 s of permutations).
    return matcher_for(SimpleNamespace(brands=load_brands(ROOT / "data" / "brands.example.toml")))  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "brand", "kinds"), MATCHES)
def test_matches(m: Matcher, name: str, brand: str, kinds: set[str]) -> None:
    res = m.match(name)
    assert res is not None, name
    assert res.brand == brand and not res.owned
    got = {r.kind for r in res.reasons}
    assert kinds <= got, (name, got)
    assert res.points == sum(r.points for r in res.reasons) > 0
    assert all(r.detail for r in res.reasons)


@pytest.mark.parametrize(("name", "group"), OWNED)
def test_own_and_group_names_are_owned_never_candidates(m: Matcher, name: str, group: bool) -> None:
    res = m.match(name)
    assert res is not None and res.owned and res.group is group and res.points == 0


@pytest.mark.parametrize("name", NO_MATCH)
def test_must_not_match(m: Matcher, name: str) -> None:
    assert m.match(name) is None


def test_word_exception_only_covers_the_exception(m: Matcher) -> None:
    res = m.match("kaede-cafe-kaede-sec-login.top")  # the exception and the brand in one label
    assert res is not None and res.brand == "kaede"


def test_keyword_counted_once_per_label(m: Matcher) -> None:
    res = m.match("hoshizora-sec-login.top")
    assert res is not None
    assert [r.detail for r in res.reasons if r.kind == "keyword"] == [
        "brand keyword 'hoshizora-sec' in the registrable label 'hoshizora-sec-login'"]


def test_skeleton() -> None:
    assert skeleton("hoshizora-seс") == "hoshizora-sec"
    assert skeleton("ＨＯＳＨＩＺＯＲＡ") == "hoshizora"
    assert skeleton("h0shizora") == "hoshizora"
    assert skeleton("hoshizorá") == "hoshizora"


def test_explain(ctx) -> None:  # type: ignore[no-untyped-def]
    assert explain(ctx, "example.com") == ["no brand match"]
    assert explain(ctx, "www.hoshizora-sec.co.jp")[0].startswith("ours (hoshizora)")
    lines = explain(ctx, "www-hoshizora-sec-co-jp.k7x2.top")
    assert lines[0].startswith("brand hoshizora") and any(line.startswith("flattened:") for line in lines)


def test_from_brands_builds_a_matcher() -> None:
    from watcher.core.brands import load_brands
    from watcher.core.config import ROOT

    brands = load_brands(ROOT / "data" / "brands.example.toml")
    fresh = Matcher(brands, with_permutations=False)  # the contract's constructor, minus the slow part
    assert fresh.match("www-kaede-sec-co-jp.abc.top").brand == "kaede"  # type: ignore[union-attr]


def test_a_matcher_without_brands_finds_nothing_instead_of_crashing() -> None:
    from watcher.discovery.ct.matcher import Matcher

    assert Matcher([]).match("hoshizora-sec-login.top") is None
