"""HTTP for CT logs: one client per log, timeouts, backoff on 429 / 5xx (honouring Retry-After).

``sleep`` is an argument so tests see the waits without waiting (time is an argument). ``transport``
is the watcher's guarded transport (``watcher.clients.http``: the log's host is a configured endpoint,
every redirect hop judged, the address connected to is the address checked); None only for a client
built outside a Context (a test of the protocol alone).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from watcher.clients.http import RefusedAddress

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 120.0


class LogUnavailable(Exception):
    """The log did not answer usefully after the retries (or answered 4xx)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class LogClient:
    def __init__(self, base: str, *, timeout: float = 30.0, attempts: int = 6, backoff: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep, user_agent: str = "omamori-ct/0.1",
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base = base if base.endswith("/") else base + "/"
        self.attempts = attempts
        self.backoff = backoff
        self.sleep = sleep
        self.http = httpx.Client(timeout=timeout, trust_env=False, headers={"User-Agent": user_agent},
                                 follow_redirects=True, transport=transport)
        self.retries = 0  # how many times we waited (for the summary and the tests)
        self.waited = 0.0

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, params: dict[str, Any] | None = None, *, allow_404: bool = False) -> httpx.Response | None:
        url = self.base + path
        delay = self.backoff
        last = ""
        for attempt in range(self.attempts):
            try:
                r = self.http.get(url, params=params)
            except RefusedAddress as e:  # the fetch guard's answer does not change on a retry
                raise LogUnavailable(f"{url}: {e}") from None
            except httpx.HTTPError as e:
                last = f"{type(e).__name__}: {e}"
                status = None
            else:
                if r.status_code == 200:
                    return r
                if r.status_code == 404 and allow_404:
                    return None
                status = r.status_code
                last = f"HTTP {status} from {url}"
                if status not in RETRY_STATUSES:
                    raise LogUnavailable(f"{last}: {r.text[:200]}", status)
                wait = _retry_after(r.headers.get("Retry-After"))
                if wait is not None:
                    delay = max(wait, 0.0)
            if attempt == self.attempts - 1:
                break
            self.retries += 1
            self.waited += delay
            self.sleep(delay)
            delay = min(delay * 2 if delay else self.backoff, MAX_RETRY_AFTER)
        raise LogUnavailable(f"{last} (after {self.attempts} attempts)", status)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return min(float(value), MAX_RETRY_AFTER)
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
