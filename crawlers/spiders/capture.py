"""The capture spider: a Playwright page per target (pooled), everything a reviewer needs kept as evidence.

Each target yields exactly one record through ``writer``: a page (browser, or the plain-HTTP
fallback run by ``crawlers.run`` when the browser failed), or an error. Navigation waits only for the
first bytes (``commit``); the page then gets a bounded time to settle and is stopped, so slow,
huge and endless pages end within the per-page budget instead of stalling the batch.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from typing import Any, Protocol

import scrapy
from scrapy.http import Response

from crawlers import fallback
from crawlers.extract import finish_forms, host_of
from crawlers.handler import DEFAULT_CONTEXT, POOL, cdp_session, close_quietly, in_background
from crawlers.imaging import MAX_FAVICON_BYTES
from crawlers.job import Job, Target, context_options
from crawlers.netguard import Policy

log = logging.getLogger("crawlers.capture")

# Set by crawlers.run before the crawl; the abort predicate is loaded by path, so it reads this.
GUARD: dict[str, Any] = {"policy": Policy(), "gate": None}

# One round trip from "loaded" to "ready for the screenshot": settle (no resource finished for
# ``quiet`` ms, within ``max``), stop the page, read what a reviewer needs, then prepare the screenshot
# as Playwright's ``animations="disabled"`` does (finite animations finished, infinite ones cancelled,
# fonts given a moment; the caret is left alone: hiding it writes a style into the markup kept as
# evidence, and a caret is a pixel column to an 8x8 hash). Playwright's screenshot would do the last part in every
# frame with four more round trips; the page's HTML is read apart (``markup_of``), serialised by Chromium
# itself, so a page cannot forge its own markup through a patched prototype.
CAPTURE_JS = """async (o) => {
  if (o.settle) {
    await new Promise((done) => {
      const start = performance.now();
      let timer = null, obs = null;
      const finish = () => { try { obs.disconnect(); } catch (e) {} done(true); };
      const again = () => {
        clearTimeout(timer);
        timer = setTimeout(finish, Math.max(0, Math.min(o.quiet, o.max - (performance.now() - start))));
      };
      try { obs = new PerformanceObserver(again); obs.observe({type: 'resource', buffered: false}); } catch (e) {}
      again();
    });
  }
  try { window.stop(); } catch (e) {}
  const skip = ['hidden', 'submit', 'button', 'image', 'reset'];
  const field = (i) => ({type: (i.type || 'text').toLowerCase(), name: i.name || '', id: i.id || '',
    label: [((i.labels && i.labels[0]) ? i.labels[0].innerText : ''), i.placeholder || '',
            i.getAttribute('aria-label') || ''].join(' ').trim().slice(0, 80)});
  const forms = [...document.forms].slice(0, 50).map(f => ({
    action: f.getAttribute('action') || '', method: f.getAttribute('method') || 'get',
    fields: [...f.querySelectorAll('input,select,textarea')]
      .filter(i => !skip.includes((i.type || '').toLowerCase())).slice(0, 30).map(field)}));
  const loose = [...document.querySelectorAll('input[type=password]')].filter(i => !i.form);
  if (loose.length) forms.push({action: '', method: 'script', fields: loose.slice(0, 10).map(field)});
  const body = document.body;
  const text = body ? (body.innerText || '').slice(0, o.maxText) : '';
  const links = [...new Set([...document.links].slice(0, o.maxLinks * 2).map(a => a.href)
    .filter(h => h.startsWith('http')))].slice(0, o.maxLinks);
  const resources = performance.getEntriesByType('resource').slice(0, 500).map(e => e.name);
  const images = [...document.images].slice(0, 50).map(img => {
    const r = img.getBoundingClientRect();
    return {src: img.currentSrc || img.src || '', alt: img.alt || '', x: Math.round(r.x + scrollX),
            y: Math.round(r.y + scrollY), w: Math.round(r.width), h: Math.round(r.height)};
  });
  const icon = document.querySelector('link[rel~="icon"]');
  try {
    for (const a of document.getAnimations().slice(0, 1000)) {
      if (!a.effect || a.playbackRate === 0) continue;
      try { Number.isFinite(a.effect.getComputedTiming().endTime) ? a.finish() : a.cancel(); } catch (e) {}
    }
    await Promise.race([document.fonts.ready, new Promise((r) => setTimeout(r, o.fontsMs))]);
  } catch (e) {}
  const de = document.documentElement;
  return {title: document.title || '', forms, text, links, resources, images,
          favicon_url: icon ? icon.href : new URL('/favicon.ico', location.href).href,
          height: Math.max(de ? de.scrollHeight : 0, body ? body.scrollHeight : 0)};
}"""
QUIET_MS = 200
FONTS_MS = 500


async def recycle(page: Any, context: str) -> None:
    """Put a captured page back in the pool as a new tab would be: its document replaced by
    about:blank (the hostile page's scripts and timers end with it), ``window.name`` emptied (Chromium
    carries it across sites in one tab: a kit could mark the crawler for the next site) and the tab's
    history reset (a long ``history.length`` says "crawler"). Anything failing closes the page."""
    try:
        await asyncio.wait_for(_blank(page), timeout=5)
    except Exception:
        await close_quietly(page)
        return
    POOL.put(context, page)


async def _blank(page: Any) -> None:
    await page.goto("about:blank", wait_until="commit")
    await page.evaluate("() => { window.name = ''; }")
    await (await cdp_session(page)).send("Page.resetNavigationHistory")


async def markup_of(page: Any) -> str:
    """The page's HTML as it is now (doctype included), serialised by Chromium itself (CDP
    ``DOM.getOuterHTML``): a page cannot forge it through a patched prototype, and no script of
    Playwright's has to be injected into every new document to read it, as ``page.content()`` does."""
    cdp = await cdp_session(page)
    root = (await cdp.send("DOM.getDocument", {"depth": 0}))["root"]
    return str((await cdp.send("DOM.getOuterHTML", {"nodeId": root["nodeId"]}))["outerHTML"])


