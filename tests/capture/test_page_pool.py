"""The crawler's page pool and its one browser: a page captured is blanked and serves the next target
of its batch's context, looking to that target like a new tab; http and https share one Playwright
driver and one Chromium."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bench._cpu import _label, _tree
from tests.capture.conftest import needs_browser
from watcher.capture import crawl
from watcher.capture.crawl import capture_batch
from watcher.core.runcontrol import RunControl

pytestmark = [pytest.mark.browser, needs_browser]

# Marks the tab for whatever site comes next, and keeps at it on a timer.
MARKER = ("<html><head><title>marker</title></head><body><p>marker</p><script>"
          "window.name = 'crawler-seen-by-marker'; setInterval(() => { window.name = 'still-marking'; }, 5);"
          "</script></body></html>")
# Says what the tab carries over: window.name and the length of its history.
REPORTER = ("<html><head><title>-</title></head><body><script>"
            "document.title = 'name=' + window.name + ' history=' + history.length;</script></body></html>")


def test_one_page_serves_the_batch_each_target_seeing_a_new_tab(lab: tuple[Any, Any, Any, Any]) -> None:
    ctx, web, _dns, _rdap = lab
    web.publish("pool-marker.test", "page", body=MARKER)
    web.publish("pool-clone.test", "clone-exact")
    web.publish("pool-reporter.test", "page", body=REPORTER)
    web.publish("pool-gone.test", "gone")
    served = ctx.for_run(RunControl("test"))
    served.settings = ctx.settings.model_copy(deep=True)
    served.settings.crawl.concurrency = 1  # one page per context: every target after the first reuses it
    served.keep_crawler = True
    urls = ["http://pool-reporter.test/", "http://pool-marker.test/", "https://pool-clone.test/",
            "http://pool-reporter.test/?again", "http://pool-gone.test/"]
    crawl._close_all()
    try:
        records = capture_batch(served, [{"id": str(i), "url": u, "addresses": [], "profile": "desktop"}
                                         for i, u in enumerate(urls)])
        [server] = [sv for idle in crawl._IDLE.values() for sv in idle]
        kinds = [_label(pid) for pid in _tree(server.proc.pid)]
        log = server.stderr_path.read_text(encoding="utf-8", errors="replace")
    finally:
        crawl._close_all()
    by_id = {r["id"]: r for r in records}
    assert all(r["ok"] and r["browser_used"] for r in records), records
    # A fresh tab and a reused one look the same to the page: no name, a new tab's history.
    assert by_id["0"]["title"] == by_id["3"]["title"] == "name= history=2"
    assert by_id["1"]["title"] == "marker"
    assert by_id["2"]["title"] == "ログイン｜ほしぞら証券" and by_id["2"]["forms"][0]["has_password"]
    assert by_id["2"]["final_url"].startswith("https://pool-clone.test/") and by_id["2"]["files"]["screenshot"]
    assert int(by_id["4"]["status"]) == 410
    reused = [int(n) for n in re.findall(r"(\d+) pages reused", log)]
    assert reused and reused[-1] == len(urls) - 1, log[-2000:]
    # http and https in one batch: one Playwright driver, one browser.
    assert kinds.count("node") == 1 and kinds.count("chromium main") == 1, kinds
