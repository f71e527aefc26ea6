"""A report's HTML as PDF (WeasyPrint): the same page, paginated, with the Japanese font embedded.

The font is the IPA Gothic that ``make system`` installs (``fonts-ipafont-gothic``); the templates
name it first for print, so a PDF reads the same on any machine. WeasyPrint needs Pango (Debian's
``libpango-1.0-0``, present wherever Chromium is); without it the PDF is skipped with a clear reason.
"""

from __future__ import annotations

from pathlib import Path


class PdfError(Exception):
    """The PDF could not be written (the reason is one line)."""


def write_pdf(html: str, path: Path, *, base_url: str | None = None) -> Path:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as e:  # OSError: Pango missing
        raise PdfError(f"WeasyPrint is not usable here ({type(e).__name__}: {e}); install it with `make setup`") from None
    try:
        HTML(string=html, base_url=base_url).write_pdf(str(path))
    except (OSError, ValueError) as e:
        raise PdfError(f"{path}: {type(e).__name__}: {e}") from None
    return path
