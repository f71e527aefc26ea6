"""Name normalisation on real-world oddities."""

import pytest

from watcher.core.names import InvalidName, flatten, normalize_host

GOOD = [
    # raw, ascii, registrable, wildcard
    ("WWW.Hoshizora-Sec.CO.JP.", "www.hoshizora-sec.co.jp", "hoshizora-sec.co.jp", False),
    ("*.k7x2.top", "k7x2.top", "k7x2.top", True),
    ("hoshizora-seс.com", "xn--hoshizora-se-khk.com", "xn--hoshizora-se-khk.com", False),  # Cyrillic с
    ("XN--HOSHIZORA-SE-KHK.COM", "xn--hoshizora-se-khk.com", "xn--hoshizora-se-khk.com", False),
    ("ほしぞら証券.jp", "xn--68jo9fqcu94wji8d.jp", "xn--68jo9fqcu94wji8d.jp", False),
    ("ｈｏｓｈｉｚｏｒａ．ｃｏｍ", "hoshizora.com", "hoshizora.com", False),  # full-width letters and dot
    ("hoshizora-sec.co.jp.login-check.cn", "hoshizora-sec.co.jp.login-check.cn", "login-check.cn", False),
    ("_dmarc.hoshizora-sec.co.jp", "_dmarc.hoshizora-sec.co.jp", "hoshizora-sec.co.jp", False),
    ("victim.github.io", "victim.github.io", "github.io", False),
    ("a.b.c.d.example.co.uk", "a.b.c.d.example.co.uk", "example.co.uk", False),
    ("  Trade.Hoshizora-sec.co.jp  ", "trade.hoshizora-sec.co.jp", "hoshizora-sec.co.jp", False),
]


@pytest.mark.parametrize(("raw", "ascii_", "registrable", "wildcard"), GOOD)
def test_names_normalise(raw, ascii_, registrable, wildcard):
    n = normalize_host(raw)
    assert (n.ascii, n.registrable, n.wildcard) == (ascii_, registrable, wildcard)


def test_free_hosting_sites_are_grouped_by_their_private_suffix():
    n = normalize_host("login.victim.github.io")
    assert n.registrable == "github.io" and n.site == "victim.github.io"


def test_unicode_form_is_kept_for_display():
    assert normalize_host("xn--hoshizora-se-khk.com").unicode == "hoshizora-seс.com"


def test_ip_addresses_are_names_too():
    assert normalize_host("203.0.113.7").is_ip
    assert normalize_host("[2001:db8::1]").ascii == "2001:db8::1"


BAD = [
    ("", "empty"),
    ("   ", "empty"),
    ("exa mple.com", "whitespace"),
    ("a..b.com", "empty label"),
    ("x" * 64 + ".com", "63"),
    (("a" * 60 + ".") * 5 + "com", "253"),
    ("foo.*.example.com", "leftmost"),
    ("*.*.example.com", "leftmost"),
    ("-bad-.com", "IDNA"),
    ("xn--zz.com", "punycode"),
    ("localhostx", "single label"),
    ("example.123", "numeric"),
    ("exa\x00mple.com", "control"),
    ("bad_-.com", "not allowed"),
]


@pytest.mark.parametrize(("raw", "why"), BAD)
def test_impossible_names_are_rejected_with_a_reason(raw, why):
    with pytest.raises(InvalidName, match=why):
        normalize_host(raw)


def test_wildcards_can_be_refused():
    with pytest.raises(InvalidName, match="wildcard"):
        normalize_host("*.example.com", allow_wildcard=False)


def test_flatten_folds_a_domain_into_one_label():
    assert flatten("hoshizora-sec.co.jp") == "hoshizora-sec-co-jp"


def test_a_homoglyph_is_shown_in_unicode_with_its_a_label_marked_and_named_for_what_it_imitates():
    from watcher.core.names import show_name

    official = ["hoshizora-sec.co.jp", "hoshizora.jp"]
    s = show_name("xn--hoshizora-se-khk.com", official)
    assert s.plain() == "hoshizora-seс.com (xn--hoshizora-se-khk.com)"
    assert s.bracketed() == "hoshizora-se［с］.com" and s.mixed_script
    assert s.looks_like == "hoshizora-sec.co.jp"
    assert show_name("www.hoshizora-sec.co.jp", official).looks_like == ""  # ours
    plain = show_name("hoshizora-sec-login.top", official)
    assert plain.plain() == "hoshizora-sec-login.top" and not plain.marked and not plain.is_idn
    japanese = show_name("ほしぞら証券.com", official)
    assert japanese.is_idn and not japanese.mixed_script  # kana and kanji with a Latin TLD is normal
    assert show_name("not a name\x00", official).alabel == "not a name\x00"  # never raises
