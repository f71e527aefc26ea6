"""The SMS short code(s) appear on the brand's public page (guideline IV.4(2)).

Customers tell a genuine SMS from a smishing one by its sender: the carrier-common short code
(``0005…``) that the firm publishes. If a site redesign drops it from the page, customers lose that
check without anyone noticing — so the page is fetched (through the configured proxy) and read.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import TYPE_CHECKING

import httpx
from sqlmodel import select

from watcher.clients.http import read_capped
from watcher.core.models import Brand, FindingKind, Severity

if TYPE_CHECKING:
    from watcher.owned.checks import CheckRun

PAGE_LIMIT = 2 * 1024 * 1024
_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.S | re.I)
_BETWEEN_DIGITS = re.compile(r"(?<=\d)[\s\-‐‑–—ー－]+(?=\d)")


def page_text(body: str) -> str:
    """Visible text with full-width digits folded and separators between digits removed."""
    text = html.unescape(_TAGS.sub(" ", body))
    text = unicodedata.normalize("NFKC", text)
    return _BETWEEN_DIGITS.sub("", text)


def codes_missing(body: str, codes: list[str]) -> list[str]:
    text = page_text(body)
    return [c for c in codes if not re.search(rf"(?<!\d){re.escape(c)}(?!\d)", text)]


def check_short_codes(run: CheckRun) -> None:
    for brand in run.session.exec(select(Brand).order_by(Brand.slug)):
        codes: list[str] = brand.spec.get("sms_short_codes") or []
        page: str = brand.spec.get("short_code_page") or ""
        if not codes:
            continue
        kind, subject = FindingKind.SHORT_CODE, brand.slug
        if not page:
            run.fail(kind, subject, f"{brand.name_ja or brand.name}: SMSショートコードの掲載ページが未設定です / "
                     "no public page configured for the SMS short code", severity=Severity.MEDIUM, brand_id=brand.id,
                     detail="Set short_code_page in the brands file to the page that publishes the code (IV.4(2)).")
            continue
        try:
            with run.ctx.http(timeout=15.0) as client, client.stream("GET", page) as r:
                status = r.status_code
                body = read_capped(r, PAGE_LIMIT).decode(r.encoding or "utf-8", "replace")
        except httpx.HTTPError as e:
            run.error(kind, subject, f"{page}: {type(e).__name__}: {e}")
            continue
        missing = codes if status >= 400 else codes_missing(body, codes)
        if not missing:
            run.ok(kind, subject)
            continue
        reason = f"HTTP {status}" if status >= 400 else "the code is not on the page"
        run.fail(kind, subject,
                 f"SMSショートコード {', '.join(missing)} が公開ページに見当たりません / SMS short code "
                 f"{', '.join(missing)} is not shown on {page}",
                 severity=Severity.MEDIUM, brand_id=brand.id,
                 data={"page": page, "missing": missing, "http_status": status},
                 detail=f"{page}: {reason}. Customers check an SMS's sender against this page; without it they "
                 "cannot tell our messages from smishing sent from other numbers. / 顧客が正規SMSと偽SMSを"
                 "見分けられなくなります。ページにショートコードを掲載してください。")
