"""The scoring signals and the marker tables, on the lab's own pages (no browser: pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from crawlers.extract import host_of, parse_html
from lab import sites
from watcher.capture import score
from watcher.core.models import Verdict

ASSETS = Path(__file__).resolve().parents[2] / "data" / "lab" / "sites"
BRAND = {"slug": "hoshizora", "name": "Hoshizora Securities Co., Ltd.", "name_ja": "ほしぞら証券株式会社",
         "keywords": ["hoshizora", "hoshizora-sec", "hzsec", "ほしぞら", "星空証券"],
         "official_domains": ["hoshizora-sec.co.jp", "hoshizora.jp"], "group_domains": ["hoshizora-hd.co.jp"]}


def record_of(html: str, url: str) -> dict[str, Any]:
    rec = parse_html(html, url)
    rec.update(ok=True, status=200, final_url=url, final_host=host_of(url), hashes={})
    return rec


def ev(rec: dict[str, Any], **kw: Any) -> score.Evidence:
    return score.Evidence(record=rec, brand=BRAND, now=datetime(2026, 11, 25, tzinfo=UTC), **kw)


@pytest.mark.parametrize(("kind", "expected"), [
    ("parked-sedo", "for_sale"), ("parked-godaddy", "for_sale"), ("parked-dan", "for_sale"),
    ("parked-bodis", "parked"), ("parked-onamae", "parked"), ("forsale", "for_sale"), ("suspended", "suspended"),
    ("takeover-s3", "empty"), ("takeover-github", "empty"), ("blank", "empty"),
])
def test_marker_tables_recognise_the_lab_pages(kind: str, expected: str) -> None:
    class Req:
        path, method, host = "/", "GET", "hoshizora-sec.co"

    resp = sites.render(sites.Site(kind, {}), "hoshizora-sec.co", Req(), None)  # type: ignore[arg-type]
    rec = record_of(resp.body.decode(), "https://hoshizora-sec.co/")
    got, marker = score.page_kind(rec)
    assert got == expected, marker
    assert marker


def test_marker_tables_name_their_sources() -> None:
    for table in score.load_markers():
        assert table["sources"] and table["markers"] and table["kind"]


def test_a_clone_is_not_a_marker_page_and_names_the_brand() -> None:
    rec = record_of(sites.clone("partial"), "https://k3v9q.xyz/hoshizora/login.php")
    assert score.page_kind(rec) == ("", "")
    assert score.brand_name(ev(rec))[0].points == 20
    assert score.login_words(ev(rec))[0].points == 15


def test_credential_form_posting_elsewhere_counts_only_with_the_brand_on_the_page() -> None:
    partial = record_of(sites.clone("partial"), "https://k3v9q.xyz/hoshizora/login.php")
    (reason,) = score.credential_form(ev(partial))
    assert "k3v9q.xyz" in reason.detail and reason.points == 30
    a = score.assess(ev(partial))
    assert a.verdict == Verdict.PHISHING and a.score >= score.PHISHING_AT
    # つばめ証券's genuine login page: a password form, login words, but nothing of our brand.
    tsubame = record_of(sites.tsubame_login(), "https://www.tsubame-sec.co.jp/login")
    a = score.assess(ev(tsubame))
    assert a.verdict == Verdict.BENIGN and a.score == 0
    assert any("not counted" in r["detail"] for r in a.reasons)


def test_credential_form_posting_to_the_brand_is_not_counted() -> None:
    official = record_of(sites.official_login(action="https://trade.hoshizora-sec.co.jp/login"),
                         "https://trade.hoshizora-sec.co.jp/login")
    assert score.credential_form(ev(official)) == []


def test_brand_name_ignores_the_page_s_own_domain_name() -> None:
    rec = record_of("<html><title>hoshizora-sec.top</title><body><h1>hoshizora-sec.top</h1></body></html>",
                    "https://hoshizora-sec.top/")
    assert score.brand_name(ev(rec)) == []


def test_fresh_registration_and_lookalike_name() -> None:
    rec = record_of("<p>x</p>", "https://a.top/")
    now = datetime(2026, 11, 25, tzinfo=UTC)
    fresh = score.fresh_registration(ev(rec, rdap={"created_at": (now - timedelta(days=3)).isoformat()}))
    assert fresh[0].points == 10 and "3 days ago" in fresh[0].detail
    assert score.fresh_registration(ev(rec, rdap={"created_at": "2001-01-01T00:00:00Z"})) == []
    assert score.lookalike_name(ev(rec, match_points=60))[0].points == 20
    assert score.lookalike_name(ev(rec)) == []


def _ref(**hashes: str) -> dict[str, Any]:
    return {"url": "https://trade.hoshizora-sec.co.jp/login", "profile": "desktop", "hashes": hashes}


def test_visual_similarity_thresholds() -> None:
    ref = _ref(phash="f3b64c58b6621c9c", dhash="26d0484d00888060", colorhash="07007000000")
    same = record_of("<p>x</p>", "https://a.top/") | {"hashes": dict(ref["hashes"])}
    (r,) = score.visual_similarity(ev(same, references=[ref]))
    assert r.points == 45 and "pHash distance 0/64" in r.detail
    far = same | {"hashes": {"phash": "0c49b3a7499de363", "dhash": "d92fb7b2ff777f9f", "colorhash": "07007000000"}}
    assert score.visual_similarity(ev(far, references=[ref])) == []


def test_html_similarity_and_favicon_match() -> None:
    from crawlers.imaging import favicon_facts, html_hashes

    off = html_hashes(sites.official_login())
    ref = _ref(**off) | {"favicon": favicon_facts((ASSETS / "hoshizora-logo.png").read_bytes())}
    clone = record_of(sites.clone("exact"), "https://a.top/") | {"hashes": html_hashes(sites.clone("exact"))}
    assert score.html_similarity(ev(clone, references=[ref]))[0].points == 30
    other = record_of(sites.tsubame_login(), "https://b.jp/") | {"hashes": html_hashes(sites.tsubame_login())}
    assert score.html_similarity(ev(other, references=[ref])) == []
    clone["favicon"] = favicon_facts((ASSETS / "hoshizora-logo.png").read_bytes())
    assert score.favicon_match(ev(clone, references=[ref]))[0].points == 30
    other["favicon"] = favicon_facts((ASSETS / "tsubame-logo.png").read_bytes())
    assert score.favicon_match(ev(other, references=[ref])) == []


def _canvas(asset: str, scale: float) -> Image.Image:
    img = Image.open(ASSETS / asset).convert("RGB")
    img = img.resize((int(img.width * scale), int(img.height * scale)))
    canvas = Image.new("RGB", (1280, 800), "#f4f6fb")
    canvas.paste(img, (400, 260))
    return canvas


def test_logo_in_screenshot_survives_recolouring_and_scaling_but_not_another_logo() -> None:
    logo = Image.open(ASSETS / "hoshizora-logo.png").convert("RGB").resize((210, 56))
    rec = record_of("<p>x</p>", "https://a.top/")
    for asset, scale in (("hoshizora-logo.png", 1.0), ("hoshizora-logo-recolored.png", 0.6),
                         ("hoshizora-logo.png", 0.83)):
        (r,) = score.logo_in_screenshot(ev(rec, screenshot=_canvas(asset, scale), logos=[logo]))
        assert r.points == 40, asset
    assert score.logo_in_screenshot(ev(rec, screenshot=_canvas("tsubame-logo.png", 0.6), logos=[logo])) == []


def test_every_signal_is_tested_here() -> None:
    text = Path(__file__).read_text(encoding="utf-8")
    for signal in score.SIGNALS:
        assert f"score.{signal.__name__}(" in text, signal.__name__


def test_a_failing_signal_is_shown_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_ev: score.Evidence) -> list[score.Reason]:
        raise RuntimeError("boom")

    monkeypatch.setattr(score, "SIGNALS", (*score.SIGNALS, broken))
    a = score.assess(ev(record_of("<p>x</p>", "https://a.top/")))
    assert any(r["kind"] == "broken" and "boom" in r["detail"] for r in a.reasons)


def test_unreachable_record() -> None:
    a = score.assess(ev({"ok": False, "error": "refused 10.0.0.1: private"}))
    assert a.verdict == Verdict.UNREACHABLE and a.score == 0


def test_logo_below_the_fold_is_found_in_the_full_page_screenshot() -> None:
    logo = Image.open(ASSETS / "hoshizora-logo.png").convert("RGB").resize((210, 56))
    viewport = Image.new("RGB", (1280, 800), "#ffffff")
    full = Image.new("RGB", (1280, 2400), "#ffffff")
    full.paste(Image.open(ASSETS / "hoshizora-logo.png").convert("RGB"), (200, 1900))
    rec = record_of("<p>x</p>", "https://a.top/")
    (r,) = score.logo_in_screenshot(ev(rec, screenshot=viewport, fullpage=full, logos=[logo]))
    import re

    y = int(re.search(r"y=(\d+)", r.detail).group(1))  # type: ignore[union-attr]
    assert "full-page screenshot" in r.detail and abs(y - 1900) <= 5


def test_our_own_login_page_through_google_translate_is_ours_not_a_clone() -> None:
    via = "https://trade-hoshizora--sec-co-jp.translate.goog/login?_x_tr_sl=ja&_x_tr_tl=en"
    rec = record_of(sites.official_login(), via)
    a = score.assess(ev(rec))
    assert a.verdict == Verdict.BENIGN and a.score == 0
    assert a.reasons[0]["kind"] == "our_page_via_proxy" and "trade.hoshizora-sec.co.jp" in a.reasons[0]["detail"]
    # The same page through the proxy of a name that is not ours is judged as any page.
    other = record_of(sites.clone("partial"), "https://hoshizora--sec-login-top.translate.goog/login")
    assert score.assess(ev(other)).verdict == Verdict.PHISHING
