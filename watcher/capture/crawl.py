"""Running the crawler: one subprocess per batch, targets in, records and evidence files out.

The crawler (``crawlers/``) is its own process because Scrapy's reactor cannot restart inside one
process and a crashed browser must not take the service down. This module writes the job file from
``[crawl]`` settings, runs ``python -m crawlers``, stores the files it produced in the evidence store
(sha256-addressed, so a file seen twice is stored once) and returns one record per target, whatever
happened to the process.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from watcher.context import Context
from watcher.core.config import ROOT, Settings

log = logging.getLogger("omamori.capture")


def job_dict(settings: Settings, out_dir: Path) -> dict[str, Any]:
    """The crawler's job file (crawlers/job.py reads these keys; the two sides share only JSON)."""
    c = settings.crawl
    lab = settings.service.lab_mode
    return {
        "out_dir": str(out_dir),
        "executable": str(c.browser_executable),
        "sandbox": c.sandbox,
        "lab_mode": lab,
        "proxy": c.proxy,
        "allow_addresses": list(c.allow_addresses),
        "nameservers": [f"{ns}:{settings.dns.port}" for ns in settings.dns.nameservers],
        "dns_timeout": settings.dns.timeout * (settings.dns.retries + 1),
        "ca_file": str(settings.path(c.ca_file)) if c.ca_file else "",
        # Chromium cannot take a CA file: in the lab (or when configured) it skips verification; the
        # certificate it saw is still recorded, and the plain-HTTP fallback verifies with the CA file.
        "ignore_https_errors": bool(c.ignore_https_errors or lab),
        "user_agents": {"desktop": c.user_agent_desktop, "mobile": c.user_agent_mobile},
        "viewport": [c.viewport_width, c.viewport_height],
        "page_timeout": c.page_timeout_seconds,
        "settle": c.settle_seconds,
        "max_bytes": c.max_bytes,
        "max_redirects": c.max_redirects,
        "max_page_height": c.max_page_height,
        "concurrency": c.concurrency,
    }


def _error(target: dict[str, Any], reason: str, kind: str = "crawler") -> dict[str, Any]:
    return {"id": target["id"], "url": target["url"], "profile": target.get("profile", "desktop"), "ok": False,
            "error": reason, "error_kind": kind, "browser_used": False}


