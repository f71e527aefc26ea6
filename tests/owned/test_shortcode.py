"""The SMS short code on every page that should show it (IV.4(2)), and the carriers' page the firm links
to, all fetched through the lab's proxy."""

from __future__ import annotations

from tests.owned.conftest import finding, is_open, is_resolved
from watcher.core.texts import render_stored
from watcher.owned.checks import run_checks
from watcher.owned.shortcode import check_short_codes, codes_missing, links_to

SMS = "https://www.hoshizora-sec.co.jp/security/sms.html"
FAQ = "https://www.hoshizora-sec.co.jp/support/sms-faq.html"
STORE = "https://apps.apple.com/jp/app/hoshizora-sec/id0000000001"
INFO = "https://www.lab-carrier.test/sms/shortcode/"


def test_page_text_normalisation() -> None:
    assert codes_missing("<p>送信元：<b>0005-12345</b></p>", ["000512345"]) == []
    assert codes_missing("<p>送信元：０００５１２３４５</p>", ["000512345"]) == []  # full-width digits
    assert codes_missing("<p>0005123456</p>", ["000512345"]) == ["000512345"]  # a longer number is not it
    assert codes_missing("<script>var c='000512345'</script>", ["000512345"]) == ["000512345"]
    assert links_to('<a href="https://WWW.lab-carrier.test/sms/shortcode">x</a>', INFO)


def publish_all(lab_web) -> None:
    lab_web.publish("www.hoshizora-sec.co.jp", "official")  # the SMS page and the help page
    lab_web.publish("apps.apple.com", "appstore", app="ほしぞら証券アプリ",
                    text="当社からのSMSは共通ショートコード 0005-12345 から送信します。")
    lab_web.publish("www.lab-carrier.test", "carrier-info", codes={"ほしぞら証券": "0005-12345"})


def test_every_page_shows_the_code(make_ctx, lab_web) -> None:
    publish_all(lab_web)
    ctx = make_ctx(web=lab_web)
    summary = run_checks(ctx, (check_short_codes,))
    assert "failing" not in summary and "errors" not in summary, summary
    # the SMS page, the help page, the app store listing, the carriers' page; brand-level "configured"
    assert summary["passing"] == 5

    # An app update drops the code from the store listing: that page's finding opens, the others stay ok.
    lab_web.publish("apps.apple.com", "appstore", app="ほしぞら証券アプリ", text="新NISAに対応しました。")
    run_checks(ctx, (check_short_codes,))
    f = finding(ctx, "short_code", f"hoshizora:{STORE}")
    assert f is not None and is_open(ctx, "short_code", f"hoshizora:{STORE}")
    assert "000512345" in f.title and STORE in f.title and "not on the page" in f.detail
    assert "見当たりません" in render_stored(f.title_text, "ja")  # stored as a catalogue text
    assert not is_open(ctx, "short_code", f"hoshizora:{SMS}") and not is_open(ctx, "short_code", f"hoshizora:{FAQ}")

    # A redesign drops the code from the site, then the SMS page itself (404).
    lab_web.publish("www.hoshizora-sec.co.jp", "corporate", title="ほしぞら証券", text="新しいサイトです")
    run_checks(ctx, (check_short_codes,))
    assert "not on the page" in finding(ctx, "short_code", f"hoshizora:{SMS}").detail
    assert is_open(ctx, "short_code", "hoshizora:carrier-info")  # the new page no longer links the carriers
    lab_web.publish("www.hoshizora-sec.co.jp", "notfound")
    run_checks(ctx, (check_short_codes,))
    assert "HTTP 404" in finding(ctx, "short_code", f"hoshizora:{SMS}").detail
    lab_web.unpublish("www.hoshizora-sec.co.jp")  # the proxy cannot reach it: undecided, the findings stay
    assert run_checks(ctx, (check_short_codes,))["errors"] == 2
    assert is_open(ctx, "short_code", f"hoshizora:{SMS}")
    publish_all(lab_web)
    run_checks(ctx, (check_short_codes,))
    for page in (SMS, FAQ, STORE):
        assert is_resolved(ctx, "short_code", f"hoshizora:{page}"), page
    assert finding(ctx, "short_code", "kaede") is None  # kaede sends no SMS: nothing to check


def test_the_carriers_page_is_linked_and_answers(make_ctx, lab_web) -> None:
    publish_all(lab_web)
    lab_web.unpublish("www.lab-carrier.test")
    ctx = make_ctx(web=lab_web)
    run_checks(ctx, (check_short_codes,))
    assert run_checks(ctx, (check_short_codes,))["errors"] == 1  # unreachable through the proxy: undecided
    lab_web.publish("www.lab-carrier.test", "notfound")
    run_checks(ctx, (check_short_codes,))
    f = finding(ctx, "short_code", "hoshizora:carrier-info")
    assert f is not None and "HTTP 404" in f.title
    lab_web.publish("www.lab-carrier.test", "carrier-info")
    run_checks(ctx, (check_short_codes,))
    assert is_resolved(ctx, "short_code", "hoshizora:carrier-info")
