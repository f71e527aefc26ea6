"""Scrapy's download handler for http and https: Playwright on Chromium, one browser, a page pool.

The handler does what the capture needs and nothing per sub-request. scrapy-playwright, which this
replaces, costs the crawler about 100 ms of CPU per page that no evidence needs: a Python round trip
for every request the page makes (its route hook, each asking for the request's raw headers to apply
Scrapy's), listeners on every request and response, and the whole HTML read once at "commit" and
never used (the spider reads it after the page settled). Here:

- One instance serves both schemes (Scrapy builds a handler per scheme): one Playwright driver (a
  node process), one Chromium, and a batch of http and https targets shares its contexts.
- Navigation is ``page.goto(wait_until="commit")``; the Scrapy response carries the main response's
  status, raw headers, redirect chain and TLS details, and no body (the spider reads the page).
- The page's own requests are not hooked: every connection Chromium makes goes through the crawler's
  gate (``crawlers.gate``), which judges it. Media and event streams (endless, and nothing a reviewer
  needs) are refused inside Chromium by a CDP ``Fetch`` filter on those resource types only, so Python
  hears of no other request.
- A page pool (``POOL``): creating and closing a page costs more CPU than the navigation that replaces
  it, so a captured page serves the next target of the same browser context. Contexts stay per batch
  (``crawlers.serve`` closes them, with their pages, when the batch is done): no cookie, storage or
  cache crosses a batch. A page that failed, crashed or was refused is closed, never pooled.
- A browser that dies (an OOM kill) is launched again for the next request; its contexts are made
  again from each request's options.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from playwright.async_api import Error as PlaywrightError
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Headers, HtmlResponse, Request, Response

log = logging.getLogger("crawlers.handler")

DEFAULT_CONTEXT = "default"
# Refused inside Chromium (CDP Fetch patterns): an endless stream, or bytes no reviewer needs.
REFUSED_TYPES = ("Media", "EventSource")


class PagePool:
    """The pages of each context (by name): at most ``limit`` alive per context, the idle ones handed
    to the next target of the same context, never to another context. Event-loop only (no locks)."""

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
_CDP: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()  # page -> its CDP session
_SHARED: weakref.WeakKeyDictionary[Crawler, CaptureHandler] = weakref.WeakKeyDictionary()
_BACKGROUND: set[asyncio.Future[Any]] = set()  # fire-and-forget work, referenced until done


async def cdp_session(page: Any) -> Any:
    """The page's CDP session, opened once per page (a pooled page keeps it across targets)."""
    session = _CDP.get(page)
    if session is None:
        session = _CDP[page] = await page.context.new_cdp_session(page)
    return session


async def refuse_streams(page: Any) -> None:
    """Media and event streams fail inside Chromium; only those requests reach Python."""
    cdp = await cdp_session(page)

    def paused(event: dict[str, Any]) -> None:
        in_background(cdp.send("Fetch.failRequest", {"requestId": event["requestId"], "errorReason": "BlockedByClient"}))

    cdp.on("Fetch.requestPaused", paused)
    await cdp.send("Fetch.enable", {"patterns": [{"urlPattern": "*", "resourceType": t} for t in REFUSED_TYPES]})


def in_background(coro: Any) -> None:
    """Run ``coro`` without waiting for it (from a callback that cannot await), kept referenced until
    done; its failure (a page closed meanwhile) is nobody's to hear."""
    task = asyncio.ensure_future(coro)
    _BACKGROUND.add(task)
    task.add_done_callback(_forget)


def _forget(task: asyncio.Future[Any]) -> None:
    _BACKGROUND.discard(task)
    if not task.cancelled():
        task.exception()


async def close_quietly(thing: Any, timeout: float = 5) -> None:
    """Close a page, a context or the browser, bounded; one that is gone already (or hangs) is no error."""
    try:
        await asyncio.wait_for(thing.close(), timeout=timeout)
    except Exception:
        pass


