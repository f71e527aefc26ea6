"""Request spacing per server, shared by every host on one database.

One row per key (``rdap:<server host>``, ``smtp:<registrar desk>``...) holds when the next request to
that server may go. ``reserve`` takes the next slot with a compare-and-set UPDATE (read the slot,
write slot + gap only if nobody moved it meanwhile), so two workers on two hosts never both take the
same slot, on SQLite and PostgreSQL alike, and returns how long the caller must wait for its slot.

Politeness is real time, not the Context's clock: a test's frozen clock must not make a limiter
think no time passes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from watcher.core.models import RateSlot

# A slot more than this far ahead is a sign of a clock jump or a misconfiguration: start again.
_MAX_AHEAD = timedelta(hours=1)


def reserve(engine: sa.Engine, key: str, gap_seconds: float, *, now: datetime | None = None) -> float:
    """Take the next slot for ``key`` (slots ``gap_seconds`` apart); seconds to wait until it comes."""
    now = now or datetime.now(UTC)
    gap = timedelta(seconds=max(0.0, gap_seconds))
    table = RateSlot.__table__  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        # One statement: the row lock orders racing workers, no read-then-write round trips.
        start = sa.case((sa.and_(table.c.next_at > now, table.c.next_at < now + _MAX_AHEAD), table.c.next_at),
                        else_=sa.literal(now, type_=table.c.next_at.type))
        with engine.begin() as conn:
            taken = conn.execute(table.update().where(table.c.key == key)
                                 .values(next_at=start + sa.literal(gap, sa.Interval()))
                                 .returning(table.c.next_at)).scalar_one_or_none()
        if taken is not None:
            return max(0.0, (taken - gap - now).total_seconds())
    for _ in range(50):  # contention is between a handful of workers: a few rounds at most
        with engine.begin() as conn:
            old = conn.execute(sa.select(table.c.next_at).where(table.c.key == key)).scalar_one_or_none()
            if old is None:
                try:
                    conn.execute(table.insert().values(key=key, next_at=now + gap))
                except sa.exc.IntegrityError:
                    continue  # another worker made the row first: read it again
                return 0.0
            slot = old if now < old < now + _MAX_AHEAD else now
            changed = conn.execute(table.update().where(table.c.key == key, table.c.next_at == old)
                                   .values(next_at=slot + gap)).rowcount
        if changed:
            return max(0.0, (slot - now).total_seconds())
    return gap.total_seconds()  # lost every race: wait one gap rather than not at all
