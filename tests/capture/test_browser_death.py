"""The browser dies mid-batch (its process is killed, as an OOM kill would): every target still gets
a record, and later pages are captured by a restarted browser."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.capture.conftest import needs_browser
from watcher.capture.crawl import capture_batch

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_browser]


def _descendants(pid: int) -> list[int]:
    """Our own descendant processes, from /proc (only processes this test started are touched)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _browser_pids(kind: bytes = b"") -> list[int]:
    """Main browser processes (kind b""), or its children of one --type (b"renderer")."""
    pids = []
    for p in _descendants(os.getpid()):
        try:
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        # Chromium's children rewrite their command line into one string; the main process keeps argv
        # and has no --type= (renderers, zygotes, utilities do).
        joined = b" ".join(cmd)
        if kind:
            if b"--type=" + kind in joined:
                pids.append(p)
        elif cmd[0].endswith((b"chromium", b"chromium-headless-shell")) and b"--type=" not in joined:
            pids.append(p)
    return pids


def test_a_killed_browser_is_restarted_and_no_target_is_lost(lab: tuple[Any, Any, Any, Any]) -> None:
    ctx, web, _dns, _rdap = lab
    for i in range(8):
        web.publish(f"slow{i}.test", "slow", delay=1.5)
    killed: list[int] = []

    def killer() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            if _browser_pids(b"renderer"):  # pages are open: kill the browser under them
                time.sleep(0.3)
                for p in _browser_pids():
                    os.kill(p, signal.SIGKILL)
                    killed.append(p)
            time.sleep(0.1)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    targets = [{"id": str(i), "url": f"http://slow{i}.test/", "addresses": [], "profile": "desktop"} for i in range(8)]
    records = capture_batch(ctx, targets)
    t.join(5)
    assert killed, "the browser was never seen"
    assert [r["id"] for r in records] == [str(i) for i in range(8)]
    assert all(r["ok"] for r in records), [r.get("error") for r in records]
    assert any(not r["browser_used"] and "browser" in r["fallback_reason"] for r in records)  # the victims
    assert any(r["browser_used"] for r in records[4:])  # a new browser took over
