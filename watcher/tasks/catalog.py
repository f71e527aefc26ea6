"""TASKS: every function a worker runs, by name (the name is what the queue stores).

A task is ``(ctx, **kwargs) -> dict`` with JSON kwargs, and must be safe to run twice: it claims its
work in the database before doing it (see the package docstring).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from watcher.capture import snapshot
from watcher.context import Context
from watcher.core import lease
from watcher.owned import inventory
from watcher.takedowns import followup

log = logging.getLogger("omamori.tasks")

TaskFunction = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Task:
    name: str
    run: TaskFunction
    summary: str
    deadline_seconds: float  # a run past this is stopped at its next batch boundary


def check(ctx: Context, ids: list[int], claim: str) -> dict[str, Any]:
    """Check candidates held by ``claim`` (one crawler batch): DNS, RDAP, capture, score, triage."""
    snaps = snapshot.check_claimed(ctx, [int(i) for i in ids], datetime.fromisoformat(claim), actor="worker")
    return {"claimed": len(ids), "checked": len(snaps)}


def check_new(ctx: Context, ids: list[int]) -> dict[str, Any]:
    """Candidates just discovered (a CT match, certstream): claim those still due and check them."""
    held, claim = snapshot.claim_due(ctx, limit=len(ids), ids=[int(i) for i in ids])
    if not held:
        return {"claimed": 0, "checked": 0}
    snaps = snapshot.check_claimed(ctx, held, claim, actor="worker")
    return {"claimed": len(held), "checked": len(snaps)}


def takedowns(ctx: Context) -> dict[str, Any]:
    """The takedown side now (auto rule, requests, outbox): the ``takedowns`` job's work, under its
    lease so it never runs twice at once; when a run is already going, wait for it and run after it
    (the running one may have started before this candidate was confirmed)."""
    holder = lease.holder_id("task:takedowns")
    ttl = max(2 * ctx.settings.service.lease_seconds, 5.0)
    for _ in range(120):  # up to a minute
        with lease.Renewing(ctx.engine, "job:takedowns", holder, ttl=ttl, now=ctx.now) as held:
            if held:
                return followup.run(ctx)
        if ctx.run.stopping:
            break
        time.sleep(0.5)
    return {"skipped": "the takedowns job is running"}


def dispatch(ctx: Context) -> dict[str, Any]:
    """Claim every due candidate, one ``check`` task per crawler batch (a report, a feed, the job).

    Deferred through the queue of the Context's nudge; where there is none, checked here."""
    queue = getattr(ctx.nudge, "queue", None)
    size = ctx.settings.tasks.check_batch
    out: dict[str, Any] = {"claimed": 0, "tasks": 0, "checked": 0}
    for _ in range(1000):  # bounded: 1000 batches per run, the rest at the next run
        if ctx.run.stopping:
            break
        held, claim = snapshot.claim_due(ctx, limit=size)
        if not held:
            break
        out["claimed"] += len(held)
        if queue is None:
            out["checked"] += len(snapshot.check_claimed(ctx, held, claim, actor="worker"))
            continue
        queue.defer(task("check"), ids=held, claim=claim.isoformat())
        out["tasks"] += 1
    return out


def owned_check(ctx: Context, apex: str) -> dict[str, Any]:
    """Every domain check of one owned apex and its hosts (the ``inventory`` job defers one per apex).
    Retried whole: each check opens or resolves its finding by (kind, subject), never a second one."""
    return inventory.check_domain(ctx, apex)


TASKS: tuple[Task, ...] = (
    Task("check", check, "check claimed candidates: DNS, RDAP, capture, score, triage", 1800),
    Task("check_new", check_new, "check newly discovered candidates now", 1800),
    Task("dispatch", dispatch, "claim due candidates and defer their checks", 300),
    Task("takedowns", takedowns, "auto rule, requests and the outbox, now", 900),
    Task("owned_check", owned_check, "check one owned domain: registration, takeover, hygiene", 900),
)


def task(name: str) -> Task:
    for t in TASKS:
        if t.name == name:
            return t
    raise KeyError(f"no task {name!r}; tasks are: {', '.join(t.name for t in TASKS)}")
