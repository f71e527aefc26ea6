"""``omamori lint-messages PATH…``: no login links in outgoing email and SMS (guideline IV.4(5)).

Customers are taught that the firm never sends a login link; one template that does teaches them the
opposite, and phishing copies it. The linter reads text, HTML, .eml, image and PDF templates and
reports every link (rule id in brackets, used by ``--format sarif``) that
- goes to a brand's login page [login-page], or to the host that serves it [login-host];
- looks like a page that asks for a password: login, sign-in, password, マイページ… [password-page];
- is a template placeholder that will hold such a link: ``{{ login_url }}``, ``{% url 'login' %}``,
  ``%%=RedirectTo(@LoginURL)=%%``, ``*|LOGIN_URL|*``, ``${loginUrl}`` [placeholder-login];
- opens the firm's app at its login or authentication screen (``hoshizora://login``) [app-login];
- goes through a public URL shortener (``data/url-shorteners.json``) [shortener], or one of the firm's
  own short domains (``lint.short_domains``) [own-short-link]: the customer cannot see where it leads;
- is a mail platform's click-tracking link that hides its destination [tracking-hidden]; when the
  destination is written in the tracking URL (Amazon SES, Mandrill, Safe Links...) it is decoded and
  linted instead (``data/click-trackers.json``).

Text is NFKC-normalised first (full-width ``ｈｔｔｐｓ：／／``), ideographic dots between letters are
read as dots and zero-width characters dropped, so a link written to slip past a filter is still
seen. QR codes in images and PDFs are decoded (``qr``) and linted like text. With
``follow`` (``--follow``) a shortener's or tracker's redirects are followed through the fetch guard
to where they end (``link_follow``), and the end is linted.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import html
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from watcher.core.brands import BrandSpec
from watcher.core.inputs import decode, read_file
from watcher.core.names import is_within
from watcher.core.texts import Text, text
from watcher.owned import link_lists

# Path words of pages that ask for a password (English and Japanese, as URL paths spell them).
LOGIN_WORDS = re.compile(
    r"(log-?in|sign-?in|sign_in|log-?on|auth(?:enticate|orize)?\b|passw(?:or)?d|pwd|mypage|my-page|"
    r"account/(?:verify|update|confirm)|verify-?account|ログイン|パスワード|マイページ)", re.I)
# Placeholder names that will hold a login link.
LOGIN_NAME = re.compile(r"(log_?in|sign_?in|log_?on|passw(?:or)?d|pwd|\bauth|_auth|mypage|my_page|verif|"
                        r"credential|ログイン|パスワード|マイページ)", re.I)
URL = re.compile(r"""(?:https?://|hxxps?://|//)[^\s"'<>()\[\]{}\\^`|]+""", re.I)
APP_URL = re.compile(r"""(?<![\w.+-])([a-z][a-z0-9+.-]{1,30})://[^\s"'<>()\[\]{}\\^`|]*""", re.I)
# A placeholder standing for the scheme and host: ``{{ site_url }}/mypage``.
PH_URL = re.compile(r"""x-placeholder-\d+(/[^\s"'<>()\[\]{}\\^`|]*)""")
BARE = re.compile(r"""(?<![\w@/.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(/[^\s"'<>()\[\]{}]*)?""",
                  re.I)
# Template languages: Jinja/Django/Liquid/Handlebars ({{ }}, {% %}), Salesforce AMPscript and
# personalisation strings (%%...%%), Mailchimp merge tags (*|...|*), ${...} and #{...}.
PLACEHOLDER = re.compile(r"\{\{\{?.*?\}?\}\}|\{%.*?%\}|%%.*?%%|\*\|.*?\|\*|\$\{[^}]{1,200}\}|#\{[^}]{1,200}\}")
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad]")
_IDEOGRAPHIC_DOT = re.compile(r"(?<=[a-z0-9])[\u3002\uff0e\uff61](?=[a-z0-9])", re.I)
_TRAIL = ".,;:!?。、）」')\"’”>"
NOT_APP_SCHEMES = frozenset({"http", "https", "hxxp", "hxxps", "ftp", "mailto", "tel", "sms", "cid", "data"})
TEXT_SUFFIXES = {".txt", ".text", ".md", ".sms", ".tmpl", ".j2", ".jinja", ".mustache", ".hbs", ".csv", ".liquid",
                 ".html", ".htm", ".xml", ".json", ".yaml", ".yml", ""}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}

