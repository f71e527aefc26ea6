"""How a job says it ran to its end without doing all it should (a CT log it could not read).

A job returns its summary when all went well and raises when it could not run at all. Between the
two, it raises ``JobIncomplete`` with its summary: ``run_job`` keeps the summary (what was done) and
records the run as failed (what was not), so a partial failure is never shown as "ok".
"""

from __future__ import annotations

from typing import Any


class JobIncomplete(Exception):
    def __init__(self, message: str, summary: dict[str, Any]) -> None:
        super().__init__(message)
        self.summary = summary