class CaptureHandler(BaseDownloadHandler):
    """Settings: ``CAPTURE_LAUNCH_OPTIONS`` (Playwright's ``chromium.launch``), ``CAPTURE_PAGES_PER_CONTEXT``.
    Request meta: ``context`` (a name), ``context_options`` (Playwright's ``new_context``), ``budget_ms``
    (every page operation's default timeout and the navigation's); it sets ``page`` (before navigating,
    so an errback can close it), ``redirect_urls``/``redirect_reasons`` and ``security_details``."""

    lazy = False

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.launch_options: dict[str, Any] = dict(crawler.settings.getdict("CAPTURE_LAUNCH_OPTIONS"))
        POOL.limit = crawler.settings.getint("CAPTURE_PAGES_PER_CONTEXT", 2)
        self.playwright: Any = None
        self.browser: Any = None
        self.contexts: dict[str, Any] = {}
        self._lock = asyncio.Lock()
        self._closed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptureHandler:
        handler = _SHARED.get(crawler)
        if handler is None:
            handler = _SHARED[crawler] = cls(crawler)
        return handler

    async def _context(self, name: str, options: dict[str, Any]) -> Any:
        async with self._lock:
            if self.browser is None or not self.browser.is_connected():
                await self._launch()
            ctx = self.contexts.get(name)
            if ctx is None:
                ctx = self.contexts[name] = await self.browser.new_context(**options)
                ctx.on("close", lambda c=ctx, n=name: self.contexts.pop(n, None) if self.contexts.get(n) is c else None)
            return ctx

    async def _launch(self) -> None:
        if self.playwright is None:
            from playwright.async_api import async_playwright

            self.playwright = await async_playwright().start()
        self.contexts.clear()
        self.browser = await self.playwright.chromium.launch(**self.launch_options)
        self.browser.on("disconnected", self._disconnected)
        log.info("browser started (%s)", self.browser.version)

    def _disconnected(self, browser: Any) -> None:
        if browser is self.browser:
            log.warning("the browser disconnected; the next target starts a new one")
            self._forget_browser(browser)

    def _forget_browser(self, browser: Any) -> None:
        if browser is self.browser:
            self.browser = None
            self.contexts.clear()
            POOL.idle.clear()

    async def _new_page(self, name: str, options: dict[str, Any]) -> Any:
        """A page of context ``name``. A browser killed under us (an OOM kill) fails its open pages
        before Playwright says it disconnected, and the next targets would meet its dead contexts:
        a context found dead is made again, then the browser, so they are captured by a new one."""
        for dead in ("context", "browser"):
            ctx = None
            try:
                ctx = await self._context(name, options)
                return await ctx.new_page()
            except PlaywrightError:
                async with self._lock:
                    if ctx is not None and self.contexts.get(name) is ctx:
                        del self.contexts[name]
                    if ctx is None or dead == "browser":  # it could not even make a context, or still fails
                        self._forget_browser(self.browser)
        return await (await self._context(name, options)).new_page()

    async def _page(self, name: str, options: dict[str, Any], budget_ms: int) -> Any:
        page = await POOL.acquire(name)
        if page is not None:
            return page
        page = None
        try:
            page = await self._new_page(name, options)
            page.set_default_timeout(budget_ms)
            await refuse_streams(page)
        except BaseException:
            POOL.failed(name)
            if page is not None:
                await close_quietly(page)
            raise
        POOL.created(name, page)
        return page

    async def download_request(self, request: Request) -> Response:
        meta = request.meta
        name = meta.get("context") or DEFAULT_CONTEXT
        budget_ms = int(meta.get("budget_ms") or 20000)
        page = await self._page(name, meta.get("context_options") or {}, budget_ms)
        meta["page"] = page
        response = await page.goto(request.url, wait_until="commit", timeout=budget_ms)
        if response is None:  # same-document navigation: not possible from about:blank, but typed so
            return HtmlResponse(url=page.url, status=200, body=b"", request=request, flags=["browser"])
        urls, reasons = [], []
        hop = response.request.redirected_from
        while hop is not None:
            answer = await hop.response()
            urls.append(hop.url)
            reasons.append(None if answer is None else answer.status)
            hop = hop.redirected_from
        if urls:
            meta["redirect_urls"], meta["redirect_reasons"] = urls[::-1], reasons[::-1]
        if response.url.lower().startswith("https:"):
            try:
                meta["security_details"] = await response.security_details()
            except Exception:  # the page navigated away meanwhile: no TLS facts, the capture goes on
                meta["security_details"] = None
        headers = Headers(await response.all_headers())
        headers.pop("Content-Encoding", None)  # the body is not Scrapy's to decode (there is none)
        return HtmlResponse(url=page.url, status=response.status, headers=headers, body=b"", request=request,
                            flags=["browser"])

    async def close(self) -> None:
        if self._closed:  # Scrapy closes the handler once per scheme it serves
            return
        self._closed = True
        POOL.idle.clear()
        for ctx in list(self.contexts.values()):
            await close_quietly(ctx)
        if self.browser is not None:
            await close_quietly(self.browser, timeout=10)
        if self.playwright is not None:
            await self.playwright.stop()
