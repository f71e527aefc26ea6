"""The link lists lint-messages reads: URL shorteners and the click-tracking redirectors of mail platforms.

- ``data/url-shorteners.json``: PeterDaveHello/url-shorteners (CC BY-SA 4.0, about 1,500 active
  shortener domains), refreshed by ``omamori data refresh url-shorteners``, plus ``ADDITIONS``: the
  Japanese shorteners seen in real smishing that the list does not have yet (each with where it was
  seen), kept here so a refresh never drops them.
- ``data/click-trackers.json``: how each mail platform rewrites links for click tracking (host
  patterns and where the destination hides in the tracking URL), compiled from the platforms' own
  documentation (source per entry).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from watcher.core.config import DATA

SHORTENERS_FILE = DATA / "url-shorteners.json"
TRACKERS_FILE = DATA / "click-trackers.json"

# Shorteners used in Japanese smishing and mail that the upstream list lacks (JC3 and the Council of
# Anti-Phishing Japan publish examples of each).
ADDITIONS: tuple[str, ...] = ("urx.nu", "urx2.nu", "urx3.nu", "00m.in", "qr.paps.jp", "onl.sc", "onl.la",
                              "shorter.me", "clck.ru", "x.gd", "u0u1.net", "is.gd", "v.gd")


@lru_cache(maxsize=1)
def shorteners() -> frozenset[str]:
    data = json.loads(SHORTENERS_FILE.read_text(encoding="utf-8"))
    return frozenset(data.get("items") or []) | frozenset(ADDITIONS)


def validate_shorteners(raw: bytes) -> list[str]:
    """The upstream ``list`` file (one domain per line, # comments) -> sorted lowercase domains."""
    out = set()
    for line in raw.decode("utf-8").splitlines():
        line = line.split("#", 1)[0].strip().lower().rstrip(".")
        if line and re.fullmatch(r"[a-z0-9.-]+\.[a-z0-9-]{2,}", line):
            out.add(line)
    if len(out) < 200:
        raise ValueError(f"only {len(out)} domains: not the shortener list we expect")
    return sorted(out)


@dataclass(frozen=True)
class Tracker:
    """One platform's click-tracking rewrite: the hosts, and where the real destination sits."""

    name: str
    hosts: tuple[re.Pattern[str], ...]  # full-match patterns on the host
    params: tuple[str, ...]  # query parameters that carry the destination URL (plain or encoded)
    path_url: bool  # the destination is URL-encoded in the path (Amazon SES awstrack.me)
    source: str
    paths: tuple[str, ...] = ()  # only these paths are the redirector (google.com/url), when given

    def matches(self, host: str, path: str = "/") -> bool:
        return any(p.fullmatch(host) for p in self.hosts) and (not self.paths or path in self.paths)


def _pattern(glob: str) -> re.Pattern[str]:
    """``*.ct.sendgrid.net`` -> a regex matching any number of leading labels."""
    parts = [re.escape(p) if p != "*" else r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*" for p in glob.lower().split(".")]
    return re.compile(r"\.".join(parts))


@lru_cache(maxsize=1)
def trackers() -> tuple[Tracker, ...]:
    data: dict[str, Any] = json.loads(TRACKERS_FILE.read_text(encoding="utf-8"))
    return tuple(Tracker(t["name"], tuple(_pattern(h) for h in t["hosts"]), tuple(t.get("params") or ()),
                         bool(t.get("path_url")), t.get("source", ""), tuple(t.get("paths") or ()))
                 for t in data["trackers"])


def tracker_for(host: str, path: str = "/") -> Tracker | None:
    h = host.lower().rstrip(".")
    return next((t for t in trackers() if t.matches(h, path)), None)
