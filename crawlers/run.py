"""The crawler process: ``python -m crawlers --job JOB.json --targets IN.jsonl --records OUT.jsonl``.

Every target gets exactly one record line, written as soon as it is known (so a crash mid-batch
loses nothing already captured). Evidence files land in the job's ``out_dir`` named by sha256.
The browser runs under Scrapy with its own Playwright handler (``crawlers.handler``); a target the browser could not capture is
fetched again over plain HTTP (no screenshot), and the record says why.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from crawlers import fallback, imaging
from crawlers.extract import host_of
from crawlers.gate import Gate
from crawlers.job import FLAGS, Job, Target
from crawlers.netguard import Policy

log = logging.getLogger("crawlers.run")

def error_kind(reason: str) -> str:
    r = reason.lower()
    if reason.startswith("refused") or "guard" in r:
        return "guard"
    if any(s in r for s in ("connection_refused", "connecterror", "connection refused", "tunnel_connection_failed",
                            "connection_reset", "connection_closed", "empty_response")):
        return "connect"
    if "name_not_resolved" in r or "name or service" in r:
        return "dns"
    if "redirects" in r:
        return "redirects"
    if "timeout" in r or "timed out" in r:
        return "timeout"
    if "cert" in r or "ssl" in r:
        return "tls"
    return "other"


def _clean(value: Any) -> Any:
    """Hostile pages carry lone surrogates and NULs in their text: neither survives a UTF-8 file or
    PostgreSQL JSON, so they become '?' and nothing, here, once."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


