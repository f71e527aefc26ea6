"""SIGTERM during a crawler batch: the crawler is ended at once and the job stops.

Issue 14 saw the snapshot job keep starting 20-page batches for over 130 s after SIGTERM. Here a
batch of slow lab pages (each 8 s, two at a time: half a minute of work) is told to stop 2 s in. The
proof is what the lab saw, not a stopwatch: a batch that went on would have asked for the third page
once the first two answered (8 s in); a stopped one never asks.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.capture.conftest import needs_browser
from watcher.capture.crawl import capture_batch
from watcher.core.runcontrol import JobStopped, RunControl

pytestmark = [pytest.mark.browser, needs_browser]


@pytest.mark.reliability("SIGTERM 2 s into a crawler batch of six 8-second pages",
                         "the crawler is ended before it asks for the next page; the snapshot job stops; "
                         "the batch stays due",
                         area="jobs and the scheduler")
def test_a_stop_ends_the_crawler_batch_before_its_next_page(lab: Any, observe: Any) -> None:
    ctx, web, _dns, _rdap = lab
    for i in range(6):
        web.publish(f"slow-stop{i}.test", "slow", delay=8.0)
    targets = [{"id": str(i), "url": f"http://slow-stop{i}.test/", "addresses": [], "profile": "desktop"}
               for i in range(6)]
    web.requests.clear()
    stop = threading.Event()
    control = RunControl("snapshot", deadline_seconds=600, stop=stop)
    run = ctx.for_run(control)
    run.settings = ctx.settings.model_copy(deep=True)
    run.settings.crawl.concurrency = 2  # two pages at a time: the others wait for the first to answer
    threading.Timer(2.0, stop.set).start()
    t0 = time.monotonic()
    with pytest.raises(JobStopped, match="the service is stopping"):
        capture_batch(run, targets)
    took = time.monotonic() - t0
    asked = sorted({host for _m, _s, host, _p in web.requests if host.startswith("slow-stop")})
    assert len(asked) <= 2, asked  # ended before the first page answered; never went on to the next
    observe(f"JobStopped {took - 2.0:.1f} s after the stop; pages asked for: {len(asked)} of 6")
