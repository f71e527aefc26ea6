"""The SMS short code on the brand's public page (IV.4(2)), fetched through the lab's proxy."""

from __future__ import annotations

from tests.owned.conftest import finding, is_open, is_resolved
from watcher.owned.checks import run_checks
from watcher.owned.shortcode import check_short_codes, codes_missing


def test_page_text_normalisation() -> None:
    assert codes_missing("<p>送信元：<b>0005-12345</b></p>", ["000512345"]) == []
    assert codes_missing("<p>送信元：０００５１２３４５</p>", ["000512345"]) == []  # full-width digits
    assert codes_missing("<p>0005123456</p>", ["000512345"]) == ["000512345"]  # a longer number is not it
    assert codes_missing("<script>var c='000512345'</script>", ["000512345"]) == ["000512345"]


def test_short_code_page(make_ctx, lab_web) -> None:
    lab_web.publish("www.hoshizora-sec.co.jp", "official")
    ctx = make_ctx(web=lab_web)
    summary = run_checks(ctx, (check_short_codes,))
    assert summary["passing"] == 1 and "failing" not in summary and "errors" not in summary, summary
    assert finding(ctx, "short_code", "hoshizora") is None

    # A redesign drops the page: the finding opens; the page comes back: it resolves.
    lab_web.publish("www.hoshizora-sec.co.jp", "corporate", title="ほしぞら証券", text="新しいサイトです")
    run_checks(ctx, (check_short_codes,))
    f = finding(ctx, "short_code", "hoshizora")
    assert is_open(ctx, "short_code", "hoshizora") and "000512345" in f.title and "not on the page" in f.detail
    lab_web.publish("www.hoshizora-sec.co.jp", "notfound")
    run_checks(ctx, (check_short_codes,))
    assert "HTTP 404" in finding(ctx, "short_code", "hoshizora").detail
    lab_web.unpublish("www.hoshizora-sec.co.jp")  # the proxy cannot reach it: undecided, the finding stays
    assert run_checks(ctx, (check_short_codes,))["errors"] == 1
    assert is_open(ctx, "short_code", "hoshizora")
    lab_web.publish("www.hoshizora-sec.co.jp", "official")
    run_checks(ctx, (check_short_codes,))
    assert is_resolved(ctx, "short_code", "hoshizora")
    assert finding(ctx, "short_code", "kaede") is None  # kaede sends no SMS: nothing to check
