"""The CT watchdog: how far each log's saved position lags its verified tree head, and a Finding when
it lags too far or too long.

It reads only ``LogPosition`` rows (the tree size of the last verified head, the next index, since
when the position has been behind), so it sees a stalled log whatever stalled it: an exception the
reader did not expect, a log that serves tree heads but no entries, a reader that never ran. The
``ct_poll`` job calls it after every pass, and the health job too, so a stall opens a Finding within
one poll.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from watcher.context import Context
from watcher.core.findings import open_finding, resolve_finding
from watcher.core.models import FindingKind, LogPosition, Severity
from watcher.core.texts import text


@dataclass(frozen=True)
class Lag:
    log: str
    url: str
    entries: int  # tree size of the verified head minus the next index to read
    minutes: float  # how long the position has been behind (0 when caught up)
    state: str
    error: str

    def as_dict(self) -> dict[str, object]:
        return {"log": self.log, "url": self.url, "behind_entries": self.entries,
                "behind_minutes": round(self.minutes, 1), "state": self.state, "error": self.error}


def lag_of(pos: LogPosition, now: datetime) -> Lag:
    entries = max(0, pos.tree_size - pos.next_index) if pos.next_index >= 0 else 0
    since = pos.behind_since
    minutes = (now - since).total_seconds() / 60 if entries and since is not None else 0.0
    return Lag(pos.description or pos.url, pos.url, entries, max(0.0, minutes), pos.state, pos.last_error)


def lags(ctx: Context, s: Session) -> list[Lag]:
    now = ctx.now()
    return [lag_of(p, now) for p in s.exec(select(LogPosition).where(LogPosition.state != "retired")
                                            .order_by(LogPosition.description))]


def check_lag(ctx: Context, s: Session) -> int:
    """Open ``ct_log_lagging`` for each log past a limit, resolve it for the others; returns how many
    are lagging. The caller's session is committed."""
    limits = ctx.settings.ct
    now = ctx.now()
    lagging = 0
    for pos in s.exec(select(LogPosition).where(LogPosition.state != "retired")):
        lag = lag_of(pos, now)
        if lag.entries > limits.lag_max_entries or lag.minutes > limits.lag_max_minutes:
            lagging += 1
            open_finding(s, FindingKind.CT_LOG_LAGGING, pos.url,
                         text("self.ct_log_lagging", log=lag.log, entries=lag.entries, minutes=round(lag.minutes)),
                         severity=Severity.HIGH, now=now, actor="ct",
                         detail=text("self.ct_log_lagging_detail", next_index=pos.next_index, tree_size=pos.tree_size,
                                     max_entries=limits.lag_max_entries, max_minutes=limits.lag_max_minutes,
                                     error=pos.last_error or "-"),
                         data={"log_id": pos.log_id, **lag.as_dict()})
        else:
            resolve_finding(s, FindingKind.CT_LOG_LAGGING, pos.url, now=now, actor="ct")
    s.commit()
    return lagging


def retire_unlisted(ctx: Context, s: Session, listed: list[str]) -> list[str]:
    """A log no longer read (gone from the log list, retired upstream, or excluded in config) is
    ``retired``: the stale and lag checks pass it by and its open findings are resolved, instead of
    crying "stale" about a log nobody reads any more. Listed again, it is ``active`` and watched as
    before. Returns the descriptions retired now; the caller's session is committed."""
    now = ctx.now()
    keep = set(listed)
    retired = []
    for pos in s.exec(select(LogPosition)):
        if pos.log_id in keep and pos.state == "retired":
            pos.state = "active"
            s.add(pos)
        elif pos.log_id not in keep and pos.state != "retired":
            pos.state = "retired"
            s.add(pos)
            for kind in (FindingKind.CT_LOG_STALE, FindingKind.CT_LOG_LAGGING):
                resolve_finding(s, kind, pos.url, now=now, actor="ct")
            retired.append(pos.description or pos.url)
    s.commit()
    return retired