def capture_batch(ctx: Context, targets: list[dict[str, Any]], *, use_browser: bool = True) -> list[dict[str, Any]]:
    """Capture every target ({id, url, addresses, profile}); one record per target, in order."""
    if not targets:
        return []
    settings = ctx.settings
    with tempfile.TemporaryDirectory(prefix="omamori-crawl-") as tmp:
        work = Path(tmp)
        job = job_dict(settings, work / "files")
        job["use_browser"] = use_browser
        (work / "job.json").write_text(json.dumps(job), encoding="utf-8")
        (work / "targets.jsonl").write_text(
            "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in targets), encoding="utf-8")
        records_path = work / "records.jsonl"
        per_page = settings.crawl.page_timeout_seconds + 20
        budget = 60 + per_page * len(targets) / max(1, settings.crawl.concurrency) * 2
        if ctx.keep_crawler and use_browser:
            t0 = time.monotonic()
            problem = _served(ctx, job, work, records_path, budget)
            log.info("captured %d targets in %.1f s (long-lived crawler)", len(targets), time.monotonic() - t0)
            return _collect(ctx, targets, work, records_path, problem)
        cmd = [sys.executable, "-m", "crawlers", "--job", str(work / "job.json"),
               "--targets", str(work / "targets.jsonl"), "--records", str(records_path)]
        t0 = time.monotonic()
        problem = ""
        ctx.run.check()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The crawler writes each record as soon as it has it; a run that must stop ends the
        # crawler at once (the records so far are kept) and the rest of the batch stays due.
        with ctx.run.aborting(proc.terminate):
            stderr = ""
            stopped_at = 0.0
            while True:
                try:
                    _out, stderr = proc.communicate(timeout=0.5)
                    break
                except subprocess.TimeoutExpired:
                    if ctx.run.stopping:
                        # SIGTERM asks Scrapy to close its browser; a second one makes it hurry; a
                        # crawler still there 3 s later is killed.
                        stopped_at = stopped_at or time.monotonic()
                        if time.monotonic() - stopped_at > 3:
                            proc.kill()
                        else:
                            proc.terminate()
                    elif time.monotonic() - t0 > budget:
                        proc.kill()
                        _out, stderr = proc.communicate()
                        problem = f"crawler batch exceeded {budget:.0f} s and was stopped"
                        break
            if proc.returncode != 0 and not problem and not ctx.run.stopping:
                problem = f"crawler exited with {proc.returncode}: {stderr.strip()[-300:]}"
            for line in stderr.splitlines():
                if " WARNING " in line or " ERROR " in line:
                    log.info("crawler: %s", line[-400:])
        log.info("captured %d targets in %.1f s", len(targets), time.monotonic() - t0)
        return _collect(ctx, targets, work, records_path, problem)


def _collect(ctx: Context, targets: list[dict[str, Any]], work: Path, records_path: Path,
             problem: str) -> list[dict[str, Any]]:
    ctx.run.check()  # stopped mid-batch: nothing of it is recorded, and its candidates stay due
    by_id: dict[str, dict[str, Any]] = {}
    if records_path.exists():
        for line in records_path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash
            by_id.setdefault(str(rec.get("id")), rec)
    out = []
    for t in targets:
        rec = by_id.get(str(t["id"])) or _error(t, problem or "the crawler returned no record for this target")
        _store_files(ctx, work / "files", rec)
        out.append(rec)
    return out


# ---------------------------------------------------------------- the long-lived crawler


class CrawlerServer:
    """One ``python -m crawlers --serve`` process: one browser for batch after batch (a worker's
    task slot keeps one). Killed when a batch must stop or runs past its budget; the next batch
    starts a new one."""

    def __init__(self, job: dict[str, Any], *, prefix: tuple[str, ...] = ()) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="omamori-crawler-"))
        (self.dir / "job.json").write_text(json.dumps(job), encoding="utf-8")
        self.stderr_path = self.dir / "stderr.log"
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", "crawlers", "--serve", "--job", str(self.dir / "job.json")], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr_path.open("wb"), text=True, bufsize=1)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True, name="crawler-stdout").start()
        self.batches = 0
        self.used_at = time.monotonic()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr_tail(self) -> str:
        try:
            return self.stderr_path.read_text(encoding="utf-8", errors="replace")[-300:].strip()
        except OSError:
            return ""

    def batch(self, ctx: Context, targets: Path, records: Path, out_dir: Path, budget: float) -> str:
        """Run one batch; "" when done, else what went wrong (the records so far stand)."""
        self.batches += 1
        bid = str(self.batches)
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps({"batch": bid, "targets": str(targets), "records": str(records),
                                              "out_dir": str(out_dir)}) + "\n")
            self.proc.stdin.flush()
        except OSError as e:
            return f"the crawler is gone: {e}; {self.stderr_tail()}"
        t0 = time.monotonic()
        with ctx.run.aborting(self.kill):
            while True:
                try:
                    line = self.lines.get(timeout=0.5)
                except queue.Empty:
                    if ctx.run.stopping:
                        self.kill()
                        return "stopped"
                    if time.monotonic() - t0 > budget:
                        self.kill()
                        return f"crawler batch exceeded {budget:.0f} s and was stopped"
                    continue
                if line is None:
                    return f"crawler exited with {self.proc.wait()}: {self.stderr_tail()}"
                try:
                    msg = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if str(msg.get("done")) == bid:
                    self.used_at = time.monotonic()
                    return ""

    def kill(self) -> None:
        if self.alive:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def close(self) -> None:
        """EOF: the crawler finishes and exits (its browser closes)."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


_IDLE: dict[str, list[CrawlerServer]] = {}  # job settings -> idle long-lived crawlers
_IDLE_LOCK = threading.Lock()
IDLE_SECONDS = 600.0  # an idle crawler (and its browser) is closed after this


def _served(ctx: Context, job: dict[str, Any], work: Path, records: Path, budget: float) -> str:
    key = json.dumps({k: v for k, v in job.items() if k != "out_dir"}, sort_keys=True)
    server = None
    with _IDLE_LOCK:
        now = time.monotonic()
        for k, idle in list(_IDLE.items()):
            for old in [sv for sv in idle if now - sv.used_at > IDLE_SECONDS or not sv.alive]:
                idle.remove(old)
                threading.Thread(target=old.close, daemon=True).start()
            if not idle:
                _IDLE.pop(k)
        pool = _IDLE.get(key) or []
        if pool:
            server = pool.pop()
    ctx.run.check()
    server = server or CrawlerServer(job)
    problem = server.batch(ctx, work / "targets.jsonl", records, work / "files", budget)
    if not problem and server.alive:
        with _IDLE_LOCK:
            _IDLE.setdefault(key, []).append(server)
    else:
        server.kill()
        if problem == "stopped":
            problem = ""
    return problem


@atexit.register
def _close_all() -> None:
    with _IDLE_LOCK:
        servers = [sv for idle in _IDLE.values() for sv in idle]
        _IDLE.clear()
    for sv in servers:
        sv.kill()


def _store_files(ctx: Context, files_dir: Path, rec: dict[str, Any]) -> None:
    """Move the record's files into the evidence store; drop references to files that are missing."""
    files = rec.get("files") or {}
    for name, digest in list(files.items()):
        src = files_dir / str(digest)
        if not src.exists():
            files.pop(name)
            continue
        stored = ctx.evidence.put(src.read_bytes())
        if stored != digest:  # never trust a name over the content
            files[name] = stored


async def _resolve(ctx: Context, host: str) -> tuple[list[str], dict[str, Any]]:
    prof = await ctx.resolver.profile(host, ("A", "AAAA", "CNAME"))
    return prof.addresses, prof.as_dict()


def capture_url(ctx: Context, url: str, profile: str = "desktop") -> dict[str, Any]:
    """Capture one URL now (resolving its host with the configured resolver first)."""
    import asyncio
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    addresses: list[str] = []
    if host:
        try:
            addresses, _ = asyncio.run(_resolve(ctx, host))
        except Exception as e:  # a broken resolver must not stop a one-off capture; the crawler resolves
            log.info("resolving %s failed: %s", host, e)
    return capture_batch(ctx, [{"id": "1", "url": url, "addresses": addresses, "profile": profile}])[0]
