"""The published list of official domains is kept true (guideline IV.4(4)③, IV.7(2)⑥).

Customers are told "our names end in these domains"; a list that names a domain the firm let go
sends them to whoever registers it next (drop-catch), and a list that misses one makes genuine mail
look fake. The page (``official_list_page`` of the brand, or ``report.official_list_url``) is
fetched through the watcher's HTTP client and its listed names — the items of lists and the
``<code>`` elements of the page, or the ``domains``/``hosts`` of a JSON list — are compared with the
inventory: a listed name outside every registered apex of the brand is ``official_list_extra``
(high), a registered apex from the brands file the page does not name is ``official_list_missing``.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from typing import TYPE_CHECKING, Any

import httpx
from sqlmodel import select

from watcher.clients.http import read_capped
from watcher.core.models import Brand, Finding, FindingKind, FindingStatus, OwnedDomain, OwnedSource, Severity
from watcher.core.names import InvalidName, is_within, normalize_host
from watcher.core.texts import text

if TYPE_CHECKING:
    from watcher.owned.checks import CheckRun

PAGE_LIMIT = 2 * 1024 * 1024
_ITEMS = re.compile(r"<(li|code|td)\b[^>]*>(.*?)</\1\s*>", re.S | re.I)
_TAGS = re.compile(r"<[^>]+>")
_NAME = re.compile(r"(?<![\w.@-])@?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62})(?![\w-])", re.I)


def listed_names(body: str, content_type: str = "") -> set[str]:
    """Domain names a page lists: list items, table cells and code elements (HTML), or a JSON list."""
    found: set[str] = set()
    if "json" in content_type or body.lstrip().startswith("{"):
        try:
            data: Any = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict):
            for b in data.get("brands", [data]):
                if isinstance(b, dict):
                    for key in ("domains", "hosts"):
                        found.update(str(x) for x in b.get(key) or [] if isinstance(x, str))
            return {_norm(n) for n in found if _norm(n)}
    for _, inner in _ITEMS.findall(body):
        text = unicodedata.normalize("NFKC", html.unescape(_TAGS.sub(" ", inner)))
        found.update(m.group(1) for m in _NAME.finditer(text))
    return {n for n in (_norm(x) for x in found) if n}


def _norm(name: str) -> str:
    try:
        return normalize_host(name.strip().lstrip("@").rstrip(".")).ascii
    except InvalidName:
        return ""


def check_published_list(run: CheckRun) -> None:
    default = run.ctx.settings.report.official_list_url
    for brand in run.session.exec(select(Brand).order_by(Brand.slug)):
        page: str = brand.spec.get("official_list_page") or default
        if not page:
            continue
        try:
            with run.ctx.http(timeout=15.0) as client, client.stream("GET", page) as r:
                status = r.status_code
                ctype = r.headers.get("content-type", "")
                body = read_capped(r, PAGE_LIMIT).decode(r.encoding or "utf-8", "replace")
        except httpx.HTTPError as e:
            run.error(FindingKind.OFFICIAL_LIST_EXTRA, brand.slug, f"{page}: {type(e).__name__}: {e}")
            continue
        if status >= 400:
            run.note("official_list", text("owned.note.official_list_http", page=page, status=status))
            continue
        listed = listed_names(body, ctype)
        rows = list(run.session.exec(select(OwnedDomain).where(OwnedDomain.brand_id == brand.id)))
        ours = [d.name for d in rows if d.is_apex and not d.lapsed]
        group = list(brand.spec.get("group_domains") or [])
        for name in sorted(listed):
            subject = f"{brand.slug}:{name}"
            if any(is_within(name, apex) for apex in ours + group):
                run.ok(FindingKind.OFFICIAL_LIST_EXTRA, subject)
                continue
            lapsed = any(d.lapsed and is_within(name, d.name) for d in rows)
            run.fail(FindingKind.OFFICIAL_LIST_EXTRA, subject,
                     text("owned.official_list_extra.title_lapsed" if lapsed else "owned.official_list_extra.title",
                          name=name),
                     severity=Severity.HIGH, brand_id=brand.id, data={"page": page, "name": name, "lapsed": lapsed},
                     detail=text("owned.official_list_extra.detail", page=page, name=name))
        for d in rows:
            if not (d.is_apex and not d.lapsed and d.source == OwnedSource.CONFIG):
                continue
            subject = f"{brand.slug}:{d.name}"
            if d.name in listed:
                run.ok(FindingKind.OFFICIAL_LIST_MISSING, subject)
                continue
            run.fail(FindingKind.OFFICIAL_LIST_MISSING, subject,
                     text("owned.official_list_missing.title", name=d.name),
                     severity=Severity.MEDIUM, brand_id=brand.id, data={"page": page, "name": d.name},
                     detail=text("owned.official_list_missing.detail", page=page, name=d.name))
        # A finding for a name no longer on the page resolves (the page was fixed).
        for f in run.session.exec(select(Finding).where(Finding.kind == FindingKind.OFFICIAL_LIST_EXTRA,
                                                        Finding.status == FindingStatus.OPEN)):
            if f.subject.startswith(f"{brand.slug}:") and f.subject.split(":", 1)[1] not in listed:
                run.ok(FindingKind.OFFICIAL_LIST_EXTRA, f.subject)
