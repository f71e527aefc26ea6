"""lab.testing.wait_for: the one wait of the tests, which says how long it waited and why it gave up."""

from __future__ import annotations

import time

import pytest

from lab.testing import wait_for


def test_a_wait_returns_the_seconds_it_waited_once_the_work_is_done(monkeypatch: pytest.MonkeyPatch) -> None:
    done_at = time.monotonic() + 0.2
    waited = wait_for(lambda: time.monotonic() >= done_at, timeout=5, what="the timer")
    assert waited >= 0.2  # the work took that long; a wait past the timeout would have raised
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    wait_for(lambda: True, every=60)
    assert slept == []  # already done: it does not sleep first


def test_a_wait_that_times_out_names_what_it_waited_for_and_explains() -> None:
    with pytest.raises(AssertionError, match=r"(?s)timed out waiting for the standby \(0.2 s\)\n--- run-a.log"):
        wait_for(lambda: False, timeout=0.2, what="the standby", every=0.05, explain=lambda: "--- run-a.log\nbye")
