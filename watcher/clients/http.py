"""The watcher's HTTP client for its own checks (takeover fingerprints, short-code page, RDAP).

Every connection's address passes ``crawlers.guard.address_allowed`` (the one place that decides),
the egress proxy and CA file come from config, and sizes and times are capped.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from crawlers.guard import address_allowed
from watcher.core.config import Settings

DEFAULT_LIMIT = 2 * 1024 * 1024


class RefusedAddress(httpx.HTTPError):
    """The guard refused the target's address."""


def make_client(settings: Settings, *, timeout: float | None = None, follow_redirects: bool = True,
                **kwargs: Any) -> httpx.Client:
    crawl = settings.crawl
    verify: Any = True
    if crawl.ca_file:
        verify = ssl.create_default_context(cafile=str(settings.path(crawl.ca_file)))
    return httpx.Client(
        proxy=crawl.proxy or None,
        verify=verify,
        timeout=timeout or crawl.page_timeout_seconds,
        follow_redirects=follow_redirects,
        max_redirects=crawl.max_redirects,
        headers={"User-Agent": crawl.user_agent_desktop},
        **kwargs,
    )


def check_addresses(addresses: list[str], *, lab_mode: bool) -> None:
    """Raise RefusedAddress if any resolved address of a target is not allowed."""
    for a in addresses:
        ok, why = address_allowed(a, lab_mode=lab_mode)
        if not ok:
            raise RefusedAddress(f"refused to fetch from {a}: {why}")


def read_capped(response: httpx.Response, limit: int = DEFAULT_LIMIT) -> bytes:
    """Read a streamed response body, stopping at ``limit`` bytes."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]
