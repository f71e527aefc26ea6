"""Stopping the service processes a benchmark started: SIGTERM to all first (they stop together), then
a kill for any that outlives the grace period."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from typing import Any


def stop_all(procs: Sequence[subprocess.Popen[Any]], grace: float) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()  # reaped: its CPU time is counted and no zombie is left
