"""scrapy-playwright's download handler, shared by http and https, with a pool of pages.

Two costs of the stock handler are the crawler's, not the evidence's:

- Scrapy builds one handler per scheme, and each starts its own Playwright driver (a node process)
  and, on its first request, its own Chromium. Here one instance serves both schemes: one driver,
  one browser, and a batch of http and https targets shares its contexts.
- A page per target: creating and closing a page costs more CPU than the navigation that replaces
  it (CDP target, renderer setup, Playwright's page objects). A page whose capture is done goes back
  to ``POOL`` under its context's name, and the next target of that context navigates it. Only a page
  of the same browser context is reused, and contexts stay per batch (``crawlers.serve`` closes them,
  with their pages, when the batch is done), so no cookie, storage or cache crosses a batch, as
  before. A navigation replaces the page's document, scripts and timers; a page that failed, crashed
  or was refused is closed, never pooled.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from scrapy.crawler import Crawler
from scrapy.http import Request
from scrapy.spiders import Spider
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

DEFAULT_CONTEXT = "default"  # scrapy-playwright's name for a request without playwright_context


class PagePool:
    """The pages of each context (by name): at most ``limit`` alive per context (scrapy-playwright's
    ``PLAYWRIGHT_MAX_PAGES_PER_CONTEXT`` did this by closing pages), the idle ones handed to the next
    target of the same context, never to another context. Event-loop only (no locks needed)."""

    def __init__(self, limit: int = 2) -> None:
        self.limit = limit
        self.idle: dict[str, list[Any]] = {}
        self.pages: dict[str, set[Any]] = {}
        self.creating: dict[str, int] = {}
        self.reused = 0
        self._waiters: list[asyncio.Future[None]] = []

    def count(self, context: str) -> int:
        """Pages of ``context`` alive or being created (a page whose browser died counts no more,
        whether or not its close event came)."""
        live = {p for p in self.pages.get(context, set()) if not p.is_closed()}
        if live:
            self.pages[context] = live
        else:
            self.pages.pop(context, None)
        return len(live) + self.creating.get(context, 0)

    async def acquire(self, context: str) -> Any | None:
        """An idle page of ``context``, or None once the caller may create one (then ``created`` or
        ``failed``). Waits while the context has ``limit`` busy pages."""
        while True:
            pages = self.idle.get(context) or []
            while pages:
                page = pages.pop()
                if not page.is_closed():
                    self.reused += 1
                    return page
            if self.count(context) < self.limit:
                self.creating[context] = self.creating.get(context, 0) + 1
                return None
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:  # woken by a page put back or closed; the timeout re-counts (a dead browser's pages)
                await asyncio.wait_for(waiter, timeout=1.0)
            except TimeoutError:
                pass

    def created(self, context: str, page: Any) -> None:
        self._created(context)
        self.pages.setdefault(context, set()).add(page)
        page.on("close", lambda: self._closed(context, page))

    def failed(self, context: str) -> None:
        self._created(context)
        self._wake()

    def put(self, context: str, page: Any) -> None:
        """A page whose capture is done: the next target of its context navigates it."""
        if not page.is_closed():
            self.idle.setdefault(context, []).append(page)
        self._wake()

    def forget(self, context: str) -> None:
        """The context is closing: its pages close with it."""
        self.idle.pop(context, None)

    def _created(self, context: str) -> None:
        left = self.creating.get(context, 0) - 1
        if left > 0:
            self.creating[context] = left
        else:
            self.creating.pop(context, None)

    def _closed(self, context: str, page: Any) -> None:
        self.pages.get(context, set()).discard(page)
        idle = self.idle.get(context) or []
        if page in idle:
            idle.remove(page)
        self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for w in waiters:
            if not w.done():
                w.set_result(None)


POOL = PagePool()
_SHARED: weakref.WeakKeyDictionary[Crawler, CaptureHandler] = weakref.WeakKeyDictionary()


class CaptureHandler(ScrapyPlaywrightDownloadHandler):
    lazy = False

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._closed = False
        POOL.limit = crawler.settings.getint("CAPTURE_PAGES_PER_CONTEXT", 2)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptureHandler:
        handler = _SHARED.get(crawler)
        if handler is None:
            handler = _SHARED[crawler] = cls(crawler)
        return handler

    async def _create_page(self, request: Request, spider: Spider) -> Any:
        context = request.meta.get("playwright_context") or DEFAULT_CONTEXT
        page = await POOL.acquire(context)
        if page is not None:
            # Only the previous target's request hook goes (scrapy-playwright adds one per
            # navigation, and skips removing it for a page it has just created).
            await page.unroute("**")
            return page
        try:
            page = await super()._create_page(request, spider)
        except BaseException:
            POOL.failed(context)
            raise
        POOL.created(context, page)
        return page

    async def _close(self) -> None:
        if self._closed:  # Scrapy closes the handler once per scheme it serves
            return
        self._closed = True
        POOL.idle.clear()
        await super()._close()
