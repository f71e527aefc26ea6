"""RDAP/WHOIS answers shared by every host on one database.

A re-check cycle asks the registry of every candidate; with the answers kept per process, three
workers (or thirty) each asked the same registry for the same name, and each paid the registry's rate
limit for it. Here an answer (its parsed facts: ``Registration.as_dict`` / ``Network.as_dict``
without the raw JSON) is one row per (kind, key), written by whichever worker asked, read by all, and
asked again only when older than ``rdap.cache_hours``. Failures are never stored (the next run asks
again), exactly as the in-process cache did.

Reads are by batch (``load``: one SELECT for a crawler batch's names) and writes are upserts, so two
workers that asked at once both succeed and the later answer stands. ``prune`` drops rows past any
use (the scheduler's ``queue`` job).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from watcher.core.models import RdapAnswer

_TABLE: sa.Table = RdapAnswer.__table__  # type: ignore[attr-defined]
_CHUNK = 500  # names per SELECT (an IN list that every database takes)


class AnswerStore:
    """The ``rdap_answer`` table of one database, for the RDAP client."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def load(self, kind: str, keys: Iterable[str], *, newer_than: datetime) -> dict[str, tuple[datetime, dict[str, Any]]]:
        """The stored answers of ``keys`` fetched after ``newer_than``: key -> (fetched_at, answer)."""
        wanted = sorted(set(keys))
        out: dict[str, tuple[datetime, dict[str, Any]]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), _CHUNK):
                rows = conn.execute(sa.select(_TABLE.c.key, _TABLE.c.fetched_at, _TABLE.c.answer).where(
                    _TABLE.c.kind == kind, _TABLE.c.key.in_(wanted[i: i + _CHUNK]), _TABLE.c.fetched_at > newer_than))
                for key, at, answer in rows:
                    if isinstance(answer, dict):
                        out[str(key)] = (at, answer)
        return out

    def save(self, kind: str, answers: Mapping[str, dict[str, Any]], *, at: datetime) -> None:
        """Store (or replace) answers fetched at ``at``."""
        if not answers:
            return
        rows = [{"kind": kind, "key": k, "answer": {x: y for x, y in v.items() if x != "raw"}, "fetched_at": at}
                for k, v in answers.items()]
        dialect = self.engine.dialect.name
        insert: Any = postgresql.insert(_TABLE) if dialect == "postgresql" else sqlite.insert(_TABLE)
        stmt = insert.on_conflict_do_update(index_elements=["kind", "key"],
                                            set_={"answer": insert.excluded.answer,
                                                  "fetched_at": insert.excluded.fetched_at})
        with self.engine.begin() as conn:
            conn.execute(stmt, rows)

    def prune(self, *, before: datetime) -> int:
        """Drop answers fetched before ``before`` (too old to be used); how many."""
        with self.engine.begin() as conn:
            return int(conn.execute(sa.delete(_TABLE).where(_TABLE.c.fetched_at < before)).rowcount or 0)
