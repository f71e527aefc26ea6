"""Draws the lab sites' images with Pillow: the brand logos and a hero banner.

The PNGs are committed under data/lab/sites/ so the lab needs no CJK font at run time; run
`python -m lab.assets` to redraw them (uses IPA Gothic / Noto CJK if installed, else DejaVu).
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ASSET_DIR = Path(__file__).resolve().parent.parent / "data" / "lab" / "sites"
_FONTS = ("/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
          "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in _FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, fill: str) -> None:
    pts = []
    for i in range(10):
        rad = r if i % 2 == 0 else r * 0.42
        a = -math.pi / 2 + i * math.pi / 5
        pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
    draw.polygon(pts, fill=fill)


def hoshizora_logo(bg: str = "#0b1f4b", star: str = "#f5c542", text: str = "#ffffff") -> Image.Image:
    img = Image.new("RGB", (360, 96), bg)
    d = ImageDraw.Draw(img)
    d.ellipse((12, 12, 84, 84), fill="#16306e")
    _star(d, 48, 49, 30, star)
    for x, y in ((20, 22), (74, 26), (70, 76)):
        _star(d, x, y, 4, "#ffffff")
    d.text((100, 14), "ほしぞら証券", font=_font(40), fill=text)
    d.text((102, 64), "HOSHIZORA SECURITIES", font=_font(16), fill=star)
    return img


def tsubame_logo() -> Image.Image:
    img = Image.new("RGB", (340, 96), "#ffffff")
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, 339, 95), outline="#c8102e", width=3)
    # a swallow: two swept wings and a forked tail
    d.polygon([(18, 60), (50, 36), (84, 22), (58, 46), (92, 50), (56, 58), (40, 80), (44, 60)], fill="#1a1a1a")
    d.text((104, 16), "つばめ証券", font=_font(40), fill="#c8102e")
    d.text((106, 64), "TSUBAME SECURITIES", font=_font(16), fill="#1a1a1a")
    return img


def hero_banner() -> Image.Image:
    w, h = 960, 240
    img = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(img)
    for y in range(h):  # night-sky gradient
        t = y / h
        d.line([(0, y), (w, y)], fill=(int(8 + 20 * t), int(20 + 40 * t), int(60 + 90 * t)))
    for i in range(60):
        x, y = (i * 151) % w, (i * 67) % (h - 40)
        d.ellipse((x, y, x + 2 + i % 3, y + 2 + i % 3), fill="#ffffff")
    _star(d, 860, 70, 40, "#f5c542")
    d.text((48, 70), "新NISA、はじめるなら ほしぞら証券", font=_font(36), fill="#ffffff")
    d.text((50, 130), "国内株式手数料 0円  ・  投資信託 2,000本以上", font=_font(22), fill="#f5c542")
    return img


def draw_all(folder: Path = ASSET_DIR) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    hoshizora_logo().save(folder / "hoshizora-logo.png", optimize=True)
    hoshizora_logo(bg="#5b0b3e", star="#7fe0c2").save(folder / "hoshizora-logo-recolored.png", optimize=True)
    tsubame_logo().save(folder / "tsubame-logo.png", optimize=True)
    hero_banner().save(folder / "hoshizora-hero.png", optimize=True)


def load(name: str) -> bytes:
    path = ASSET_DIR / name
    if not path.exists():
        draw_all()
    return path.read_bytes()


if __name__ == "__main__":
    draw_all()
    print(f"drew the lab images into {ASSET_DIR}")
