"""The plain-HTTP fallback: when the browser fails, fetch the page with httpx and say so.

Redirects are followed by hand so every hop passes the guard and is recorded; the body is streamed
and cut at the byte cap; the whole fetch has one deadline.
"""

from __future__ import annotations

import ssl
import threading
import time
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urljoin

import httpx

from crawlers.extract import parse_html
from crawlers.job import Job
from crawlers.netguard import Policy, urlscheme


def _client(job: Job, user_agent: str, proxy: str, *, cookies: Any = None) -> httpx.Client:
    verify: Any = True
    if job.ca_file:
        verify = ssl.create_default_context(cafile=job.ca_file)
    elif job.ignore_https_errors:
        verify = False
    return httpx.Client(proxy=proxy or None, verify=verify, follow_redirects=False, trust_env=False,
                        timeout=httpx.Timeout(min(job.page_timeout, 15.0)), headers={"User-Agent": user_agent},
                        cookies=cookies)


_SHARED: dict[tuple[str, str, str, bool, str], httpx.Client] = {}
_SHARED_LOCK = threading.Lock()


def shared_client(job: Job, user_agent: str, proxy: str) -> httpx.Client:
    """One client per (proxy, user agent, TLS settings) for the favicons of a crawler's pages: a new
    httpx client loads the CA bundle again (about 40 ms of CPU, as much as the page's screenshot).
    httpx clients are thread-safe; the gate still judges every connection, and the client keeps no
    cookie (one hostile site's cookie never rides along to another, or to the next batch)."""
    key = (proxy, user_agent, job.ca_file, job.ignore_https_errors, str(min(job.page_timeout, 15.0)))
    with _SHARED_LOCK:
        client = _SHARED.get(key)
        if client is None or client.is_closed:
            client = _SHARED[key] = _client(job, user_agent, proxy,
                                            cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])))
        return client


def fetch(job: Job, url: str, user_agent: str, *, policy: Policy, proxy: str) -> dict[str, Any]:
    """A capture record's page facts from a plain GET (no screenshot). Raises httpx errors.

    ``proxy`` is the crawler's gate (which judges and pins every connection); each hop is also
    judged here first, so a refusal is reported as such."""
    deadline = time.monotonic() + job.page_timeout
    redirects: list[dict[str, Any]] = []
    with _client(job, user_agent, proxy) as client:
        current = url
        for _hop in range(job.max_redirects + 1):
            why = policy.check_url(current).refusal
            if why:
                raise httpx.RequestError(f"fetch guard {why}")
            with client.stream("GET", current) as resp:
                if resp.is_redirect and "location" in resp.headers:
                    nxt = urljoin(current, resp.headers["location"])
                    redirects.append({"url": current, "status": resp.status_code})
                    if urlscheme(nxt) not in ("http", "https"):
                        raise httpx.RequestError(f"redirect to a non-HTTP URL {nxt[:100]!r}")
                    current = nxt
                    continue
                body, truncated = bytearray(), False
                for chunk in resp.iter_bytes():
                    body += chunk
                    if len(body) >= job.max_bytes:
                        truncated = True
                        break
                    if time.monotonic() > deadline:
                        truncated = True
                        break
                html = bytes(body[: job.max_bytes]).decode(resp.encoding or "utf-8", "replace")
                facts = parse_html(html, str(resp.url), max_text=job.max_text, max_links=job.max_links)
                facts.update({
                    "final_url": str(resp.url), "status": resp.status_code, "redirects": redirects,
                    "headers": {k.lower(): v[:500] for k, v in list(resp.headers.items())[:60]},
                    "html": html, "truncated": truncated,
                })
                return facts
        raise httpx.TooManyRedirects(f"more than {job.max_redirects} redirects")


def fetch_bytes(job: Job, url: str, user_agent: str, limit: int, *, policy: Policy, proxy: str) -> bytes | None:
    """A small resource (favicon) through the same gate; None when missing, refused or too big."""
    if policy.check_url(url).refusal:
        return None
    deadline = time.monotonic() + 5.0
    try:
        with shared_client(job, user_agent, proxy).stream("GET", url) as resp:
            kind = resp.headers.get("content-type", "").lower()
            if resp.status_code != 200 or not (kind.startswith("image/") or "icon" in kind or not kind):
                return None
            data = bytearray()
            for chunk in resp.iter_bytes():
                data += chunk
                if len(data) > limit or time.monotonic() > deadline:
                    return None
            return bytes(data)
    except (httpx.HTTPError, OSError, ValueError):  # a favicon is never worth failing a capture for
        return None
