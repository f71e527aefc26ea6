"""SIGTERM during a crawler batch: the crawler is ended at once and the job stops within 10 s.

Issue 14 saw the snapshot job keep starting 20-page batches for over 130 s after SIGTERM. Here a
batch of slow lab pages (each 8 s, two at a time: half a minute of work) is told to stop 2 s in.
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
                         "the crawler is ended and the snapshot job stops within 10 s; the batch stays due",
                         area="jobs and the scheduler")
def test_a_stop_ends_the_crawler_batch_within_ten_seconds(lab: Any, observe: Any) -> None:
    ctx, web, _dns, _rdap = lab
    for i in range(6):
        web.publish(f"slow-stop{i}.test", "slow", delay=8.0)
    targets = [{"id": str(i), "url": f"http://slow-stop{i}.test/", "addresses": [], "profile": "desktop"}
               for i in range(6)]
    stop = threading.Event()
    control = RunControl("snapshot", deadline_seconds=600, stop=stop)
    threading.Timer(2.0, stop.set).start()
    t0 = time.monotonic()
    with pytest.raises(JobStopped, match="the service is stopping"):
        capture_batch(ctx.for_run(control), targets)
    took = time.monotonic() - t0
    assert took < 2.0 + 10.0
    observe(f"JobStopped {took - 2.0:.1f} s after the stop")
