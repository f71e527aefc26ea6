"""URLs out of reported mail: forwarded phishing, SMS text pasted by customers, partners' alerts.

Every part is read: text/plain and text/html (both ``href`` targets and the visible text, since a
lure's link text often differs from its target), quoted-printable and base64 bodies in any declared
charset, and nested ``message/rfc822`` parts (a forwarded mail inside a forwarded mail). Defanged
forms that analysts write (``hxxps://``, ``example[.]com``, ``[:]//``) are refanged. A URL is
classified: ``url`` (a site to look at), ``shortener`` (bit.ly, t.co...: the target is unknown until
followed), ``redirector`` (google.com/url?q=, Outlook safe links...: the target is in the URL, taken
out), ``proxy`` (Google Translate's ``*.translate.goog``: the original host is decoded from the
name). A broken message never raises: what could be read is returned with the errors.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from watcher.core.names import InvalidName, normalize_host, translate_goog_original

MAX_PARTS = 200  # a mail bomb with thousands of parts is cut here
MAX_TEXT = 2 * 1024 * 1024
MAX_URLS = 500

SHORTENERS = frozenset({
    "bit.ly", "bitly.com", "t.co", "tinyurl.com", "goo.gl", "is.gd", "v.gd", "ow.ly", "buff.ly", "rebrand.ly",
    "cutt.ly", "t.ly", "x.gd", "rb.gy", "s.id", "shorturl.at", "tiny.cc", "lnkd.in", "qr.paps.jp", "00m.in",
    "urx.nu", "urx2.nu", "urx3.nu", "u0u.ke", "amzn.to", "reurl.cc", "0rz.tw", "onl.sc", "shorter.me",
})

# host -> query parameters that carry the real target
REDIRECTORS: dict[str, tuple[str, ...]] = {
    "www.google.com": ("q", "url"), "google.com": ("q", "url"), "www.google.co.jp": ("q", "url"),
    "google.co.jp": ("q", "url"), "l.facebook.com": ("u",), "lm.facebook.com": ("u",),
    "l.instagram.com": ("u",), "www.youtube.com": ("q",), "out.reddit.com": ("url",),
    "t.umblr.com": ("z",), "slack-redir.net": ("url",), "href.li": (),
}
_SAFELINKS = re.compile(r"(^|\.)safelinks\.protection\.outlook\.com$")

# Defanged forms, refanged before matching.
_REFANG = [
    (re.compile(r"\bhxxp(s?)", re.I), r"http\1"),
    (re.compile(r"\bh\*\*p(s?)", re.I), r"http\1"),
    (re.compile(r"\[(?:\.|dot)\]|\((?:\.|dot)\)|\{(?:\.|dot)\}", re.I), "."),
    (re.compile(r"\[:\]"), ":"),
    (re.compile(r"\[/\]"), "/"),
]
# The host may be an IDN (kana, kanji); the path stops at Japanese text, which often follows a URL
# without a space ("https://x.top/loginからログイン").
_URL = re.compile(r"""(?i)\b(?:https?|ftp)://[^\s/?#<>"'`{}|\\^\u3000-\u303f\uff00-\uffef]+"""
                  r"""(?:[/?#][^\s<>"'`{}|\\^\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]*)?""")
# "https://x.comから": an ASCII TLD with Japanese glued on (no path to stop at)
_GLUED = re.compile(r"^([^/]*\.[a-z]{2,24})[^\x00-\x7f]+$", re.I)
# Bare host[/path] the way SMS lures and pasted text give them: a dotted name ending in letters.
# At most 10 labels: bounded backtracking on hostile runs like "aa.aaaa.aa.aaaa..." (linear time).
_BARE = re.compile(r"""(?i)(?<![@\w.-])((?:[a-z0-9\u00a1-\uffff](?:[a-z0-9\u00a1-\uffff-]{0,61}[a-z0-9\u00a1-\uffff])?\.){1,10}"""
                   r"""(?:[a-z]{2,24}|xn--[a-z0-9-]{2,59}))(/[^\s<>"'`{}|\\^\u3000-\u30ff]*)?""")
_TRAILING = ".,;:!?)]}>'\"」』）】。、"


@dataclass
class FoundUrl:
    url: str  # as found (refanged)
    host: str  # normalised host of ``target`` (the candidate's name)
    kind: str = "url"  # url | shortener | redirector | proxy
    target: str = ""  # the URL that matters: the same, or taken out of a redirector / proxy
    where: str = ""  # text, html-href, html-text, subject

    def as_dict(self) -> dict[str, Any]:
        return {"url": self.url, "host": self.host, "kind": self.kind, "target": self.target, "where": self.where}


@dataclass
class ParsedMail:
    subject: str = ""
    sender: str = ""
    message_id: str = ""
    date: str = ""
    urls: list[FoundUrl] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffd]+")


def _clean(value: str) -> str:
    """Header text safe for any database (PostgreSQL refuses NUL) and for one-line display."""
    return _CONTROL.sub(" ", value).strip()


def refang(text: str) -> str:
    for pattern, repl in _REFANG:
        text = pattern.sub(repl, text)
    return text


# ``www-hoshizora--sec-co-jp.translate.goog`` -> ``www.hoshizora-sec.co.jp`` ("" for other names).
translate_goog_host = translate_goog_original


