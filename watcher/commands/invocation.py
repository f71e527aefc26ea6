"""One invocation of ``omamori``: the ``--config`` it was given and the Context built from it.

Every command asks ``context()`` for its Context, so ``omamori --config X <any command>`` uses X
everywhere; the Context is built once per invocation, on first use.
"""

from __future__ import annotations

import getpass
import os
import re
from pathlib import Path

import typer
from alembic.util.exc import CommandError as AlembicError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from watcher.context import Context, build_context
from watcher.core.config import ConfigError, load_settings, running_demo_config

# highlight=False: a domain or a path is data, not something for rich to colour. soft_wrap on stderr:
# an error is one line, whatever the terminal's width (a log collector keeps it whole).
console = Console(highlight=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class _Invocation:
    config: Path | None = None
    ctx: Context | None = None
    pinned: Context | None = None  # a Context given by the program that embeds the CLI (a test)


def pin(ctx: Context | None) -> None:
    """Use ``ctx`` for every command from now on, whatever ``--config`` says (None: stop)."""
    _Invocation.pinned = ctx


def set_config(path: Path | None) -> None:
    """Called by the root command with ``--config`` (or ``OMAMORI_CONFIG``); forgets any earlier Context."""
    _Invocation.config = path
    _Invocation.ctx = None


def config_path() -> Path | None:
    return _Invocation.config


def context(migrate: bool = True) -> Context:
    """The Context of this invocation; a config error ends the command with exit 2 and one line."""
    if _Invocation.pinned is not None:
        return _Invocation.pinned
    if _Invocation.ctx is None:
        settings = None
        demo = running_demo_config() if _Invocation.config is None and "OMAMORI_CONFIG" not in os.environ else None
        if demo is not None:
            err.print(f"[dim]using the running demo's config: {escape(str(demo))}[/]")
        try:
            settings = load_settings(_Invocation.config)
            _Invocation.ctx = build_context(settings, migrate=migrate)
        except ConfigError as e:
            err.print(f"[red]config error:[/] {escape(str(e))}")
            raise typer.Exit(2) from None
        except (SQLAlchemyError, AlembicError, OSError, ValueError, ImportError) as e:
            if settings is None:
                raise
            err.print(f"[red]database error:[/] {escape(database_problem(settings.database_url, e))}")
            raise typer.Exit(2) from None
    return _Invocation.ctx


def hide_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even a URL: hide whatever sits between "://user:" and "@"
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def database_problem(url: str, e: BaseException) -> str:
    """One line: which database (password hidden), what went wrong, what to do."""
    cause = getattr(e, "orig", None) or e
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0][:300]
    if isinstance(e, ArgumentError | NoSuchModuleError | ImportError):
        fix = ("write database.url (or OMAMORI_DATABASE__URL) as sqlite:///PATH or "
               "postgresql+psycopg://USER@HOST/DATABASE, or leave it empty for SQLite in the state folder")
    elif isinstance(e, OSError):
        fix = "the folder of the SQLite file must exist and be writable (service.state_dir or database.url)"
    else:
        fix = ("check database.url (or OMAMORI_DATABASE__URL): the server must be running and reachable, the "
               "database and role must exist (README, 'From SQLite to PostgreSQL')")
    return f"cannot use {hide_password(url)}: {type(cause).__name__}: {first}; {fix}"


def user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return os.environ.get("USER", "unknown")


def actor() -> str:
    """Who did it, for the audit log: ``cli:<login>``."""
    return f"cli:{user()}"
