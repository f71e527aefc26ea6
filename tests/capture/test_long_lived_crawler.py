"""A worker's long-lived crawler: one process and one browser for batch after batch, each batch
guarded like a one-shot run (a refused target gets its refusal, every fetch goes through the gate),
each with fresh browser contexts, and a batch that must stop ends the process (the next starts one)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.capture.conftest import needs_browser
from watcher.capture import crawl
from watcher.capture.crawl import capture_batch
from watcher.core.runcontrol import JobStopped, RunControl

pytestmark = [pytest.mark.browser, needs_browser]


def _targets(hosts: list[str], tag: str) -> list[dict[str, Any]]:
    return [{"id": f"{tag}-{h}", "url": f"http://{h}/", "addresses": [], "profile": "desktop"} for h in hosts]


def test_batches_share_one_crawler_and_each_is_guarded(lab: tuple[Any, Any, Any, Any]) -> None:
    ctx, web, _dns, _rdap = lab
    web.publish("ll-clone.test", "clone-exact")
    web.publish("ll-gone.test", "gone")
    served = ctx.for_run(RunControl("test"))
    served.keep_crawler = True
    first = capture_batch(served, _targets(["ll-clone.test", "ll-gone.test"], "a"))
    [server] = [sv for idle in crawl._IDLE.values() for sv in idle]
    second = capture_batch(served, _targets(["ll-clone.test"], "b"))
    assert [sv for idle in crawl._IDLE.values() for sv in idle] == [server]  # the same process, still alive
    assert server.batches == 2 and server.alive
    assert first[0]["ok"] and first[0]["browser_used"] and first[0]["files"]["screenshot"]
    assert int(first[1]["status"]) == 410
    assert second[0]["ok"] and second[0]["browser_used"] and second[0]["files"]["screenshot"]
    # The same page, the same evidence: its HTML and title (the screenshot's bytes may differ by when an
    # image or a font arrived, which says nothing about the crawler that served the batch).
    assert second[0]["files"]["html"] == first[0]["files"]["html"]
    assert second[0]["title"] == first[0]["title"]


def test_a_served_batch_is_guarded_like_a_one_shot_run(lab: tuple[Any, Any, Any, Any]) -> None:
    ctx, _web, _dns, _rdap = lab
    served = ctx.for_run(RunControl("test"))
    served.settings = ctx.settings.model_copy(deep=True)
    served.settings.service.lab_mode = False  # production: private addresses are refused
    served.keep_crawler = True
    [rec] = capture_batch(served, [{"id": "private", "url": "http://10.1.2.3/", "addresses": ["10.1.2.3"],
                                    "profile": "desktop"}])
    assert not rec["ok"] and rec["error_kind"] == "guard" and rec["error"].startswith("refused"), rec


def test_a_batch_that_must_stop_ends_the_crawler(lab: tuple[Any, Any, Any, Any]) -> None:
    ctx, web, _dns, _rdap = lab
    web.publish("ll-slow.test", "slow", delay=5.0)
    control = RunControl("test", deadline_seconds=1.0)
    served = ctx.for_run(control)
    served.keep_crawler = True
    crawl._close_all()
    with pytest.raises(JobStopped):
        capture_batch(served, _targets(["ll-slow.test"], "c"))
    assert not [sv for idle in crawl._IDLE.values() for sv in idle]  # killed, not kept
