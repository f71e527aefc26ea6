"""Hashing a screenshot once per page: the same bits as imagehash's own functions on the image."""

from __future__ import annotations

from pathlib import Path

import imagehash
from PIL import Image, ImageDraw

from crawlers.imaging import image_hashes

ASSETS = Path(__file__).resolve().parents[2] / "data" / "lab" / "sites"


def test_one_grey_conversion_gives_imagehash_own_hashes() -> None:
    # A login-page-like screenshot: a pale background, the real logo, a dark form, some colour.
    page = Image.new("RGB", (1280, 800), "#f4f6fb")
    page.paste(Image.open(ASSETS / "hoshizora-logo.png").convert("RGB"), (40, 30))
    draw = ImageDraw.Draw(page)
    draw.rectangle((440, 240, 840, 560), fill="#1d2b53")
    draw.rectangle((480, 300, 800, 340), fill="white")
    draw.rectangle((480, 380, 800, 420), fill="white")
    draw.rectangle((480, 460, 800, 500), fill="#e8541e")
    assert image_hashes(page) == {
        "phash": str(imagehash.phash(page)),
        "dhash": str(imagehash.dhash(page)),
        "colorhash": str(imagehash.colorhash(page, binbits=3)),
    }
