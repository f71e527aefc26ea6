"""When a periodic report is due: the slot (weekday and time in the service's time zone) and the
claim of one ``ReportRun`` per slot, so that restarts, a standby and a crash send it once.

The job that sends the report runs often (``jobs.weekly_report.interval_seconds``) and asks
``claim``: the latest slot at or before now that has no report sent yet is claimed with an INSERT
(the unique (kind, period) constraint lets exactly one process win); a slot missed while the service
was down is therefore sent late, once — and only the latest one, not a backlog. A claim left
``sending`` by a process that died is taken over after ``STALE_CLAIM``; a failed send is tried again
at the next run, up to ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from watcher.context import Context
from watcher.core.events import record
from watcher.core.models import ReportRun, ReportStatus

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STALE_CLAIM = timedelta(minutes=30)
MAX_ATTEMPTS = 5


def last_slot(now: datetime, weekday: str, hhmm: str, tz: ZoneInfo) -> datetime:
    """The latest ``weekday`` at ``hhmm`` (local) at or before ``now``, as an aware local datetime."""
    local = now.astimezone(tz)
    at = time(int(hhmm[:2]), int(hhmm[3:5]))
    days_back = (local.weekday() - WEEKDAYS.index(weekday)) % 7
    slot = datetime.combine(local.date() - timedelta(days=days_back), at, tzinfo=tz)
    if slot > local:
        slot -= timedelta(days=7)
    return slot


@dataclass
class Claim:
    run_id: int
    period: str
    start: datetime
    end: datetime
    late: bool


def weekly_slot(ctx: Context, now: datetime) -> datetime:
    rs = ctx.settings.report
    return last_slot(now, rs.weekday, rs.time, ZoneInfo(ctx.settings.service.timezone))


def claim(ctx: Context, kind: str, slot: datetime, now: datetime, *, days: int = 7,
          holder: str = "scheduler") -> Claim | None:
    """Claim the report of ``slot`` for this process, or None (sent already, or another has it)."""
    period = slot.isoformat(timespec="minutes")
    start, end = slot - timedelta(days=days), slot
    # Late: the slot passed more than a check interval ago (the service was down at the time).
    late = now - slot > timedelta(seconds=max(ctx.settings.jobs.weekly_report.interval_seconds * 2, 3600))
    with ctx.session() as s:
        run = s.exec(select(ReportRun).where(ReportRun.kind == kind, ReportRun.period == period)).first()
        if run is None:
            run = ReportRun(kind=kind, period=period, period_start=start, period_end=end, claimed_at=now,
                            attempts=1, late=late)
            s.add(run)
            try:
                s.flush()
                record(s, holder, "report.claimed", run, {"kind": kind, "period": period, "late": late}, at=now)
                s.commit()
            except IntegrityError:  # another process claimed the same slot first
                s.rollback()
                return None
            assert run.id is not None
            return Claim(run.id, period, start, end, late)
        if run.status == ReportStatus.SENT or run.attempts >= MAX_ATTEMPTS:
            return None
        if run.status == ReportStatus.SENDING and now - run.claimed_at < STALE_CLAIM:
            return None
        # Take it over with a conditional UPDATE: of two processes, one changes the row.
        taken = s.execute(sa.update(ReportRun).where(
            sa.and_(ReportRun.id == run.id, ReportRun.status == run.status,  # type: ignore[arg-type]
                    ReportRun.attempts == run.attempts))  # type: ignore[arg-type]
            .values(status=ReportStatus.SENDING.value, claimed_at=now, attempts=run.attempts + 1))
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            s.rollback()
            return None
        record(s, holder, "report.claimed", ("reportrun", run.id),
               {"kind": kind, "period": period, "retry": run.attempts + 1}, at=now)
        s.commit()
        assert run.id is not None
        return Claim(run.id, period, start, end, run.late or late)


def finish(ctx: Context, c: Claim, *, ok: bool, now: datetime, message_id: str = "", files: dict[str, str] | None = None,
           figures: dict[str, object] | None = None, error: str = "", holder: str = "scheduler") -> None:
    with ctx.session() as s:
        run = s.get(ReportRun, c.run_id)
        if run is None:
            return
        run.status = ReportStatus.SENT if ok else ReportStatus.FAILED
        run.sent_at = now if ok else None
        run.message_id, run.error = message_id, error[:2000]
        run.files, run.figures = dict(files or {}), dict(figures or {})
        s.add(run)
        record(s, holder, "report.sent" if ok else "report.failed", run,
               {"kind": run.kind, "period": run.period, "late": run.late, "message_id": message_id,
                "error": error[:500]}, at=now)
        s.commit()