# Rule id -> the catalogue key of its one-line reason.
RULES = {
    "login-page": "lint.login_page", "login-host": "lint.login_host", "password-page": "lint.password_page",
    "placeholder-login": "lint.placeholder_login", "app-login": "lint.app_login", "shortener": "lint.shortener",
    "own-short-link": "lint.own_short_link", "tracking-hidden": "lint.tracking_hidden",
}


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    url: str
    rule: str
    reason: Text
    where: str = ""  # the MIME part of an .eml, the page of a PDF, "QR code in ..."
    note: Text | None = None  # e.g. how a tracker or a redirect chain led here

    def render(self, lang: str = "en") -> str:
        part = f" ({self.where})" if self.where else ""
        note = f" [{self.note.render(lang)}]" if self.note else ""
        return f"{self.path}:{self.line}{part}: {self.reason.render(lang)}: {self.url}{note}"

    def __str__(self) -> str:
        return self.render("en")

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "url": self.url, "rule": self.rule,
                "reason": self.reason.render(lang), "where": self.where,
                "note": self.note.render(lang) if self.note else ""}


Follow = Callable[[str], list[str]]  # a URL -> the URLs of its redirect chain (the end last)


@dataclass
class Rules:
    login_pages: list[tuple[str, str, str]]  # (host, path, brand)
    shorteners: frozenset[str]
    own_short: frozenset[str] = frozenset()
    tracking: frozenset[str] = frozenset()
    app_schemes: dict[str, str] = field(default_factory=dict)  # scheme -> brand
    follow: Follow | None = None

    @classmethod
    def from_brands(cls, brands: Iterable[BrandSpec], shorteners: Iterable[str] = (),
                    tracking_domains: Iterable[str] = (), follow: Follow | None = None) -> Rules:
        """``shorteners``: the firm's own short-link domains (``lint.short_domains``)."""
        pages = []
        schemes: dict[str, str] = {}
        for b in brands:
            for url in b.login_pages:
                parts = urlsplit(url)
                pages.append(((parts.hostname or "").lower(), parts.path.rstrip("/") or "/", b.slug))
            for s in b.app_schemes:
                schemes[s.lower().rstrip(":/")] = b.slug
        own = frozenset(s.lower().strip(".") for s in shorteners)
        return cls(pages, link_lists.shorteners(), own, frozenset(t.lower().strip(".") for t in tracking_domains),
                   schemes, follow)

    # --- one link -------------------------------------------------------------------------------

    def check(self, url: str, depth: int = 0) -> tuple[str, Text, Text | None] | None:
        """(rule, reason, note) when ``url`` must not be in a customer message, else None."""
        app = APP_URL.match(url)
        if app and app.group(1).lower() not in NOT_APP_SCHEMES:
            return self._app_link(url, app.group(1).lower())
        parts = _split(url)
        if parts is None:
            return None
        host, path, query = parts
        for login_host, login_path, brand in self.login_pages:
            if host == login_host:
                if login_path != "/" and path.rstrip("/").startswith(login_path.rstrip("/")):
                    return "login-page", text(RULES["login-page"], brand=brand), None
                return "login-host", text(RULES["login-host"], brand=brand, host=login_host), None
        tracker = link_lists.tracker_for(host, path)
        branded = _branded_tracking(path, query)
        if tracker is not None or branded or any(is_within(host, t) for t in self.tracking):
            inner = decode_tracker(tracker, path, query) if tracker is not None else None
            name = tracker.name if tracker is not None else branded or host
            if inner and depth < 3:
                found = self.check(inner, depth + 1)
                if found:
                    return found[0], found[1], text("lint.via_tracker", tracker=name, url=inner[:200])
                return None
            return self._followed(url, depth, "tracking-hidden", text(RULES["tracking-hidden"], tracker=name))
        if any(is_within(host, s) for s in self.own_short):
            return self._followed(url, depth, "own-short-link", text(RULES["own-short-link"]))
        if host in self.shorteners or any(is_within(host, s) for s in self.shorteners):
            found = self._followed(url, depth, "shortener", text(RULES["shortener"]))
            # A public shortener stays a problem even when it ends somewhere harmless: customers
            # cannot tell the firm's short link from a phisher's.
            return found or ("shortener", text(RULES["shortener"]), None)
        if LOGIN_WORDS.search(path) or LOGIN_WORDS.search(query):
            return "password-page", text(RULES["password-page"]), None
        return None

    def _followed(self, url: str, depth: int, rule: str, reason: Text) -> tuple[str, Text, Text | None] | None:
        """Without ``follow``: the rule. With it: the end of the redirect chain decides."""
        if self.follow is None or depth >= 3:
            return rule, reason, None
        chain = self.follow(url)
        if len(chain) < 2:
            return rule, reason, text("lint.follow_failed")
        end = chain[-1]
        for hop in chain[1:]:
            found = self.check(hop, depth + 1)
            if found and found[0] not in ("shortener", "own-short-link", "tracking-hidden"):
                return found[0], found[1], text("lint.via_redirects", n=len(chain) - 1, url=end[:200])
        return None

    def _app_link(self, url: str, scheme: str) -> tuple[str, Text, Text | None] | None:
        rest = url.split("://", 1)[1]
        if scheme == "intent":  # Android: intent://login#Intent;scheme=hoshizora;package=...;end
            m = re.search(r"scheme=([a-z][a-z0-9+.-]*)", rest, re.I)
            scheme = m.group(1).lower() if m else scheme
        if LOGIN_WORDS.search(unquote(rest)) and (scheme in self.app_schemes or not self.app_schemes):
            brand = self.app_schemes.get(scheme, "")
            return "app-login", text(RULES["app-login"], scheme=scheme, brand=brand or "-"), None
        return None


