"""Where does a link end? Its HTTP redirects, followed one hop at a time (``lint-messages --follow``).

A shortener or a click-tracking link hides its destination; following it shows whether the end is a
login page. Every hop goes through ``ctx.http()`` — the fetch guard, the egress proxy, the configured
CA — with redirects handled here (so each hop is checked and recorded), a hop limit
(``crawl.max_redirects``) and no body read beyond a small cap. Only HTTP redirects are followed: a
page that moves on with script or a meta refresh ends the chain where it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urljoin

import httpx

from watcher.context import Context


def make_follow(ctx: Context, timeout: float = 10.0) -> Callable[[str], list[str]]:
    """A function: URL -> [URL, each hop..., the end]; a chain of one means it could not be followed."""
    max_hops = ctx.settings.crawl.max_redirects

    @lru_cache(maxsize=512)
    def follow(url: str) -> list[str]:
        start = re.sub(r"^hxxp", "http", url.strip(), flags=re.I)
        if "://" not in start:
            start = "https://" + start.lstrip("/")
        chain = [start]
        try:
            with ctx.http(timeout=timeout, follow_redirects=False) as client:
                current = start
                for _ in range(max_hops):
                    with client.stream("GET", current) as resp:
                        location = resp.headers.get("location")
                        if resp.status_code not in (301, 302, 303, 307, 308) or not location:
                            break
                    current = urljoin(current, location)
                    chain.append(current)
        except httpx.HTTPError:
            pass  # the chain so far is what could be seen (one element: nothing)
        return chain

    return follow
