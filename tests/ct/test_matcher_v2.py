"""Matcher v2: a label read as a person reads it — tokens, hyphens ignored, look-alike ASCII folded,
one-edit lookalikes made the way phishers make them, short keywords only as words — and the analyst's
exception tool. (Speed is measured by `make bench`, not here.)"""

from __future__ import annotations

import pytest

from watcher.core.brands import BrandSpec
from watcher.discovery.ct.matcher import Matcher
from watcher.discovery.ct.tokens import fold, tokens
from watcher.discovery.exceptions import suggest

BRANDS = [
    BrandSpec(slug="hoshizora", name="Hoshizora Securities", keywords=["hoshizora", "hzsec", "ほしぞら"],
              official_domains=["hoshizora-sec.co.jp"]),
    BrandSpec(slug="tsubame", name="Tsubame Card", keywords=["tsubame", "tbm", "tbmcard"],
              word_exceptions=["tsubamesanjo"], official_domains=["tsubame-card.co.jp"]),
    BrandSpec(slug="ki", name="KI Bank", keywords=["ki", "kibank"], official_domains=["kibank.jp"]),
]


@pytest.fixture(scope="module")
def m() -> Matcher:
    return Matcher(BRANDS, with_permutations=False)


def kinds(m: Matcher, name: str, brand: str) -> set[str]:
    res = m.match(name)
    assert res is not None and res.brand == brand and not res.owned, (name, res and res.as_dict())
    return {r.kind for r in res.reasons}


def test_the_fold_and_the_tokens() -> None:
    assert fold("rnizuho-1ogin") == "mlzuho-logln" == fold("mlzuho-login")
    assert fold("vvallet-cl0ud") == "wallet-doud"
    assert tokens("hoshi-zora2login") == ("hoshl", "zora", "logln")


@pytest.mark.parametrize("name", [
    "hoshi-zora.k7x2.top",  # an inserted hyphen splits the name
    "hosh1zora-login.top",  # 1 for i
    "hoshizzora.top",  # a doubled letter
    "hoshiozra-secure.cn",  # a swapped pair
    "hoshizoraverify2.xyz",  # glued to another word
    "hoshizorra-login.top",  # one letter inserted
    "hoshlzora.jp.account-check.cn",  # l for i
    "www-hoshizor-sec.k7x2.top",  # one letter dropped, before a word
])
def test_one_edit_lookalikes_in_a_token_are_found(m: Matcher, name: str) -> None:
    assert kinds(m, name, "hoshizora") & {"keyword", "edit_distance", "homoglyph"}


def test_every_hit_is_a_reason_in_words_from_the_catalogue(m: Matcher) -> None:
    res = m.match("hoshi-zora-login.k7x2.top")
    assert res is not None
    for r in res.reasons:
        assert r.text is not None and r.detail == r.text.render("en") and r.text.render("ja")


def test_a_letter_for_a_letter_is_another_word_unless_phishers_make_it(m: Matcher) -> None:
    assert m.match("tsubaze.com") is None  # m -> z: another word
    assert kinds(m, "tsubeme-login.top", "tsubame") == {"edit_distance", "combo", "cheap_tld"}  # a vowel swap


def test_short_keywords_count_only_as_words(m: Matcher) -> None:
    assert kinds(m, "tbm-login.top", "tsubame")  # a token of its own
    assert kinds(m, "mytbm.k7x2.top", "tsubame")  # beside "my"
    assert kinds(m, "tbmpay.example.cn", "tsubame")  # beside a finance word
    assert m.match("atbmx.com") is None  # a fragment of a longer word
    assert m.match("ki.dk") is None  # two letters alone say nothing
    assert kinds(m, "ki-bank-login.top", "ki")
    assert m.match("kiwi.com") is None and m.match("skiing.com") is None


def test_word_exceptions_and_the_suggestion_tool(m: Matcher) -> None:
    assert m.match("tsubamesanjo.jp") is None  # a city, excepted by the analyst
    found = suggest(m, ["# a benign list", "tsubamesushi.com", "example.com", "hoshizorastudio", "tsubame-card.co.jp"])
    assert [(s.brand, s.word) for s in found] == [("hoshizora", "hoshizorastudio"), ("tsubame", "tsubamesushi")]
    assert all(s.reason for s in found)


def test_official_domains_embedded_only_at_a_label_start(m: Matcher) -> None:
    assert "embedded" in kinds(m, "kibank.jp.secure-login.cn", "ki")
    res = m.match("wikibank.jp")
    assert res is None or "embedded" not in {r.kind for r in res.reasons}


