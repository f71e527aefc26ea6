"""The Context's ``Nudge`` backed by a queue: new work becomes a task at once."""

from __future__ import annotations

from collections.abc import Sequence

from watcher.context import Nudge
from watcher.tasks.catalog import task
from watcher.tasks.queue import Queue


class QueueNudge(Nudge):
    def __init__(self, queue: Queue, *, batch: int) -> None:
        self.queue = queue
        self.batch = batch

    def candidates(self, ids: Sequence[int]) -> None:
        ids = [int(i) for i in ids]
        for i in range(0, len(ids), self.batch):
            self.queue.defer(task("check_new"), ids=ids[i: i + self.batch])

    def due(self) -> None:
        self.queue.defer(task("dispatch"), lock="dispatch")

    def takedowns(self, candidate_ids: Sequence[int]) -> None:
        if candidate_ids:
            self.queue.defer(task("takedowns"), lock="takedowns")
