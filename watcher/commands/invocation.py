"""One invocation of ``omamori``: the ``--config`` it was given and the Context built from it.

Every command asks ``context()`` for its Context, so ``omamori --config X <any command>`` uses X
everywhere; the Context is built once per invocation, on first use.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import typer
from rich.console import Console

from watcher.context import Context, build_context
from watcher.core.config import ConfigError, load_settings

# highlight=False: a domain or a path is data, not something for rich to colour.
console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


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
        try:
            _Invocation.ctx = build_context(load_settings(_Invocation.config), migrate=migrate)
        except ConfigError as e:
            err.print(f"[red]config error:[/] {e}")
            raise typer.Exit(2) from None
    return _Invocation.ctx


def user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return os.environ.get("USER", "unknown")


def actor() -> str:
    """Who did it, for the audit log: ``cli:<login>``."""
    return f"cli:{user()}"
