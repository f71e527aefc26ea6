"""``omamori lint-messages PATH…``: no login links in outgoing email and SMS (guideline IV.4(5)).

Customers are taught that the firm never sends a login link; one template that does teaches them the
opposite, and phishing copies it. The linter reads text, HTML and .eml templates and reports every
URL that
- goes to a brand's login page, or to the host that serves it (``login_pages`` in the brands file);
- looks like a page that asks for a password (login, sign-in, password, マイページ… in the path);
- goes through a URL shortener (the customer cannot see where it leads; ``--shortener`` adds the
  firm's own short-link domains).
It prints ``file:line: reason: url`` and exits 1 when it finds any, so it can gate a release pipeline.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from watcher.core.brands import BrandSpec
from watcher.core.inputs import decode, read_file
from watcher.core.names import is_within

SHORTENERS = frozenset({
    "bit.ly", "bitly.com", "j.mp", "t.co", "tinyurl.com", "goo.gl", "g.co", "ow.ly", "is.gd", "v.gd", "buff.ly",
    "rebrand.ly", "cutt.ly", "t.ly", "shorturl.at", "rb.gy", "s.id", "x.gd", "lnkd.in", "tiny.cc", "bl.ink",
    "short.io", "shorturl.asia", "urx.nu", "urx2.nu", "urx3.nu", "00m.in", "trib.al", "dlvr.it",
    "amzn.to", "youtu.be", "lin.ee", "qr.paps.jp", "onl.sc", "onl.la", "shorter.me", "clck.ru",
})
# Path words of pages that ask for a password (English and Japanese, as URL paths spell them).
LOGIN_WORDS = re.compile(
    r"(log-?in|sign-?in|sign_in|log-?on|auth(?:enticate|orize)?\b|passw(?:or)?d|pwd|mypage|my-page|"
    r"account/(?:verify|update|confirm)|verify-?account|ログイン|パスワード|マイページ)", re.I)
URL = re.compile(r"""(?:https?://|hxxps?://|//)[^\s"'<>()\[\]{}\\^`|]+""", re.I)
BARE = re.compile(r"""(?<![\w@/.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(/[^\s"'<>()\[\]{}]*)?""",
                  re.I)
TEXT_SUFFIXES = {".txt", ".text", ".md", ".sms", ".tmpl", ".j2", ".jinja", ".mustache", ".hbs", ".csv", ""}


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    url: str
    reason: str
    where: str = ""  # the MIME part of an .eml

    def __str__(self) -> str:
        part = f" ({self.where})" if self.where else ""
        return f"{self.path}:{self.line}{part}: {self.reason}: {self.url}"


@dataclass
class Rules:
    login_pages: list[tuple[str, str, str]]  # (host, path, brand)
    shorteners: frozenset[str]

    @classmethod
    def from_brands(cls, brands: Iterable[BrandSpec], shorteners: Iterable[str] = ()) -> Rules:
        pages = []
        for b in brands:
            for url in b.login_pages:
                parts = urlsplit(url)
                pages.append(((parts.hostname or "").lower(), parts.path.rstrip("/") or "/", b.slug))
        return cls(pages, SHORTENERS | {s.lower().strip(".") for s in shorteners})

    def reason(self, url: str) -> str | None:
        text = re.sub(r"^hxxp", "http", url.strip(), flags=re.I)
        if text.startswith("//"):
            text = "https:" + text
        if "://" not in text:
            text = "https://" + text
        try:
            parts = urlsplit(text)
            host = (parts.hostname or "").lower().rstrip(".")
        except ValueError:
            return None
        if not host:
            return None
        path = unquote(parts.path or "/")
        for login_host, login_path, brand in self.login_pages:
            if host == login_host:
                if path.rstrip("/").startswith(login_path.rstrip("/")) and login_path != "/":
                    return f"login page of {brand} / ログインページへのリンク"
                return f"the host of {brand}'s login page ({login_host}) / ログインページのホストへのリンク"
        if any(is_within(host, s) for s in self.shorteners):
            return "URL shortener hides where the link goes / 短縮URLはリンク先を隠します"
        if LOGIN_WORDS.search(path) or LOGIN_WORDS.search(unquote(parts.query or "")):
            return "a page that asks for a password / パスワードを入力させるページへのリンク"
        return None


def _urls(line: str) -> Iterator[str]:
    line = html.unescape(line)
    seen_spans: list[tuple[int, int]] = []
    for m in URL.finditer(line):
        seen_spans.append(m.span())
        yield m.group(0).rstrip(".,;:!?。、）」')\"")
    for m in BARE.finditer(line):
        if any(a <= m.start() < b for a, b in seen_spans):
            continue
        yield (m.group(1) + (m.group(2) or "")).rstrip(".,;:!?。、）」')\"")


def lint_text(text: str, rules: Rules, path: str, where: str = "") -> list[Problem]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        for url in _urls(line):
            reason = rules.reason(url)
            if reason:
                out.append(Problem(path, n, url, reason, where))
    return out


def lint_eml(raw: bytes, rules: Rules, path: str) -> list[Problem]:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = lint_text(str(msg.get("Subject", "")), rules, path, "Subject")
    for i, part in enumerate(msg.walk(), 1):
        if part.get_content_maintype() != "text" or part.get_filename():
            continue
        try:
            body = str(part.get_content())
        except (LookupError, UnicodeError):
            payload = part.get_payload(decode=True)
            body = (payload if isinstance(payload, bytes) else b"").decode("utf-8", "replace")
        out.extend(lint_text(body, rules, path, f"part {i} {part.get_content_type()}"))
    return out


MAX_TEMPLATE_BYTES = 8 * 1024 * 1024  # a template is a few kilobytes; /dev/zero is refused here


def lint_file(path: Path, rules: Rules, max_bytes: int = MAX_TEMPLATE_BYTES) -> list[Problem]:
    """One template. Raises ``InputRefused`` (one line: too large, binary, undecodable) or OSError;
    a UTF-16 or Shift_JIS template is decoded, never read as noise that has no links."""
    data = read_file(str(path), limit=max_bytes)
    if path.suffix.lower() == ".eml":
        return lint_eml(data, rules, str(path))
    text, _encoding = decode(data, str(path))
    return lint_text(text, rules, str(path))


def expand(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        else:
            out.append(p)
    return out
