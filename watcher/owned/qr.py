"""QR codes in the firm's messages: decoded from images and PDFs, so their links are linted too.

A login link printed as a QR code in a mail's banner or an attached PDF is still a login link
(guideline IV.4(5)), and "quishing" hides phishing links the same way. Images are read with Pillow
and decoded with zxing-cpp (Apache-2.0); PDF pages are rendered with pypdfium2 (BSD/Apache) and
decoded the same way. Everything is capped: bytes, pixels, pages.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from typing import Any

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_PDF_PAGES = 20
PDF_SCALE = 2.0  # 144 dpi: enough for a QR code printed a few centimetres wide
_DATA_URI = re.compile(r"""data:image/[a-z+.-]+;base64,([A-Za-z0-9+/=\s]{40,})""", re.I)


def _decode(img: Any) -> list[str]:
    import zxingcpp

    try:
        found = zxingcpp.read_barcodes(img, formats=zxingcpp.barcode_formats_from_str("QRCode,MicroQRCode"))
    except (ValueError, RuntimeError):
        return []
    return [b.text for b in found if b.text]


def decode_image(data: bytes) -> list[tuple[str, str]]:
    """[("QR code 1", text), ...] of the QR codes in an image file's bytes; [] when none or unreadable."""
    if len(data) > MAX_IMAGE_BYTES:
        return []
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.width * img.height > MAX_PIXELS:
                return []
            img.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):
        return []
    texts = _decode(img.convert("L"))
    return [(f"QR {i}", t) for i, t in enumerate(texts, 1)]


def decode_pdf(data: bytes) -> list[tuple[str, str]]:
    """[("page 2 QR 1", text), ...] of the QR codes on a PDF's pages (rendered, so drawn codes count)."""
    if len(data) > MAX_PDF_BYTES:
        return []
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except (pdfium.PdfiumError, ValueError):
        return []
    out: list[tuple[str, str]] = []
    try:
        for n in range(min(len(pdf), MAX_PDF_PAGES)):
            page = pdf[n]
            try:
                w, h = page.get_size()
                scale = min(PDF_SCALE, (MAX_PIXELS / max(w * h, 1)) ** 0.5)
                img = page.render(scale=scale).to_pil()
            finally:
                page.close()
            out += [(f"page {n + 1} QR {i}", t) for i, t in enumerate(_decode(img.convert("L")), 1)]
    finally:
        pdf.close()
    return out


def data_uri_images(html: str) -> list[tuple[str, bytes, int]]:
    """Images inlined in HTML as ``data:image/...;base64,`` (a QR code in a mail body), with their line."""
    out = []
    for i, m in enumerate(_DATA_URI.finditer(html), 1):
        try:
            out.append((f"inline image {i}", base64.b64decode(re.sub(r"\s+", "", m.group(1)), validate=False),
                        html.count("\n", 0, m.start()) + 1))
        except (binascii.Error, ValueError):
            continue
        if i >= 20:
            break
    return out