def _split(url: str) -> tuple[str, str, str] | None:
    t = re.sub(r"^hxxp", "http", url.strip(), flags=re.I)
    if t.startswith("//"):
        t = "https:" + t
    if "://" not in t:
        t = "https://" + t
    try:
        parts = urlsplit(t)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    if not host:
        return None
    return host, unquote(parts.path or "/"), unquote(parts.query or "")


_BRANDED = (("Twilio SendGrid", re.compile(r"^/ls/click$"), "upn"),  # url1234.<firm domain>/ls/click?upn=
            ("Salesforce Marketing Cloud", re.compile(r"^/?$"), "qs"))  # click.<firm domain>/?qs=


def _branded_tracking(path: str, query: str) -> str:
    """A platform's tracking served on the firm's own (branded) link domain, told by its URL shape."""
    keys = set(parse_qs(query, keep_blank_values=True))
    for name, path_re, param in _BRANDED:
        if path_re.match(path) and param in keys and len(keys) <= 2:
            return name
    return ""


def decode_tracker(tracker: link_lists.Tracker, path: str, query: str) -> str | None:
    """The destination written inside a tracking URL, when the platform writes it there."""
    params = parse_qs(query, keep_blank_values=True)
    for name in tracker.params:
        for value in params.get(name, []):
            found = _url_in(value)
            if found:
                return found
    if tracker.path_url:  # e.g. /L0/https:%2F%2Fexample.com%2Fpage/1/0100... (Amazon SES)
        m = re.search(r"(https?:/{1,2}[^/\s]+[^\s]*?)(?:/\d+/[0-9a-f-]{20,}.*)?$", unquote(path), re.I)
        if m:
            return re.sub(r"^(https?:)/(?!/)", r"\1//", m.group(1))
    return None


def _url_in(value: str) -> str | None:
    """A URL in a parameter value: plain, percent-encoded, or in base64 JSON (Mandrill's ``p``)."""
    v = unquote(value).strip()
    if re.match(r"https?://", v, re.I):
        return v
    try:
        decoded = base64.urlsafe_b64decode(v + "=" * (-len(v) % 4)).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if re.match(r"https?://", decoded, re.I):
        return decoded
    return _url_in_json(decoded)


def _url_in_json(doc: str, depth: int = 0) -> str | None:
    try:
        data = json.loads(doc)
    except (json.JSONDecodeError, ValueError):
        return None
    stack: list[Any] = [data]
    while stack and depth < 200:
        depth += 1
        item = stack.pop()
        if isinstance(item, dict):
            url = item.get("url")
            if isinstance(url, str) and re.match(r"https?://", url, re.I):
                return url
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and item[:1] in "{[":
            found = _url_in_json(item, depth + 1)
            if found:
                return found
    return None


# --- finding the links in a text ---------------------------------------------------------------


def normalise(line: str) -> str:
    """NFKC (full-width letters and slashes), ideographic dots between letters as dots, no zero-width."""
    line = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", line))
    return _IDEOGRAPHIC_DOT.sub(".", line)


def _placeholders(line: str) -> tuple[str, dict[str, str]]:
    """The line with each template placeholder replaced by a URL-safe token, and the tokens' texts."""
    found: dict[str, str] = {}

    def sub(m: re.Match[str]) -> str:
        token = f"x-placeholder-{len(found)}"
        found[token] = m.group(0)
        return token

    return PLACEHOLDER.sub(sub, line), found


