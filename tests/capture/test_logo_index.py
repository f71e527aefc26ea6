"""Many brands: a page of a candidate that names no brand is searched for every brand's logo in one
FLANN search; the exact search (ratio test + homography) then runs only for the logos found there."""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

from watcher.capture import score


def _logo(seed: int) -> Image.Image:
    rnd = random.Random(seed)
    img = Image.new("RGB", (120, 60), "white")
    d = ImageDraw.Draw(img)
    for _ in range(40):  # a busy mark: strokes and boxes at random, unlike any other seed's
        x, y = rnd.randrange(120), rnd.randrange(60)
        d.rectangle((x, y, x + rnd.randrange(4, 20), y + rnd.randrange(3, 12)),
                    outline=(rnd.randrange(200), rnd.randrange(200), rnd.randrange(200)), width=2)
    return img


def test_one_search_finds_the_brand_whose_logo_the_page_shows_among_many():
    logos = [_logo(seed) for seed in range(60)]
    page = Image.new("RGB", (1280, 800), (245, 245, 250))
    page.paste(logos[17].resize((240, 120)), (80, 40))  # brand 17's logo, twice its size
    ev = score.Evidence(record={"ok": True}, brand={}, screenshot=page)
    feats = score.screen_features(ev, "screenshot", page)
    assert score.screen_features(ev, "screenshot", page) is feats  # once per page, shared by every brand
    found = score.LogoIndex(logos).candidates(feats)
    assert 17 in found and len(found) <= 3
    inliers, _box = score.find_logo(page, logos[17], feats)
    assert inliers >= score.LOGO_MIN_INLIERS


def test_a_page_without_a_logo_needs_no_exact_search():
    logos = [_logo(seed) for seed in range(20)]
    page = Image.new("RGB", (1280, 800), "white")
    ImageDraw.Draw(page).text((100, 100), "ログイン  ID  パスワード", fill="black")
    ev = score.Evidence(record={"ok": True}, brand={}, screenshot=page)
    assert score.LogoIndex(logos).candidates(score.screen_features(ev, "screenshot", page)) == set()
