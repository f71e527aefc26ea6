"""The long-lived crawler: ``python -m crawlers --serve --job JOB.json``, one browser for many batches.

A worker captures batch after batch; starting Scrapy, Playwright and Chromium for each costs seconds
per batch. Served, the process starts them once, then reads batches as JSON lines on stdin
(``{"batch": id, "targets": path, "records": path, "out_dir": path}``) and answers each with one line
on stdout (``{"done": id, ...}``) once every target of it has its record. Each batch is guarded
exactly as a one-shot run (``crawlers.run``): its targets judged by the same ``Policy`` (the
watcher's DNS answers pinned), every connection of the browser through the same ``Gate``, the
browser's failures fetched again over plain HTTP through that gate. Each batch gets fresh browser
contexts (named per batch), closed once it is done: no cookie, cache or service worker of one
batch's hostile pages reaches the next. EOF on stdin ends the process.

The watcher kills the process when a batch must stop (a job's deadline, SIGTERM) or runs past its
budget; the next batch starts a new one. A crash loses only the batch in progress: its records so
far are in its records file.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawlers.extract import host_of
from crawlers.gate import Gate
from crawlers.handler import DEFAULT_CONTEXT, POOL, close_quietly
from crawlers.job import Job, Target
from crawlers.netguard import Policy
from crawlers.run import RecordWriter, after_browser, scrapy_settings
from crawlers.spiders.capture import GUARD, CaptureSpider

log = logging.getLogger("crawlers.serve")


@dataclass
class Batch:
    id: str
    writer: RecordWriter
    allowed: list[Target]
    pending: set[str]
    started: float = field(default_factory=time.monotonic)
    contexts: list[Any] = field(default_factory=list)
    context_names: set[str] = field(default_factory=set)


class ServeSpider(CaptureSpider):
    name = "capture-serve"

    def __init__(self, job: Job, policy: Policy, gate: Gate, **kwargs: Any) -> None:
        super().__init__(job=job, targets=[], writer=None, **kwargs)  # type: ignore[arg-type]
        self.policy = policy
        self.gate = gate
        self.inbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.batches: dict[str, Batch] = {}
        self.count = 0
        self.finishing: set[asyncio.Future[None]] = set()
        self.browser_ok = job.use_browser and Path(job.executable).exists()

    def _read_stdin(self, loop: asyncio.AbstractEventLoop) -> None:
        for line in sys.stdin:
            if line.strip():
                try:
                    loop.call_soon_threadsafe(self.inbox.put_nowait, json.loads(line))
                except json.JSONDecodeError:
                    log.error("not a batch line: %r", line[:200])
        loop.call_soon_threadsafe(self.inbox.put_nowait, None)

    async def start(self) -> Any:
        self.loop = asyncio.get_running_loop()
        threading.Thread(target=self._read_stdin, args=(self.loop,), daemon=True, name="serve-stdin").start()
        while True:
            msg = await self.inbox.get()
            if msg is None:
                return
            batch = self._open(msg)
            for t in batch.allowed if self.browser_ok else []:
                yield self.request_for(t, context=f"{t.profile}-{batch.id}", writer=batch.writer)
            if not batch.pending or not self.browser_ok:
                self._keep(self._finish(batch))

    def _open(self, msg: dict[str, Any]) -> Batch:
        self.count += 1
        bid = str(msg.get("batch") or self.count)
        job = Job(**{**self.job.__dict__, "out_dir": str(msg["out_dir"])})
        writer = RecordWriter(job, Path(msg["records"]))
        targets = [Target.parse(line) for line in Path(msg["targets"]).read_text(encoding="utf-8").splitlines()
                   if line.strip()]
        for t in targets:  # this batch's DNS answers are judged and pinned, as in a one-shot run
            if t.addresses and host_of(t.url):
                self.policy.known[host_of(t.url)] = list(t.addresses)
        allowed: list[Target] = []
        for t in targets:
            why = self.policy.check_url(t.url).refusal
            if why:
                writer.error(t, why, browser_used=False)
            else:
                allowed.append(t)
        batch = Batch(bid, writer, allowed, {t.id for t in allowed} if self.browser_ok else set())
        self.batches[bid] = batch

        def browser_done(target_id: str, b: Batch = batch) -> None:  # any thread: counted on the loop
            self.loop.call_soon_threadsafe(self._browser_done, b, target_id)

        writer.on_browser_done = browser_done
        return batch

    def _browser_done(self, batch: Batch, target_id: str) -> None:
        batch.pending.discard(target_id)
        if not batch.pending and self.batches.pop(batch.id, None) is not None:
            self._keep(self._finish(batch, popped=True))

    def _keep(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.finishing.add(task)  # referenced until done
        task.add_done_callback(self.finishing.discard)

    def page_opened(self, meta: dict[str, Any], page: Any) -> None:
        writer = meta.get("writer")
        for b in self.batches.values():
            if b.writer is writer and page.context not in b.contexts:
                b.contexts.append(page.context)
            if b.writer is writer:
                b.context_names.add(meta.get("context") or DEFAULT_CONTEXT)

    async def _finish(self, batch: Batch, popped: bool = False) -> None:
        if not popped and self.batches.pop(batch.id, None) is None:
            return
        batch.writer.on_browser_done = None
        try:
            await asyncio.to_thread(after_browser, self.job, batch.allowed, batch.writer, self.policy, self.gate,
                                    browser_ok=self.browser_ok)
        except Exception:  # a failure here must still answer the batch (its records so far stand)
            log.exception("batch %s: the fallback failed", batch.id)
        for name in batch.context_names:  # its pooled pages close with its contexts
            POOL.forget(name)
        for ctx in batch.contexts:
            await close_quietly(ctx)
        batch.writer.fh.close()
        log.info("batch %s done: %d records; %d pages reused by this crawler so far", batch.id,
                 len(batch.writer.done), POOL.reused)
        print(json.dumps({"done": batch.id, "records": len(batch.writer.done),
                          "seconds": round(time.monotonic() - batch.started, 2)}), flush=True)


def serve(job: Job) -> int:
    from scrapy.crawler import CrawlerProcess

    policy = job.policy()
    gate = Gate(policy, job.proxy).start()
    GUARD.update(policy=policy, gate=gate)
    try:
        process = CrawlerProcess(settings=scrapy_settings(job, {"http", "https"}, gate.url),
                                 install_root_handler=True)
        process.crawl(ServeSpider, job=job, policy=policy, gate=gate)
        # What exists now (Scrapy, Twisted, Playwright, numpy, the settings) lives as long as the process:
        # frozen, no full collection walks it again (about 7% of the crawler's Python CPU on the lab).
        gc.freeze()
        process.start()
    finally:
        gate.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m crawlers --serve", description=__doc__.splitlines()[0] if __doc__ else "")
    p.add_argument("--serve", action="store_true", required=True)
    p.add_argument("--job", required=True)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return serve(Job.load(a.job))