class RecordWriter:
    """Stores files by sha256 and appends one JSON line per target."""

    def __init__(self, job: Job, records: Path) -> None:
        self.job = job
        self.out = Path(job.out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.fh = records.open("a", encoding="utf-8")
        self.done: set[str] = set()
        self.browser_failures: dict[str, str] = {}
        self.lock = threading.Lock()  # pages are written from worker threads (off the event loop)
        # A long-lived crawler counts each batch down: called once per target the browser is done with.
        self.on_browser_done: Callable[[str], None] | None = None

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self.out / digest
        if not path.exists():
            # Pages are written from several threads at once: each write its own temporary name.
            tmp = path.with_name(f"{digest}.{threading.get_ident()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return digest

    def write(self, target: Target, record: dict[str, Any]) -> None:
        with self.lock:
            if target.id in self.done:
                return
            self.done.add(target.id)
        base = {"id": target.id, "url": target.url, "profile": target.profile}
        line = json.dumps(_clean({**base, **record}), ensure_ascii=False) + "\n"
        with self.lock:
            self.fh.write(line)
            self.fh.flush()
        if self.on_browser_done is not None:
            self.on_browser_done(target.id)

    def error(self, target: Target, reason: str, **extra: Any) -> None:
        self.write(target, {"ok": False, "error": reason, "error_kind": error_kind(reason), **extra})

    def browser_failed(self, target: Target, reason: str) -> None:
        log.warning("%s: %s", target.url, reason)
        self.browser_failures[target.id] = reason
        if self.on_browser_done is not None:
            self.on_browser_done(target.id)  # its fallback comes after the batch

    def page(self, target: Target, facts: dict[str, Any], *, browser: bool = True, fallback_reason: str = "") -> None:
        files: dict[str, str] = {}
        hashes: dict[str, Any] = {}
        for key, name in (("screenshot_png", "screenshot"), ("fullpage_png", "fullpage")):
            data = facts.pop(key, None)
            if data:
                files[name] = self.put(data)
                if name == "screenshot":
                    try:
                        hashes.update(imaging.image_hashes(imaging.open_image(data)))
                    except ValueError as e:
                        hashes["image_error"] = str(e)
        html = facts.pop("html", "") or ""
        if html:
            files["html"] = self.put(html.encode("utf-8"))
            hashes.update(imaging.html_hashes(html))
        favicon: dict[str, Any] = {"url": facts.pop("favicon_url", "")}
        icon = facts.pop("favicon_bytes", None)
        if icon:
            favicon.update(imaging.favicon_facts(icon))
            if "error" not in favicon:
                files["favicon"] = self.put(icon)
        text = facts.get("text", "")
        self.write(target, {
            "ok": True, "error": "", **facts, "text": text, "favicon": favicon, "files": files, "hashes": hashes,
            "browser_used": browser, "fallback_reason": fallback_reason,
            "final_host": host_of(facts.get("final_url", "")),
        })


def scrapy_settings(job: Job, schemes: set[str] | None = None, gate_url: str = "") -> dict[str, Any]:
    """Scrapy settings: the browser handler (``crawlers.handler``: one instance for every scheme the
    batch uses, so one Playwright driver and one browser) and the limits. Contexts are created on first
    use from each request's ``context_options``, which also recreates them, fully configured, after a
    browser restart."""
    root = os.geteuid() == 0
    sandbox = job.sandbox == "on" or (job.sandbox == "auto" and not root)
    if not sandbox:
        log.warning("Chromium sandbox is OFF (%s): run the crawler as an unprivileged user to turn it on",
                    "running as root" if root else "crawl.sandbox = off")
    launch: dict[str, Any] = {"executable_path": job.executable, "headless": True, "args": list(FLAGS),
                              "chromium_sandbox": sandbox, "timeout": 20000}
    if gate_url:
        # Every connection of the browser goes through the gate (loopback too: Chromium would
        # otherwise go direct to 127.0.0.1 and [::1]); the gate hands it on to job.proxy if any.
        launch["proxy"] = {"server": gate_url, "bypass": "<-loopback>"}
    elif job.proxy:
        launch["proxy"] = {"server": job.proxy}
    return {
        # One handler (one driver, one browser) for every scheme, and pages pooled (crawlers.handler);
        # no other scheme is fetched, so no other handler is loaded.
        "DOWNLOAD_HANDLERS": {s: "crawlers.handler.CaptureHandler" for s in (schemes or {"http", "https"})},
        "DOWNLOAD_HANDLERS_BASE": {},
        # Chromium does redirects, cookies, compression, headers and the proxy, and the response Scrapy
        # gets has no body: Scrapy's middlewares for those would act on nothing, at a cost per page.
        "DOWNLOADER_MIDDLEWARES_BASE": {},
        "SPIDER_MIDDLEWARES_BASE": {"scrapy.spidermiddlewares.start.StartSpiderMiddleware": 25},
        "EXTENSIONS_BASE": {"scrapy.extensions.corestats.CoreStats": 0},
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "CAPTURE_LAUNCH_OPTIONS": launch,
        "CAPTURE_PAGES_PER_CONTEXT": job.concurrency,
        "CONCURRENT_REQUESTS": job.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": job.concurrency,
        # Scrapy's defaults (1 GiB, 20 redirects, 180 s) are far too generous for hostile sites.
        "DOWNLOAD_MAXSIZE": job.max_bytes,
        "DOWNLOAD_WARNSIZE": job.max_bytes // 2,
        "REDIRECT_MAX_TIMES": job.max_redirects,
        "DOWNLOAD_TIMEOUT": int(job.page_timeout + 5),
        "RETRY_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "COOKIES_ENABLED": False,
        "HTTPERROR_ALLOW_ALL": True,  # a 404/410 page is evidence too (the site is gone)
        "REMOTE_CONTROL_ENABLED": False,  # Scrapy 2.19 runs a code-executing server otherwise
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "USER_AGENT": job.user_agents.get("desktop") or "Mozilla/5.0",
    }


def _crawl(job: Job, targets: list[Target], writer: RecordWriter, policy: Policy, gate: Gate) -> None:
    from scrapy.crawler import CrawlerProcess

    from crawlers.spiders import capture

    capture.GUARD.update(policy=policy, gate=gate)
    schemes = {t.url.split(":", 1)[0].lower() for t in targets}
    process = CrawlerProcess(settings=scrapy_settings(job, schemes, gate.url), install_root_handler=True)
    process.crawl(capture.CaptureSpider, job=job, targets=targets, writer=writer)
    process.start()


def _fallback(job: Job, target: Target, writer: RecordWriter, reason: str, policy: Policy, gate: Gate) -> None:
    ua = job.user_agents.get(target.profile, "")
    try:
        facts = fallback.fetch(job, target.url, ua, policy=policy, proxy=gate.url)
    except (httpx.HTTPError, OSError, ValueError) as e:
        writer.error(target, f"{reason}; plain HTTP failed too: {type(e).__name__}: {e}"[:600],
                     browser_used=False, fallback_reason=reason)
        return
    icon_url = facts.get("favicon_url", "")
    if icon_url.startswith("http"):
        facts["favicon_bytes"] = fallback.fetch_bytes(job, icon_url, ua, imaging.MAX_FAVICON_BYTES, policy=policy,
                                                      proxy=gate.url)
    writer.page(target, facts, browser=False, fallback_reason=reason)


def _capture_all(job: Job, allowed: list[Target], writer: RecordWriter, policy: Policy, gate: Gate) -> None:
    browser_ok = job.use_browser and Path(job.executable).exists()
    if browser_ok:
        try:
            _crawl(job, allowed, writer, policy, gate)
        except Exception as e:  # the browser layer failing must not lose the batch
            log.exception("the browser crawl failed")
            for t in allowed:
                writer.browser_failures.setdefault(t.id, f"browser crawl failed: {type(e).__name__}: {e}"[:300])
    after_browser(job, allowed, writer, policy, gate, browser_ok=browser_ok)


def after_browser(job: Job, allowed: list[Target], writer: RecordWriter, policy: Policy, gate: Gate, *,
                  browser_ok: bool) -> None:
    """What the browser did not capture: the gate's refusal, else the plain-HTTP fallback."""
    for t in allowed:
        if t.id in writer.done:
            continue
        refused = gate.refusal_for(t.url)
        if refused:
            writer.error(t, refused, browser_used=browser_ok)
            continue
        reason = writer.browser_failures.get(t.id) or (
            "browser disabled" if not job.use_browser else
            f"browser not found at {job.executable}" if not browser_ok else "the browser returned nothing")
        _fallback(job, t, writer, reason, policy, gate)


def run(job: Job, targets: list[Target], records: Path) -> dict[str, float]:
    t0 = time.monotonic()
    writer = RecordWriter(job, records)
    policy = job.policy()
    for t in targets:  # the watcher's DNS answers are judged and pinned, not looked up again
        if t.addresses and host_of(t.url):
            policy.known.setdefault(host_of(t.url), list(t.addresses))
    allowed: list[Target] = []
    for t in targets:
        why = policy.check_url(t.url).refusal
        if why:
            writer.error(t, why, browser_used=False)
        else:
            allowed.append(t)
    gate = Gate(policy, job.proxy).start() if allowed else None
    try:
        if allowed and gate is not None:
            _capture_all(job, allowed, writer, policy, gate)
    finally:
        if gate is not None:
            gate.stop()
    writer.fh.close()
    return {"targets": len(targets), "records": len(writer.done), "seconds": round(time.monotonic() - t0, 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m crawlers", description=__doc__)
    p.add_argument("--job", required=True)
    p.add_argument("--targets", required=True, help="JSON lines: {id, url, addresses, profile}")
    p.add_argument("--records", required=True, help="JSON lines out, one per target")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    job = Job.load(a.job)
    targets = [Target.parse(line) for line in Path(a.targets).read_text(encoding="utf-8").splitlines() if line.strip()]
    summary = run(job, targets, Path(a.records))
    print(json.dumps(summary), file=sys.stderr)
    return 0
