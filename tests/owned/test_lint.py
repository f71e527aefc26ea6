"""lint-messages (IV.4(5)): a corpus of real-shaped templates with no miss and no false alarm, the rules
one by one, .eml parts, QR codes, redirects followed through the lab, SARIF and the CLI's exit codes."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import EXAMPLE_BRANDS
from watcher.core.brands import load_brands
from watcher.owned.message_links import Rules, lint_eml, lint_file, lint_text

CORPUS = Path(__file__).parent / "templates"
OWN_SHORT = ["go.hzsec.com"]  # the firm's own short links (lint.short_domains)
RULES = Rules.from_brands(load_brands(EXAMPLE_BRANDS), OWN_SHORT)
EXPECTED = {k: v for k, v in json.loads((CORPUS / "expected.json").read_text(encoding="utf-8")).items()
            if not k.startswith("_")}


def test_the_corpus_covers_sms_and_mail_in_both_languages_and_clean_templates() -> None:
    names = list(EXPECTED)
    assert len(names) >= 40
    assert any(n.startswith("sms-ja") for n in names) and any(n.startswith("sms-en") for n in names)
    assert any(n.startswith("mail-ja") for n in names) and any(n.startswith("mail-en") for n in names)
    clean = [n for n, want in EXPECTED.items() if not want]
    assert len(clean) >= 10
    rules = {p.split(":", 1)[1] for want in EXPECTED.values() for p in want}
    assert rules == {"login-page", "login-host", "password-page", "placeholder-login", "app-login", "shortener",
                     "own-short-link", "tracking-hidden"}
    assert sorted(p.name for p in CORPUS.iterdir() if p.name != "expected.json" and p.suffix != ".md") == sorted(names)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_template_of_the_corpus(name: str) -> None:
    found = sorted(f"{p.line}:{p.rule}" for p in lint_file(CORPUS / name, RULES))
    assert found == sorted(EXPECTED[name]), [str(p) for p in lint_file(CORPUS / name, RULES)]


CASES = [
    # (template line, expected rule or None)
    ("ログインはこちら https://trade.hoshizora-sec.co.jp/login", "login-page"),
    ("https://trade.hoshizora-sec.co.jp/login?next=/portfolio", "login-page"),
    ('<a href="https://trade.hoshizora-sec.co.jp/orders">注文照会</a>', "login-host"),
    ("trade.hoshizora-sec.co.jp/login から", "login-page"),  # no scheme, as SMS texts write it
    ("https://www.kaede-sec.co.jp/login", "login-page"),
    ("https://bit.ly/3xYz", "shortener"),
    ("詳しくは https://go.hzsec.com/r/abc", "own-short-link"),
    ("https://www.hoshizora-sec.co.jp/mypage/", "password-page"),
    ("https://www.hoshizora-sec.co.jp/password/reset?u=1", "password-page"),
    ("https://example.jp/%E3%83%AD%E3%82%B0%E3%82%A4%E3%83%B3", "password-page"),  # /ログイン
    ("hxxps://hoshizora-sec-login.top/signin", "password-page"),
    ("ｈｔｔｐｓ：／／ｂｉｔ．ｌｙ／ａｂｃ", "shortener"),  # full-width, NFKC first
    ("{{ url_for('login') }}", "placeholder-login"),
    ("hoshizora://auth/otp", "app-login"),
    ("https://www.hoshizora-sec.co.jp/news/2026/11/25.html", None),
    ("お問い合わせ: support@hoshizora-sec.co.jp", None),
    ("https://www.hoshizora-sec.co.jp/security/sms.html をご確認ください。", None),
    ("当社のアプリまたはブックマークからログインしてください。", None),
    ("https://www.fsa.go.jp/", None),
    ("{{ unsubscribe_url }} {% if x %}{% endif %} *|FNAME|* %%first_name%%", None),
    ("line://ti/p/@hoshizora", None),  # a link into another app, not a login
]


@pytest.mark.parametrize("line,expected", CASES)
def test_table(line: str, expected: str | None) -> None:
    problems = lint_text(line, RULES, "t.txt")
    if expected is None:
        assert problems == []
    else:
        assert problems and problems[0].rule == expected, problems


def test_reasons_speak_both_languages() -> None:
    p = lint_text("https://bit.ly/abc", RULES, "t.txt")[0]
    assert "shortener" in p.render("en") and "短縮URL" in p.render("ja")


def test_eml_parts_and_html_entities() -> None:
    msg = EmailMessage()
    msg["Subject"] = "【ほしぞら証券】お取引報告書のお知らせ"
    msg.set_content("お取引報告書を交付しました。\nアプリからご確認ください。\n")
    msg.add_alternative('<p>ご確認は<a href="https://trade.hoshizora-sec.co.jp/login?a=1&amp;b=2">こちら</a></p>',
                        subtype="html")
    problems = lint_eml(msg.as_bytes(), RULES, "notice.eml")
    assert len(problems) == 1
    assert problems[0].line == 1 and "text/html" in problems[0].where


def test_a_redirect_chain_is_followed_through_the_lab(make_ctx, lab_web) -> None:
    """--follow: the firm's own short link and a shortener end at the login page (two hops); a link that
    ends at a news page is fine for the firm's own domain, and still a problem for a public shortener."""
    from watcher.owned.link_follow import make_follow

    lab_web.publish("go.hzsec.com", "shortener", links={"/nisa": "https://bit.ly/hz-nisa", "/news": "https://www.hoshizora-sec.co.jp/news/"})
    lab_web.publish("bit.ly", "shortener", links={"/hz-nisa": "https://trade.hoshizora-sec.co.jp/login?from=sms",
                                                  "/hz-news": "https://www.hoshizora-sec.co.jp/news/"})
    lab_web.publish("www.hoshizora-sec.co.jp", "official")
    ctx = make_ctx(web=lab_web)
    follow = make_follow(ctx)
    assert follow("https://go.hzsec.com/nisa") == ["https://go.hzsec.com/nisa", "https://bit.ly/hz-nisa",
                                                   "https://trade.hoshizora-sec.co.jp/login?from=sms"]
    rules = Rules.from_brands(ctx.brands, OWN_SHORT, follow=follow)
    found = lint_text("キャンペーン https://go.hzsec.com/nisa", rules, "sms.txt")
    assert [p.rule for p in found] == ["login-page"] and "2 redirect" in found[0].note.render("en")
    assert lint_text("https://go.hzsec.com/news", rules, "sms.txt") == []
    assert [p.rule for p in lint_text("https://bit.ly/hz-news", rules, "sms.txt")] == ["shortener"]
    # Nothing answers: the link stays a problem, and says it could not be followed.
    gone = lint_text("https://go.hzsec.com/nothing-here", rules, "sms.txt")
    assert [p.rule for p in gone] == ["own-short-link"] and gone[0].note is not None


