"""omamori db: the schema of the database (Alembic migrations)."""

from __future__ import annotations

from typing import Annotated

import typer

from watcher.commands.invocation import console, context, say
from watcher.core.db import current_revision, head_revision, upgrade

cli = typer.Typer(help="The database: schema migrations.", no_args_is_help=True)


@cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Bring the database schema up to date (safe to repeat)."""

    ctx = context(migrate=False)
    before = current_revision(ctx.engine)
    upgrade(ctx.engine, revision)
    console.print(say("cli.db.schema", before=before or say("cli.db.empty"), after=current_revision(ctx.engine)),
                  highlight=False)


@cli.command("current")
def db_current() -> None:
    """Print the schema revision of the database and of this code."""

    ctx = context(migrate=False)
    console.print(say("cli.db.current", db=current_revision(ctx.engine) or say("cli.db.empty"), code=head_revision()),
                  highlight=False)


