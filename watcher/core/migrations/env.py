"""Alembic environment: the engine comes from watcher.core.db (never from alembic.ini)."""

from typing import Any, Literal

from alembic import context
from sqlmodel import SQLModel

import watcher.core.models

config = context.config


def render_item(type_: str, obj: object, autogen_context: object) -> str | Literal[False]:
    # Migrations must not depend on model code: render our decorators as the SQL types they store.
    if type_ == "type" and isinstance(obj, watcher.core.models.UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, watcher.core.models.EnumText):
        return f"sa.String({obj.impl.length})"
    if type_ == "type" and type(obj).__module__.startswith("sqlmodel"):
        length = getattr(obj, "length", None)
        return f"sa.String({length})" if length else "sa.String()"
    return False
target_metadata = SQLModel.metadata


def _compare_type(ctx: Any, inspected_column: Any, metadata_column: Any, inspected_type: Any,
                  metadata_type: Any) -> bool | None:
    # Our decorators store as their impl; compare those, not the Python-side wrapper.
    meta = getattr(metadata_type, "impl", metadata_type)
    if type(meta).__name__ == "DateTime" and type(inspected_type).__name__ in ("DateTime", "TIMESTAMP", "DATETIME"):
        return False
    return None


def run() -> None:
    engine = config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=_compare_type,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()


run()
