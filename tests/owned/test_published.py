"""The published official-domains page kept true: fetched through the lab's proxy, compared with the
inventory; and the page we generate states the rule, the apps and the short code."""

from __future__ import annotations

import json

from tests.owned.conftest import finding, is_open, is_resolved
from watcher.owned.checks import run_checks
from watcher.owned.published import check_published_list, listed_names
from watcher.report.official_domains import render_official_domains


def test_listed_names_come_from_list_items_and_code_not_from_prose() -> None:
    page = ("<p>Look-alikes such as hoshizora-sec.co.jp.evil.top are not ours.</p>"
            "<ul><li>hoshizora-sec.co.jp</li><li><code>@hzsec.com</code></li></ul><td>ＨＯＳＨＩＺＯＲＡ.JP</td>")
    assert listed_names(page) == {"hoshizora-sec.co.jp", "hzsec.com", "hoshizora.jp"}
    assert listed_names(json.dumps({"brands": [{"domains": ["a.example"], "hosts": ["x.a.example"]}]}),
                        "application/json") == {"a.example", "x.a.example"}


def test_a_stale_published_list_opens_findings_and_a_fixed_one_resolves_them(make_ctx, lab_web) -> None:
    lab_web.publish("www.hoshizora-sec.co.jp", "official")  # its /domains still names hoshizora-fx.jp
    ctx = make_ctx(web=lab_web, report={"official_list_url": "https://www.hoshizora-sec.co.jp/domains"})
    run_checks(ctx, (check_published_list,))
    extra = finding(ctx, "official_list_extra", "hoshizora:hoshizora-fx.jp")
    assert extra is not None and extra.severity == "high" and extra.data["lapsed"]
    assert is_open(ctx, "official_list_extra", "hoshizora:hoshizora-fx.jp")
    for name in ("hoshizora-sec.co.jp", "hoshizora.jp", "hzsec.com", "hoshizora-sec.com"):
        assert finding(ctx, "official_list_missing", f"hoshizora:{name}") is None, name

    # The firm publishes the page omamori generates: nothing extra, nothing missing.
    ours = render_official_domains(ctx)["html:hoshizora"].read_text(encoding="utf-8")
    lab_web.publish("www.hoshizora-sec.co.jp", "page", body=ours)
    run_checks(ctx, (check_published_list,))
    assert is_resolved(ctx, "official_list_extra", "hoshizora:hoshizora-fx.jp")


def test_the_official_page_states_the_rule_apps_and_short_code(make_ctx) -> None:
    ctx = make_ctx()
    page = render_official_domains(ctx)["html:hoshizora"].read_text(encoding="utf-8")
    assert "必ず次のドメインで終わります" in page and "always end in one of these domains" in page
    assert "hoshizora-sec.co.jp.login-check.top" in page  # the look-alike example
    assert "ほしぞらトレード" in page and "iOS" in page
    assert "000512345" in page and "short code" in page
