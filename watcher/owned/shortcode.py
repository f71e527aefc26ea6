"""The SMS short code(s) appear on every page that should show them (guideline IV.4(2)).

Customers tell a genuine SMS from a smishing one by its sender: the carrier-common short code
(``0005…``) that the firm publishes — on its site's SMS page (``short_code_page``), and on every
other page customers look at (``short_code_pages``: the app store listings, help pages). If a site
redesign or an app update drops it, customers lose that check without anyone noticing — so each page
is fetched (through ``ctx.http()``: the fetch guard and the configured proxy) and read, one Finding
per page. The SMS page should also link to the carriers' own page about common short codes
(``short_code_info_url``), which must answer: a customer who doubts the firm's page can check there.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import TYPE_CHECKING

import httpx
from sqlmodel import col, select

from watcher.clients.http import read_capped
from watcher.core.models import Brand, Finding, FindingKind, FindingStatus, Severity
from watcher.core.texts import text

if TYPE_CHECKING:
    from watcher.owned.checks import CheckRun

PAGE_LIMIT = 2 * 1024 * 1024
_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.S | re.I)
_BETWEEN_DIGITS = re.compile(r"(?<=\d)[\s\-‐‑–—ー－]+(?=\d)")
_HREF = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)


def page_text(body: str) -> str:
    """Visible text with full-width digits folded and separators between digits removed."""
    text_ = html.unescape(_TAGS.sub(" ", body))
    text_ = unicodedata.normalize("NFKC", text_)
    return _BETWEEN_DIGITS.sub("", text_)


def codes_missing(body: str, codes: list[str]) -> list[str]:
    text_ = page_text(body)
    return [c for c in codes if not re.search(rf"(?<!\d){re.escape(c)}(?!\d)", text_)]


def links_to(body: str, url: str) -> bool:
    """Does the page link to ``url`` (scheme, trailing slash and case of the host aside)?"""
    def norm(u: str) -> str:
        return re.sub(r"^https?://", "", html.unescape(u).strip()).rstrip("/").lower()

    want = norm(url)
    return any(norm(a or b) == want for a, b in _HREF.findall(body))


def fetch(run: CheckRun, url: str) -> tuple[int, str]:
    with run.ctx.http(timeout=15.0) as client, client.stream("GET", url) as r:
        return r.status_code, read_capped(r, PAGE_LIMIT).decode(r.encoding or "utf-8", "replace")


def _subject(brand: Brand, what: str) -> str:
    return f"{brand.slug}:{what}"[:253]


def check_short_codes(run: CheckRun) -> None:
    for brand in run.session.exec(select(Brand).order_by(Brand.slug)):
        codes: list[str] = brand.spec.get("sms_short_codes") or []
        main: str = brand.spec.get("short_code_page") or ""
        pages = [p for p in [main, *(brand.spec.get("short_code_pages") or [])] if p]
        info: str = brand.spec.get("short_code_info_url") or ""
        name = brand.name_ja or brand.name
        current: set[str] = set()
        if not codes:
            _resolve_stale(run, brand, current)
            continue
        if not main:
            run.fail(FindingKind.SHORT_CODE, brand.slug, text("short.no_page", brand=name), severity=Severity.MEDIUM,
                     brand_id=brand.id, detail=text("short.no_page_detail"))
        else:
            run.ok(FindingKind.SHORT_CODE, brand.slug)
        main_body = ""
        for page in dict.fromkeys(pages):
            subject = _subject(brand, page)
            current.add(subject)
            try:
                status, body = fetch(run, page)
            except httpx.HTTPError as e:
                run.error(FindingKind.SHORT_CODE, subject, f"{page}: {type(e).__name__}: {e}")
                continue
            if page == main and status < 400:
                main_body = body
            missing = codes if status >= 400 else codes_missing(body, codes)
            if not missing:
                run.ok(FindingKind.SHORT_CODE, subject)
                continue
            reason = text("short.reason_status", status=status) if status >= 400 else text("short.reason_absent")
            run.fail(FindingKind.SHORT_CODE, subject, text("short.missing", codes=", ".join(missing), page=page),
                     severity=Severity.MEDIUM, brand_id=brand.id,
                     data={"page": page, "missing": missing, "http_status": status},
                     detail=text("short.missing_detail", page=page, reason=reason))
        if info and main:
            subject = _subject(brand, "carrier-info")
            current.add(subject)
            _check_info(run, brand, subject, main, main_body, info)
        _resolve_stale(run, brand, current)


def _check_info(run: CheckRun, brand: Brand, subject: str, main: str, main_body: str, info: str) -> None:
    """The SMS page links to the carriers' short-code page, and that page answers."""
    if not main_body:
        return  # the SMS page itself could not be read: its own finding says so
    if not links_to(main_body, info):
        run.fail(FindingKind.SHORT_CODE, subject, text("short.no_info_link", page=main, info=info),
                 severity=Severity.LOW, brand_id=brand.id, data={"page": main, "info": info},
                 detail=text("short.no_info_link_detail"))
        return
    try:
        status, _ = fetch(run, info)
    except httpx.HTTPError as e:
        run.error(FindingKind.SHORT_CODE, subject, f"{info}: {type(e).__name__}: {e}")
        return
    if status >= 400:
        run.fail(FindingKind.SHORT_CODE, subject, text("short.info_unreachable", info=info, reason=f"HTTP {status}"),
                 severity=Severity.LOW, brand_id=brand.id, data={"info": info, "http_status": status},
                 detail=text("short.no_info_link_detail"))
        return
    run.ok(FindingKind.SHORT_CODE, subject)


def _resolve_stale(run: CheckRun, brand: Brand, current: set[str]) -> None:
    """Pages no longer configured: their findings are closed, not left open forever."""
    prefix = f"{brand.slug}:"
    for subject in list(run.session.exec(select(Finding.subject).where(
            Finding.kind == FindingKind.SHORT_CODE, Finding.status == FindingStatus.OPEN,
            col(Finding.subject).startswith(prefix, autoescape=True)))):
        if subject not in current:
            run.ok(FindingKind.SHORT_CODE, subject)