def _urls(line: str) -> Iterator[str]:
    spans: list[tuple[int, int]] = []
    for m in APP_URL.finditer(line):
        if m.group(1).lower() not in NOT_APP_SCHEMES:
            spans.append(m.span())
            yield m.group(0).rstrip(_TRAIL)
    for m in URL.finditer(line):
        if any(a <= m.start() < b for a, b in spans):
            continue
        spans.append(m.span())
        yield m.group(0).rstrip(_TRAIL)
    for m in PH_URL.finditer(line):
        if any(a <= m.start() < b for a, b in spans):
            continue
        spans.append(m.span())
        yield m.group(0).rstrip(_TRAIL)
    for m in BARE.finditer(line):
        if any(a <= m.start() < b for a, b in spans):
            continue
        yield (m.group(1) + (m.group(2) or "")).rstrip(_TRAIL)


def lint_text(text_: str, rules: Rules, path: str, where: str = "") -> list[Problem]:
    out = []
    for n, raw_line in enumerate(text_.splitlines(), 1):
        line, tokens = _placeholders(normalise(html.unescape(raw_line)))
        seen: set[str] = set()
        for original in tokens.values():
            if LOGIN_NAME.search(original) and original not in seen:
                seen.add(original)
                out.append(Problem(path, n, original, "placeholder-login", text(RULES["placeholder-login"]), where))
        for url in _urls(line):
            if url.startswith("x-placeholder-") and "/" not in url:
                continue  # a placeholder alone, judged above
            shown = url
            for token, original in tokens.items():
                shown = shown.replace(token, original)
            found = rules.check(url)
            if found and shown not in seen:
                seen.add(shown)
                out.append(Problem(path, n, shown, found[0], found[1], where, found[2]))
    return out


# --- files ----------------------------------------------------------------------------------------


def lint_eml(raw: bytes, rules: Rules, path: str) -> list[Problem]:
    from watcher.owned import qr

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = lint_text(str(msg.get("Subject", "")), rules, path, "Subject")
    for i, part in enumerate(msg.walk(), 1):
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        where = f"part {i} {ctype}"
        if part.get_content_maintype() == "text" and not part.get_filename():
            body = _part_text(part)
            if ctype == "text/html":
                out.extend(lint_text(body, rules, path, where))
                for label, data, line in qr.data_uri_images(body):
                    out.extend(_lint_qr(qr.decode_image(data), rules, path, f"{where}, {label}", line))
            else:
                out.extend(lint_text(body, rules, path, where))
        elif part.get_content_maintype() == "image" or ctype == "application/pdf":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                name = part.get_filename() or ctype
                found = qr.decode_pdf(payload) if ctype == "application/pdf" else qr.decode_image(payload)
                out.extend(_lint_qr(found, rules, path, f"{where} {name}"))
    return out


def _part_text(part: Message) -> str:
    try:
        return str(part.get_content())  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, AttributeError):
        payload = part.get_payload(decode=True)
        return (payload if isinstance(payload, bytes) else b"").decode("utf-8", "replace")


def _lint_qr(found: list[tuple[str, str]], rules: Rules, path: str, where: str, line: int = 1) -> list[Problem]:
    """Each decoded QR code's text, linted; ``found`` is [(where in the file, decoded text)], ``line`` the
    line of the file where the image is."""
    out: list[Problem] = []
    for place, decoded in found:
        label = text("lint.qr_where", where=f"{where} {place}".strip()).render("en")
        out.extend(replace(p, line=line) for p in lint_text(decoded, rules, path, label))
    return out


MAX_TEMPLATE_BYTES = 8 * 1024 * 1024  # a template is a few kilobytes; /dev/zero is refused here


def lint_file(path: Path, rules: Rules, max_bytes: int = MAX_TEMPLATE_BYTES) -> list[Problem]:
    """One template. Raises ``InputRefused`` (one line: too large, binary, undecodable) or OSError;
    a UTF-16 or Shift_JIS template is decoded, never read as noise that has no links. Images and PDFs
    are read for their QR codes."""
    from watcher.owned import qr

    suffix = path.suffix.lower()
    data = read_file(str(path), limit=max_bytes)
    if suffix == ".eml":
        return lint_eml(data, rules, str(path))
    if suffix in IMAGE_SUFFIXES:
        return _lint_qr(qr.decode_image(data), rules, str(path), "")
    if suffix == ".pdf":
        return _lint_qr(qr.decode_pdf(data), rules, str(path), "")
    body, _encoding = decode(data, str(path))
    if suffix in (".html", ".htm"):
        out = lint_text(body, rules, str(path))
        for label, data, line in qr.data_uri_images(body):
            out.extend(_lint_qr(qr.decode_image(data), rules, str(path), label, line))
        return out
    return lint_text(body, rules, str(path))


def expand(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        else:
            out.append(p)
    return out
