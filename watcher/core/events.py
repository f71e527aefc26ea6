"""The append-only audit log. Every change a person or a job makes is recorded here, with its actor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, SQLModel

from watcher.core.models import Event, utcnow


def _object_type(obj: SQLModel | tuple[str, int | None] | None) -> tuple[str, int | None]:
    if obj is None:
        return ("system", None)
    if isinstance(obj, tuple):
        return obj
    return (type(obj).__name__.lower(), getattr(obj, "id", None))


def record(
    session: Session,
    actor: str,
    action: str,
    obj: SQLModel | tuple[str, int | None] | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Event:
    """Add an Event to the session (committed with the change it describes)."""
    object_type, object_id = _object_type(obj)
    ev = Event(
        at=at or utcnow(),
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        detail=detail or {},
    )
    session.add(ev)
    return ev
