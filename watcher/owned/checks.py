"""What the owned-domain checks share: one ``CheckRun`` per run (the session, the time, the
registrations asked once, the counts) and ``run_checks``, which runs sources then checks, each in
its own transaction, so one crashing check is recorded and the others' results stand.

Checks are plain functions ``(run: CheckRun) -> None``. Each opens a Finding when its condition
fails and resolves the same (kind, subject) when it passes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from watcher.context import Context
from watcher.core.events import record
from watcher.core.findings import open_finding, resolve_finding
from watcher.core.models import Brand, FindingKind, OwnedDomain, Severity
from watcher.core.names import is_within
from watcher.core.texts import Text, text

log = logging.getLogger("omamori.owned")


@dataclass
class CheckRun:
    """What one inventory (or mail-auth) run shares between its checks, and what it counted."""

    ctx: Context
    session: Session
    now: datetime
    counts: Counter[str] = field(default_factory=Counter)
    # What the run could not do or decide, as stored texts (``owned.note``), for the job's summary.
    notes: list[dict[str, Any]] = field(default_factory=list)
    _hosts: list[OwnedDomain] | None = None
    _registrations: dict[str, Any] = field(default_factory=dict)
    # Results a check keeps for later checks of the same run or for the job's summary.
    cache: dict[str, Any] = field(default_factory=dict)
    _brands: dict[int, Brand] | None = None
    # One owned apex (a queue task's share of the inventory): only it and its hosts are checked.
    scope: str | None = None

    # --- what the checks look at ----------------------------------------------------------------

    def domains(self) -> list[OwnedDomain]:
        return list(self.session.exec(select(OwnedDomain).order_by(OwnedDomain.name)))

    def hosts(self) -> list[OwnedDomain]:
        """Owned names still ours (not lapsed) and still seen by some inventory source (not gone)."""
        if self._hosts is None:
            self._hosts = [d for d in self.domains() if not d.lapsed and d.gone_at is None
                           and (self.scope is None or d.apex == self.scope)]
        return self._hosts

    def our_apexes(self) -> set[str]:
        """Every apex still ours, whatever the scope (a CNAME to another of our domains stays inside)."""
        return {d.apex for d in self.domains() if not d.lapsed and d.gone_at is None}

    def tracked(self) -> list[OwnedDomain]:
        """Every name the sources look for again: not lapsed, gone ones included (they may come back)."""
        return [d for d in self.domains() if not d.lapsed]

    def saw(self, name: str, source: str) -> None:
        """An inventory source saw ``name`` in this run (``inventory.mark_gone`` reads it)."""
        self.cache.setdefault("seen", {}).setdefault(name.lower().rstrip("."), set()).add(source)

    def forget_hosts(self) -> None:
        self._hosts = None

    def brands(self) -> dict[int, Brand]:
        if self._brands is None:
            self._brands = {b.id: b for b in self.session.exec(select(Brand)) if b.id is not None}
        return self._brands

    def brand_of(self, name: str) -> int | None:
        row = self.session.exec(select(OwnedDomain).where(OwnedDomain.name == name)).first()
        if row is not None:
            return row.brand_id
        for b in self.brands().values():
            if any(is_within(name, d) for d in b.spec.get("official_domains", [])):
                return b.id
        return None

    def registration(self, name: str) -> Any:
        """RDAP/WHOIS registration of ``name``, asked once per run."""
        if name not in self._registrations:
            self._registrations[name] = self.ctx.rdap.domain(name)
        return self._registrations[name]

    def gather(self, coros: dict[str, Awaitable[Any]]) -> dict[str, Any]:
        """Run coroutines concurrently; a failure is returned as its exception, not raised."""
        if not coros:
            return {}

        async def _all() -> list[Any]:
            return await asyncio.gather(*coros.values(), return_exceptions=True)

        # The resolver keeps UDP sockets per event loop; its own runner closes them before the loop
        # ends (a bare asyncio.run leaves them to break the next loop's queries).
        runner = getattr(self.ctx.resolver, "run", asyncio.run)
        return dict(zip(coros.keys(), runner(_all()), strict=True))

    def gather_each(self, kind: str, coros: dict[str, Awaitable[Any]]) -> Iterator[tuple[str, Any]]:
        """``gather``, then (subject, result) per subject; a failed lookup is recorded as ``kind``'s
        error for that subject (any open finding stays as it is) and skipped."""
        results = self.gather(coros)
        for subject in coros:
            result = results.get(subject)
            if isinstance(result, BaseException) or result is None:
                self.error(kind, subject, result)
                continue
            yield subject, result

    # --- what the checks report -----------------------------------------------------------------

    def fail(self, kind: FindingKind, subject: str, title: str | Text, *, severity: Severity = Severity.MEDIUM,
             detail: str | Text = "",
             data: dict[str, Any] | None = None, brand_id: int | None = None) -> None:
        open_finding(self.session, kind, subject, title, severity=severity, detail=detail, data=data,
                     brand_id=brand_id if brand_id is not None else self.brand_of(subject), now=self.now,
                     actor=self.ctx.actor)
        self.counts["failing"] += 1
        self.counts[f"failing.{kind}"] += 1

    def ok(self, kind: FindingKind, subject: str, note: str = "") -> None:
        if resolve_finding(self.session, kind, subject, now=self.now, actor=self.ctx.actor, note=note):
            self.counts["resolved"] += 1
        self.counts["passing"] += 1

    def error(self, kind: str, subject: str, exc: BaseException | str | None) -> None:
        """A check could not decide (network error): keep whatever finding is open, note why."""
        why: str | Text = (exc[:300] if isinstance(exc, str) else text("owned.note.no_answer") if exc is None
                           else f"{type(exc).__name__}: {exc}"[:300])
        self.note(kind, text("owned.note.undecided", subject=subject, error=why))

    def note(self, kind: str, said: Text) -> None:
        """Something the run could not do or decide: a sentence of the catalogue, stored as such in the
        job's summary and rendered in the reader's language where it is shown."""
        self.counts["errors"] += 1
        stored = text("owned.note", check=kind, note=said)
        self.notes.append(stored.as_dict())
        log.warning("%s", stored.render("en")[:500])


Check = Callable[[CheckRun], None]


def run_checks(ctx: Context, checks: tuple[Check, ...], *, sources: tuple[Check, ...] = (),
               job: str = "inventory", scope: str | None = None) -> dict[str, Any]:
    started = ctx.now()
    with ctx.session() as s:
        run = CheckRun(ctx, s, started, scope=scope)
        for step in (*sources, *checks):
            ctx.run.check()  # each check commits whole; the ones not reached run next time
            try:
                step(run)
                s.commit()
            except Exception as e:  # one broken check must not hide the others' results
                s.rollback()
                run.forget_hosts()
                run.note(step.__name__, text("owned.note.crashed", error=f"{type(e).__name__}: {e}"[:300]))
                log.exception("%s: %s crashed", job, step.__name__)
                record(s, ctx.actor, f"{job}.check_failed", None,
                       {"check": step.__name__, "error": f"{type(e).__name__}: {e}"[:1000]}, at=started)
                s.commit()
        summary: dict[str, Any] = {"owned": len(run.hosts()), **dict(sorted(run.counts.items()))}
        if run.notes:
            summary["notes"] = run.notes[:50]
    return summary
