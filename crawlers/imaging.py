"""Decoding images safely and hashing them (perceptual hashes, fuzzy HTML hashes).

Pillow's decompression-bomb check is on and tightened: a hostile favicon or screenshot-sized PNG
that claims billions of pixels is refused before it is decoded.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from typing import Any

import imagehash
import ppdeep
import tlsh
from PIL import Image

# 40 Mpx is far above any capped screenshot (1280 x 6000 = 7.7 Mpx); Pillow raises above twice this.
Image.MAX_IMAGE_PIXELS = 40_000_000
warnings.simplefilter("error", Image.DecompressionBombWarning)

MAX_FAVICON_BYTES = 512 * 1024
# ppdeep is pure Python (about 1 s per MB); phishing kits are small, so the head of a page is enough.
MAX_FUZZY_BYTES = 256 * 1024


def open_image(data: bytes) -> Image.Image:
    """Decode image bytes; raises ValueError for anything that is not a sane image."""
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (OSError, Image.DecompressionBombError, Image.DecompressionBombWarning, SyntaxError) as e:
        raise ValueError(f"not a usable image: {type(e).__name__}: {e}"[:200]) from None
    return img if img.mode == "RGB" else img.convert("RGB")  # a screenshot is RGB already: no copy


def image_hashes(img: Image.Image) -> dict[str, str]:
    """pHash, dHash, colour hash (hex strings: imagehash.hex_to_hash reads them back): the three the
    scoring compares (``watcher/capture/score.py``).

    The grey image is made once: imagehash converts to "L" in each hash, and a second conversion of
    an "L" image is a copy, so the hashes are the same bits at less cost. No wavelet hash: no rule ever
    compared it, and at about 26 ms a page (a 512x512 Lanczos resize and three wavelet transforms) it
    was the crawler's costliest step of its own; the screenshot it would come from is kept."""
    grey = img.convert("L")
    return {
        "phash": str(imagehash.phash(grey)),
        "dhash": str(imagehash.dhash(grey)),
        "colorhash": str(imagehash.colorhash(img, binbits=3)),
    }


_STYLE_SCRIPT = re.compile(r"(<(style|script)\b[^>]*>).*?(</\2\s*>)", re.IGNORECASE | re.DOTALL)


def markup(html: str) -> str:
    """The HTML without the bodies of <style> and <script>: a kit restyles and re-scripts freely, but
    keeps the structure and words of the page it copied; and a shared CSS framework is not a copy."""
    return _STYLE_SCRIPT.sub(r"\1\3", html[: MAX_FUZZY_BYTES * 2])


def html_hashes(html: str) -> dict[str, str]:
    """Fuzzy hashes of the markup: ssdeep-compatible (ppdeep) and TLSH (empty when too short)."""
    data = markup(html).encode("utf-8", "replace")[:MAX_FUZZY_BYTES]
    out: dict[str, str] = {"ssdeep": ppdeep.hash(data) if data else ""}
    try:
        t = tlsh.hash(data)
        out["tlsh"] = "" if t in ("", "TNULL") else t
    except ValueError:
        out["tlsh"] = ""
    return out


def favicon_facts(data: bytes) -> dict[str, Any]:
    """sha256 of the bytes and a dHash of the decoded icon (the same icon re-encoded still matches)."""
    facts: dict[str, Any] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    try:
        img = open_image(data)
        facts["dhash"] = str(imagehash.dhash(img.resize((64, 64))))
    except ValueError as e:
        facts["error"] = str(e)
    return facts
