"""lint-messages on a table of templates: login links, password pages and shorteners fail; others pass."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import EXAMPLE_BRANDS
from watcher.core.brands import load_brands
from watcher.owned.message_links import Rules, lint_eml, lint_text

RULES = Rules.from_brands(load_brands(EXAMPLE_BRANDS), shorteners=["hzsec.com"])

CASES = [
    # (template line, expected reason fragment or None)
    ("ログインはこちら https://trade.hoshizora-sec.co.jp/login", "login page of hoshizora"),
    ("https://trade.hoshizora-sec.co.jp/login?next=/portfolio", "login page of hoshizora"),
    ('<a href="https://trade.hoshizora-sec.co.jp/orders">注文照会</a>', "host of hoshizora's login page"),
    ("trade.hoshizora-sec.co.jp/login から", "login page of hoshizora"),  # no scheme, as SMS texts write it
    ("https://www.kaede-sec.co.jp/login", "login page of kaede"),
    ("https://bit.ly/3xYz", "URL shortener"),
    ("詳しくは https://hzsec.com/r/abc", "URL shortener"),  # the firm's own short links
    ("https://www.hoshizora-sec.co.jp/mypage/", "asks for a password"),
    ("https://www.hoshizora-sec.co.jp/password/reset?u=1", "asks for a password"),
    ("https://example.jp/%E3%83%AD%E3%82%B0%E3%82%A4%E3%83%B3", "asks for a password"),  # /ログイン
    ("hxxps://hoshizora-sec-login.top/signin", "asks for a password"),
    ("https://www.hoshizora-sec.co.jp/news/2026/11/25.html", None),
    ("お問い合わせ: support@hoshizora-sec.co.jp", None),
    ("https://www.hoshizora-sec.co.jp/security/sms.html をご確認ください。", None),
    ("当社のアプリまたはブックマークからログインしてください。", None),
    ("https://www.fsa.go.jp/", None),
]


@pytest.mark.parametrize("line,expected", CASES)
def test_table(line: str, expected: str | None) -> None:
    problems = lint_text(line, RULES, "t.txt")
    if expected is None:
        assert problems == []
    else:
        assert problems and expected in problems[0].reason, problems


def test_eml_parts_and_html_entities() -> None:
    msg = EmailMessage()
    msg["Subject"] = "【ほしぞら証券】お取引報告書のお知らせ"
    msg.set_content("お取引報告書を交付しました。\nアプリからご確認ください。\n")
    msg.add_alternative('<p>ご確認は<a href="https://trade.hoshizora-sec.co.jp/login?a=1&amp;b=2">こちら</a></p>',
                        subtype="html")
    problems = lint_eml(msg.as_bytes(), RULES, "notice.eml")
    assert len(problems) == 1
    assert problems[0].line == 1 and "text/html" in problems[0].where


def test_cli_exit_codes_for_a_release_pipeline(tmp_path: Path) -> None:
    from watcher.cli import app

    good = tmp_path / "good.txt"
    good.write_text("ほしぞら証券です。\nアプリからログインしてください。\n", encoding="utf-8")
    bad = tmp_path / "sms.txt"
    bad.write_text("【ほしぞら証券】\n本人確認: https://bit.ly/abc\n", encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(app, ["lint-messages", "--brands", str(EXAMPLE_BRANDS), str(good)])
    assert ok.exit_code == 0, ok.output
    res = runner.invoke(app, ["lint-messages", "--brands", str(EXAMPLE_BRANDS), str(tmp_path)])
    assert res.exit_code == 1
    assert f"{bad}:2: URL shortener" in res.output
    missing = runner.invoke(app, ["lint-messages", "--brands", str(EXAMPLE_BRANDS), str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2