async def screenshots(page: Any, vw: int, vh: int, height: int) -> tuple[bytes, bytes]:
    """(viewport, full page) PNGs; one capture when the page fits the viewport (the full page is the
    viewport then). Straight from CDP with ``optimizeForSpeed``: a faster zlib setting, still lossless,
    so the pixels and every image hash are those of a default PNG (the file is about a quarter
    larger); Playwright's screenshot cannot ask for it and spends more round trips (see CAPTURE_JS)."""
    cdp = await cdp_session(page)
    shot = base64.b64decode((await cdp.send("Page.captureScreenshot",
                                            {"format": "png", "optimizeForSpeed": True}))["data"])
    if height <= vh:
        return shot, shot
    full = base64.b64decode((await cdp.send("Page.captureScreenshot", {
        "format": "png", "optimizeForSpeed": True, "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": vw, "height": height, "scale": 1}}))["data"])
    return shot, full


class Writer(Protocol):
    def put(self, data: bytes) -> str: ...
    def error(self, target: Target, reason: str, **extra: Any) -> None: ...
    def page(self, target: Target, facts: dict[str, Any]) -> None: ...
    def browser_failed(self, target: Target, reason: str) -> None: ...


class CaptureSpider(scrapy.Spider):
    name = "capture"

    def __init__(self, job: Job, targets: list[Target], writer: Writer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.targets = targets
        self.writer = writer

    async def start(self) -> Any:  # Scrapy 2.13+: start_requests() is ignored
        for t in self.targets:
            yield self.request_for(t)

    def request_for(self, t: Target, *, context: str = "", writer: Writer | None = None) -> scrapy.Request:
        """The browser request of one target, in the browser context of its profile (``context``
        names a fresh one: a long-lived crawler recycles contexts batch by batch)."""
        ms = int(self.job.page_timeout * 1000)
        contexts = context_options(self.job)
        profile = t.profile if t.profile in contexts else "desktop"
        meta: dict[str, Any] = {
            "target": t, "started": time.monotonic(), "budget_ms": ms, "context": context or profile,
            "context_options": contexts[profile], "download_timeout": self.job.page_timeout + 5,
        }
        if writer is not None:
            meta["writer"] = writer
        return scrapy.Request(t.url, callback=self.parse_page, errback=self.on_error, dont_filter=True, meta=meta)

    def writer_for(self, meta: dict[str, Any]) -> Writer:
        """The batch's writer: the spider's own, or the request's when a long-lived crawler serves
        many batches (``crawlers.serve``)."""
        return meta.get("writer") or self.writer

    async def parse_page(self, response: Response) -> None:
        target: Target = response.meta["target"]
        page = response.meta["page"]
        self.page_opened(response.meta, page)
        writer = self.writer_for(response.meta)
        remaining = self.job.page_timeout - (time.monotonic() - response.meta["started"])
        hops = response.meta.get("redirect_urls") or []
        gate = GUARD["gate"]
        refused = gate.refusal_for(target.url, *hops, response.url, page.url) if gate is not None else ""
        if refused:  # the gate refused a hop of the main frame: the page shown is its 403, not evidence
            await close_quietly(page)
            writer.error(target, refused, redirects=[{"url": u} for u in hops[: self.job.max_redirects + 1]],
                              browser_used=True)
            return
        if len(hops) > self.job.max_redirects:
            # Chromium follows redirects before our route handler sees them: enforce the cap here.
            await close_quietly(page)
            writer.error(target, f"more than {self.job.max_redirects} redirects ({len(hops)})",
                              redirects=[{"url": u} for u in hops[: self.job.max_redirects + 1]],
                              browser_used=True)
            return
        try:
            facts = await asyncio.wait_for(self._capture(page, response), timeout=max(remaining, 3.0))
        except Exception as e:  # any failure of one page becomes that page's record
            reason = f"{type(e).__name__}: {e}".strip()[:300] or type(e).__name__
            writer.browser_failed(target, f"browser capture failed: {reason}")
            await close_quietly(page)  # a page that failed is never reused
            return
        # Captured: the page is blanked for the next target of its context (crawlers.handler) while a
        # thread hashes the screenshots and writes the evidence (CPU and disk work, off the event
        # loop; the writer is thread-safe).
        recycled = asyncio.ensure_future(recycle(page, response.meta.get("context") or DEFAULT_CONTEXT))
        await asyncio.to_thread(writer.page, target, facts)
        await recycled

    async def _capture(self, page: Any, response: Response) -> dict[str, Any]:
        job = self.job
        t0 = time.monotonic()
        settle_ms = int(job.settle * 1000)
        # Let the page load and settle for a bounded time; endless pages never fire "load".
        # "load" gets a good part of the budget (images must be painted before the screenshot, even on
        # a busy machine); endless pages never fire it and simply spend that part.
        load_ms = int(max(settle_ms * 2, 3000, job.page_timeout * 400))
        loaded = False
        if load_ms > 0:  # Playwright reads a timeout of 0 as "no timeout"
            try:
                await page.wait_for_load_state("load", timeout=load_ms)
                loaded = True
            except Exception:  # a timeout here is normal for hostile pages
                pass
        opts = {"settle": loaded and settle_ms > 0, "quiet": min(QUIET_MS, settle_ms), "max": settle_ms,
                "maxText": job.max_text, "maxLinks": job.max_links, "fontsMs": FONTS_MS}
        facts: dict[str, Any]
        try:
            facts = await asyncio.wait_for(page.evaluate(CAPTURE_JS, opts), timeout=settle_ms / 1000 + 3)
        except Exception:  # e.g. a script navigated the page while it settled: take it as it is now
            facts = await page.evaluate(CAPTURE_JS, {**opts, "settle": False})
        log.debug("extracted %.2fs", time.monotonic() - t0)
        # The favicon is fetched (same proxy, guarded, capped) while the screenshots are taken.
        favicon_url = facts.pop("favicon_url", "")
        ua = job.user_agents.get(response.meta["target"].profile, "")
        gate = GUARD["gate"]
        favicon_task = (asyncio.ensure_future(asyncio.to_thread(
            fallback.fetch_bytes, job, favicon_url, ua, MAX_FAVICON_BYTES, policy=GUARD["policy"],
            proxy=gate.url if gate is not None else job.proxy))
                        if favicon_url.startswith("http") else None)
        html = await markup_of(page)
        log.debug("content %.2fs", time.monotonic() - t0)
        raw_html = html.encode("utf-8", "replace")
        truncated = len(raw_html) > job.max_bytes
        html = raw_html[: job.max_bytes].decode("utf-8", "ignore")
        vw, vh = page.viewport_size["width"], page.viewport_size["height"]
        height = min(int(facts.pop("height", vh) or vh), job.max_page_height)
        shot, full = await screenshots(page, vw, vh, height)
        log.debug("screenshots %.2fs", time.monotonic() - t0)
        favicon = await favicon_task if favicon_task is not None else None
        final_url = page.url
        redirects = [{"url": u, "status": s} for u, s in zip(response.meta.get("redirect_urls", []),
                                                             response.meta.get("redirect_reasons", []),
                                                             strict=False)]
        resources = facts.pop("resources", [])
        return {
            **facts,
            "final_url": final_url,
            "status": response.status,
            "redirects": redirects,
            "headers": {k.decode("latin-1").lower(): b", ".join(v).decode("latin-1")[:500]
                        for k, v in list(response.headers.items())[:60]},
            "tls": _tls(response.meta.get("security_details")),
            "forms": finish_forms(facts.get("forms", []), final_url),
            "resource_hosts": sorted({h for h in map(host_of, resources) if h} - {""}),
            "html": html,
            "truncated": truncated,
            "screenshot_png": shot,
            "fullpage_png": full,
            "favicon_url": favicon_url,
            "favicon_bytes": favicon,
            "browser_seconds": round(time.monotonic() - t0, 3),
        }

    def page_opened(self, meta: dict[str, Any], page: Any) -> None:
        """A hook for ``crawlers.serve`` (which recycles a batch's browser contexts after it)."""

    def on_error(self, failure: Any) -> None:
        request = failure.request
        target: Target = request.meta["target"]
        page = request.meta.get("page")
        if page is not None:
            in_background(close_quietly(page))
        err = failure.value
        gate = GUARD["gate"]
        refused = gate.refusal_for(target.url, request.url) if gate is not None else ""
        writer = self.writer_for(request.meta)
        if refused:  # the navigation failed because the gate refused its host (an https tunnel)
            writer.error(target, refused, browser_used=True)
            return
        writer.browser_failed(target, f"browser failed: {type(err).__name__}: {str(err).splitlines()[0][:300]}"
                                   if str(err) else f"browser failed: {type(err).__name__}")


def _tls(details: dict[str, Any] | None) -> dict[str, Any]:
    if not details:
        return {}
    import datetime as dt

    def ts(v: Any) -> str:
        try:
            return dt.datetime.fromtimestamp(float(v), dt.UTC).isoformat()
        except (TypeError, ValueError, OverflowError):
            return ""

    return {"issuer": details.get("issuer", ""), "names": [details.get("subjectName", "")],
            "not_before": ts(details.get("validFrom")), "not_after": ts(details.get("validTo")),
            "protocol": details.get("protocol", "")}
