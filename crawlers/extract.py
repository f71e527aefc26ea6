"""What a page says, from its HTML: title, forms, visible text, links, resource hosts, images.

The browser path gets the same facts from the rendered DOM (``spiders/capture.py``); this parser is
used by the plain-HTTP fallback, and both end in ``finish_forms`` so a form looks the same either way.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector

_PIN_WORDS = ("pin", "暗証", "ansho", "secret", "tradepass", "取引パスワード")
_SPACE = re.compile(r"\s+")


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def clean_text(text: str, limit: int) -> str:
    return _SPACE.sub(" ", text).strip()[:limit]


def finish_forms(forms: list[dict[str, Any]], page_url: str) -> list[dict[str, Any]]:
    """Resolve each form's action and say where it posts (the host is what matters for phishing)."""
    out = []
    for f in forms[:50]:
        action = urljoin(page_url, f.get("action") or "") if page_url else (f.get("action") or "")
        fields = f.get("fields") or []
        has_password = any(x.get("type") == "password" for x in fields)
        has_pin = any(
            any(w in (x.get("name", "") + " " + x.get("id", "") + " " + x.get("label", "")).lower() for w in _PIN_WORDS)
            for x in fields
        )
        out.append({
            "action": action[:500],
            "method": (f.get("method") or "get").lower(),
            "has_password": has_password,
            "has_pin": has_pin,
            "posts_to_host": host_of(action),
            "fields": [{k: str(v)[:80] for k, v in x.items()} for x in fields[:30]],
        })
    return out


def parse_html(html: str, page_url: str, *, max_text: int = 20000, max_links: int = 300) -> dict[str, Any]:
    sel = Selector(text=html or "<html></html>")
    title = clean_text(" ".join(sel.xpath("//title//text()").getall()), 300)
    forms = []
    for form in sel.xpath("//form"):
        fields = []
        for inp in form.xpath(".//input|.//select|.//textarea"):
            t = (inp.attrib.get("type") or "text").lower()
            if t in ("hidden", "submit", "button", "image", "reset"):
                continue
            label = " ".join([inp.attrib.get("placeholder", ""), inp.attrib.get("aria-label", ""),
                              " ".join(inp.xpath("ancestor::label//text()").getall())])
            fields.append({"type": t, "name": inp.attrib.get("name", ""), "id": inp.attrib.get("id", ""),
                           "label": clean_text(label, 80)})
        forms.append({"action": form.attrib.get("action", ""), "method": form.attrib.get("method", "get"),
                      "fields": fields})
    text = " ".join(sel.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)"
                              " and not(ancestor::noscript)]").getall())
    links = []
    for href in sel.xpath("//a/@href").getall()[: max_links * 2]:
        if href.startswith(("javascript:", "mailto:", "#")):
            continue
        links.append(urljoin(page_url, href)[:500])
    links = list(dict.fromkeys(links))[:max_links]
    resources = sel.xpath("//img/@src|//script/@src|//link/@href|//iframe/@src").getall()
    resource_hosts = sorted({h for h in (host_of(urljoin(page_url, r)) for r in resources[:500]) if h})
    icon = sel.xpath("//link[contains(translate(@rel,'ICON','icon'),'icon')]/@href").get()
    images = [{"src": urljoin(page_url, i.attrib.get("src", ""))[:500], "alt": i.attrib.get("alt", "")[:100]}
              for i in sel.xpath("//img")[:50]]
    return {
        "title": title,
        "forms": finish_forms(forms, page_url),
        "text": clean_text(text, max_text),
        "links": links,
        "resource_hosts": resource_hosts,
        "favicon_url": urljoin(page_url, icon) if icon else urljoin(page_url, "/favicon.ico"),
        "images": images,
    }