def classify_url(raw: str, where: str = "text") -> FoundUrl | None:
    """One URL -> FoundUrl, or None when it has no usable host."""
    url = raw.strip().rstrip(_TRAILING)
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
        host = normalize_host(parts.hostname or "").ascii
    except (InvalidName, ValueError):
        return None
    found = FoundUrl(url=url, host=host, target=url, where=where)
    original = translate_goog_host(host)
    if original:
        try:
            orig_host = normalize_host(original).ascii
        except InvalidName:
            return found
        query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("_x_tr_"))
        found.kind, found.host = "proxy", orig_host
        found.target = urlunsplit(("https", orig_host, parts.path or "/", query, parts.fragment))
        return found
    if host in SHORTENERS:
        found.kind = "shortener"
        return found
    params = REDIRECTORS.get(host)
    if params is not None or _SAFELINKS.search(host):
        qs = parse_qs(parts.query)
        for key in params or ("url",):
            for value in qs.get(key, []):
                inner = classify_url(unquote(value) if "%" in value else value, where)
                if inner is not None and "://" in value:
                    found.kind, found.host, found.target = "redirector", inner.host, inner.target
                    return found
    return found


def extract_urls(text: str, where: str = "text") -> list[FoundUrl]:
    """Every URL in free text (defanged or not; with a scheme or a bare ``host/path``)."""
    text = refang(text[:MAX_TEXT])
    out: list[FoundUrl] = []
    spans: list[tuple[int, int]] = []
    for m in _URL.finditer(text):
        if len(out) >= MAX_URLS:
            break
        spans.append(m.span())
        raw = m.group(0)
        scheme, _, rest = raw.partition("://")
        glued = _GLUED.match(rest)
        if glued:
            raw = f"{scheme}://{glued.group(1)}"
        f = classify_url(raw, where)
        if f:
            out.append(f)
    for m in _BARE.finditer(text):
        if len(out) >= MAX_URLS:
            break
        if any(a <= m.start() < b for a, b in spans):
            continue
        f = classify_url(m.group(0), where)
        # a bare name must end in a real suffix (the PSL): "file.txt" or "e.g" are not hosts
        if f and _has_public_suffix(f.host):
            out.append(f)
    return out


def _has_public_suffix(host: str) -> bool:
    try:
        n = normalize_host(host)
    except InvalidName:
        return False
    return bool(n.registrable) or n.is_ip


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            # links and form targets; not images or stylesheets (trackers and CDNs, not the lure)
            if value and name in ("href", "src", "action", "data-href") and tag in ("a", "area", "form", "iframe"):
                self.hrefs.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def urls_in_html(markup: str) -> list[FoundUrl]:
    p = _Html()
    try:
        p.feed(markup[:MAX_TEXT])
        p.close()
    except Exception:  # HTMLParser is lenient; anything it still chokes on falls back to plain text
        return extract_urls(html.unescape(re.sub(r"<[^>]+>", " ", markup)), "html-text")
    out: list[FoundUrl] = []
    for href in p.hrefs:
        if href.lower().startswith(("http://", "https://", "hxxp", "//")):
            f = classify_url(refang(href if not href.startswith("//") else "http:" + href), "html-href")
            if f:
                out.append(f)
    out += extract_urls(" ".join(p.text), "html-text")
    return out


def _part_text(part: Message) -> str:
    try:
        if isinstance(part, EmailMessage):
            content = part.get_content()
            if isinstance(content, str):
                return content
    except Exception:  # unknown charset, broken base64...: fall back to bytes
        pass
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, "replace")
        except LookupError:
            return payload.decode("utf-8", "replace")
    raw = part.get_payload()
    return raw if isinstance(raw, str) else ""


def parse_message(data: bytes) -> ParsedMail:
    """A raw RFC 5322 message -> subject, sender and every URL in it. Never raises."""
    out = ParsedMail()
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
    except Exception as e:
        out.errors.append(f"unreadable message: {type(e).__name__}: {e}"[:300])
        out.urls = extract_urls(data[:MAX_TEXT].decode("utf-8", "replace"))
        return out
    for header, attr in (("subject", "subject"), ("from", "sender"), ("message-id", "message_id"),
                         ("date", "date")):
        try:
            setattr(out, attr, _clean(str(msg.get(header, "") or ""))[:500])
        except Exception as e:  # a malformed header value
            out.errors.append(f"bad {header} header: {type(e).__name__}"[:200])
    if msg.defects:
        out.errors += [f"defect: {type(d).__name__}" for d in msg.defects[:5]]
    found: list[FoundUrl] = extract_urls(out.subject, "subject")
    for i, part in enumerate(msg.walk()):  # walk() descends into message/rfc822 too
        if i >= MAX_PARTS:
            out.errors.append(f"more than {MAX_PARTS} parts: the rest was not read")
            break
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if ctype not in ("text/plain", "text/html", "text/enriched") and part.get_content_maintype() != "text":
            continue
        try:
            text = _part_text(part)
        except Exception as e:
            out.errors.append(f"part {i} ({ctype}): {type(e).__name__}: {e}"[:300])
            continue
        if part.defects:
            out.errors += [f"part {i}: {type(d).__name__}" for d in part.defects[:3]]
        out.texts.append(text[:20000])
        found += urls_in_html(text) if ctype == "text/html" else extract_urls(text)
    seen: set[str] = set()
    more = False
    for f in found:
        if f.url in seen:
            continue
        if len(out.urls) >= MAX_URLS:
            more = True
            break
        seen.add(f.url)
        out.urls.append(f)
    if more or len(found) >= MAX_URLS:
        out.errors.append(f"more than {MAX_URLS} URLs in the message: only the first {MAX_URLS} were read")
    return out