def test_the_suggest_exceptions_command(ctx, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from watcher.cli import app

    monkeypatch.setattr("watcher.commands.brands.context", lambda *a, **k: ctx)
    benign = tmp_path / "benign.txt"
    benign.write_text("1,hoshizoranews.com\n2,example.com\n3,kaedecafe.jp\n", encoding="utf-8")
    out = CliRunner().invoke(app, ["--lang", "en", "brands", "suggest-exceptions", "--benign", str(benign)])
    assert out.exit_code == 0, out.output
    assert "hoshizora\thoshizoranews" in out.output and "example" not in out.output
    missing = CliRunner().invoke(app, ["--lang", "en", "brands", "suggest-exceptions", "--benign",
                                       str(tmp_path / "none.txt")])
    assert missing.exit_code == 2 and "read the benign list" in " ".join(missing.output.split())


ENGLISH = [
    BrandSpec(slug="lantern", name="Lantern Bank", keywords=["lantern", "ltb", "ipocket"],
              official_domains=["lantern-bank.co.jp"]),
]


def test_english_words_beside_a_brand_word_in_the_registrable_label_name_something_else() -> None:
    pytest.importorskip("english_words", reason="a venv from before the dependency: run make setup")
    m = Matcher(ENGLISH, with_permutations=False)
    # The owner's long-term name: a phrase of English words, another thing's acronym, an English word.
    assert m.match("lanternfestival.com") is None  # a brand word that is English, glued to English
    assert m.match("ltb-gardens.com") is None  # an acronym beside an English word
    assert m.match("saraipocket.com") is None  # "i" + "pocket" where the "i" ends the word before
    assert m.match("mypocket.com") is None  # the product's letter changed: the English word
    # The same words are the brand beside a finance or login word or a lure, beside junk, or in a
    # subdomain label of an unrelated name (where phishing puts them).
    for name in ("lanternlogin.top", "lantern7x.top", "lanternfestival.k7x2.top", "ltb-refund.com",
                 "ltb-gardens.k7x2.top", "ltb-xk29.com", "ipocket-login.com", "my-ipocket.top"):
        assert kinds(m, name, "lantern") & {"keyword", "edit_distance", "homoglyph"}, name


def test_a_name_a_checked_registry_gave_an_institution_is_its_own() -> None:
    m = Matcher(BRANDS, with_permutations=False)
    # Universities and governments get their names only after the registry checked who they are.
    for name in ("hzsec.ac.in", "hoshizora.ac.jp", "hoshizora.go.jp", "hoshi-zora.edu", "tbm-card.gov.uk"):
        assert m.match(name) is None, name
    # Phishing on a hacked university site sits in a subdomain label; a company suffix is not enough.
    assert kinds(m, "hoshizora-login.ee.example.ac.jp", "hoshizora")
    assert kinds(m, "hosizora-sec.co.jp", "hoshizora")


def test_a_lookalike_of_a_compound_keeps_the_brands_own_part() -> None:
    m = Matcher(BRANDS, with_permutations=False)
    assert m.match("tbncard.com") is None  # "tbm" + "card" with the brand's letters changed: "tbn"
    assert kinds(m, "tbmcadr-login.top", "tsubame")  # the edit falls on the finance word
    # Letters glued after a word only the fold makes are another word ("appie|r" is not "apple|r").
    pilot = Matcher([BrandSpec(slug="pilot", name="Pilot", keywords=["pilot"], official_domains=["pilot.jp"])],
                    with_permutations=False)
    assert pilot.match("p1lotex.com") is None and pilot.match("kopiiotex.com") is None
    assert kinds(pilot, "p1lot-login.top", "pilot") and kinds(pilot, "pilotex.com", "pilot")


def test_permutations_that_name_something_else_are_not_kept() -> None:
    m = Matcher([BrandSpec(slug="kumo", name="Kumo", keywords=[], official_domains=["icloud.jp", "aeon.jp",
                                                                                     "eki-net.com"])])
    assert not {"cloud.jp", "eon.jp", "aon.jp", "cdn-net.com"} & set(m.perms)  # an English word, short
    assert {"lcloud.jp", "aeon.tk", "eki-net.tk"} <= set(m.perms)  # a look-alike letter, another suffix


def test_under_a_tld_phishing_favours_a_short_brand_word_counts_buried_in_a_longer_word(m: Matcher) -> None:
    assert kinds(m, "movehzsecorto.shop", "hoshizora") & {"keyword"}  # where phishing against Japan registers
    assert m.match("movehzsecorto.com") is None  # elsewhere a fragment of another word


def test_a_mirrored_letter_is_a_phishers_edit(m: Matcher) -> None:
    assert kinds(m, "tsudame-login.top", "tsubame") & {"edit_distance"}  # b for d