def test_cli_exit_codes_and_sarif_for_a_release_pipeline(tmp_path: Path) -> None:
    from watcher.cli import app

    good = tmp_path / "good.txt"
    good.write_text("ほしぞら証券です。\nアプリからログインしてください。\n", encoding="utf-8")
    bad = tmp_path / "sms.txt"
    bad.write_text("【ほしぞら証券】\n本人確認: https://bit.ly/abc\n", encoding="utf-8")
    runner = CliRunner()
    base = ["lint-messages", "--brands", str(EXAMPLE_BRANDS), "--lang", "en"]
    ok = runner.invoke(app, [*base, str(good)])
    assert ok.exit_code == 0, ok.output
    res = runner.invoke(app, [*base, str(tmp_path)])
    assert res.exit_code == 1
    assert f"{bad}:2: a URL shortener" in res.output
    ja = runner.invoke(app, ["lint-messages", "--brands", str(EXAMPLE_BRANDS), "--lang", "ja", str(bad)])
    assert "短縮URL" in ja.output
    sarif_file = tmp_path / "lint.sarif"
    res = runner.invoke(app, [*base, "--shortener", "go.hzsec.com", "--format", "sarif", "-o", str(sarif_file),
                              *(str(CORPUS / name) for name in EXPECTED)])
    assert res.exit_code == 1
    doc = json.loads(sarif_file.read_text(encoding="utf-8"))
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} >= {"login-page", "shortener", "placeholder-login"}
    results = run["results"]
    assert len(results) == sum(len(v) for v in EXPECTED.values())
    first = results[0]
    assert first["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 and first["ruleId"]
    missing = runner.invoke(app, [*base, str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2


def test_an_endless_file_is_refused_at_the_cap(tmp_path: Path) -> None:
    """/dev/zero reports size 0: the cap holds on what is read, not on what the file system says."""
    from watcher.core.inputs import InputRefused

    with pytest.raises(InputRefused, match="larger than 1,024 bytes"):
        lint_file(Path("/dev/zero"), RULES, 1024)
    small = tmp_path / "t.txt"
    small.write_bytes("\ufeffhttps://bit.ly/x\n".encode())
    assert [p.rule for p in lint_file(small, RULES, 1024)] == ["shortener"]  # the BOM is not a character


def test_utf16_and_shift_jis_templates_are_decoded_not_skipped(tmp_path: Path) -> None:
    """Templates saved by Windows tools (UTF-16 with a BOM) or old Japanese systems (Shift_JIS) are read
    through watcher.core.inputs: their links are found, never lost as undecodable noise."""
    body = "【ほしぞら証券】本人確認はこちら https://bit.ly/abc\n"
    utf16 = tmp_path / "utf16.txt"
    utf16.write_bytes(body.encode("utf-16"))
    sjis = tmp_path / "sjis.txt"
    sjis.write_bytes(body.encode("shift_jis"))
    for f in (utf16, sjis):
        assert [p.rule for p in lint_file(f, RULES, 1024)] == ["shortener"], f
