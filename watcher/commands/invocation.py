"""One invocation of ``omamori``: the ``--config`` it was given, the Context built from it, and the
reader's language.

Every command asks ``context()`` for its Context, so ``omamori --config X <any command>`` uses X
everywhere; the Context is built once per invocation, on first use. Every sentence a command prints
goes through ``say(key, ...)`` (the text catalogue, ``watcher/core/texts/terminal.py``) in ``lang()``:
``--lang`` / ``OMAMORI_LANG``, else the config's ``service.language``.
"""

from __future__ import annotations

import getpass
import os
import re
from pathlib import Path
from typing import Any, NoReturn

import typer
from alembic.util.exc import CommandError as AlembicError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from watcher.context import Context, build_context
from watcher.core.config import ConfigError, load_settings, running_demo_config
from watcher.core.texts import CATALOGUE, LANGS, WORDS, render_stored, t
from watcher.core.texts import word as shared_word

# highlight=False: a domain or a path is data, not something for rich to colour. soft_wrap on stderr:
# an error is one line, whatever the terminal's width (a log collector keeps it whole).
console = Console(highlight=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class _Invocation:
    config: Path | None = None
    ctx: Context | None = None
    pinned: Context | None = None  # a Context given by the program that embeds the CLI (a test)
    lang: str | None = None  # --lang / OMAMORI_LANG; None: the config's service.language
    config_lang: str | None = None


def pin(ctx: Context | None) -> None:
    """Use ``ctx`` for every command from now on, whatever ``--config`` says (None: stop)."""
    _Invocation.pinned = ctx


def set_config(path: Path | None, lang: str | None = None) -> None:
    """Called by the root command with ``--config`` (or ``OMAMORI_CONFIG``) and ``--lang`` (or
    ``OMAMORI_LANG``); forgets any earlier Context."""
    _Invocation.config = path
    _Invocation.ctx = None
    _Invocation.config_lang = None
    _Invocation.lang = None
    if lang is not None and lang.strip():
        if lang.strip().lower() not in LANGS:
            err.print(f"[red]{escape(t('cli.bad_lang', 'en', lang=lang))}[/]")
            raise typer.Exit(2)
        _Invocation.lang = lang.strip().lower()


def lang() -> str:
    """The reader's language: ``--lang`` / ``OMAMORI_LANG``, else the config's ``service.language``
    (Japanese, the default, when the config cannot be read: the error itself says why)."""
    if _Invocation.lang is not None:
        return _Invocation.lang
    ctx = _Invocation.pinned or _Invocation.ctx
    if ctx is not None:
        return ctx.settings.service.language
    if _Invocation.config_lang is None:
        try:
            _Invocation.config_lang = load_settings(_Invocation.config).service.language
        except Exception:  # a broken config is reported by context(); the sentence still needs a language
            _Invocation.config_lang = "ja"
    return _Invocation.config_lang


def say(key: str, /, **params: Any) -> str:
    """The catalogue's sentence ``key`` in the reader's language (plain text: escape it for rich markup)."""
    return t(key, lang(), **params)


def word(kind: str, value: Any, language: str | None = None) -> str:
    """An enum value as the reader reads it: a shared vocabulary's word (``texts.WORDS``, the story's and the
    dashboard's too), else the terminal's own ``cli.<kind>.<value>``, else the value itself."""
    if kind in WORDS:
        return shared_word(kind, value, language or lang())
    v = str(getattr(value, "value", value))
    key = f"cli.{kind}.{v}"
    return t(key, language or lang()) if key in CATALOGUE else v


def said(stored: Any, fallback: str = "") -> str:
    """A stored catalogue text (a finding's title, a reason) in the reader's language."""
    return render_stored(stored, lang(), fallback)


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
            err.print(f"[dim]{escape(say('cli.using_demo', path=str(demo)))}[/]")
        try:
            settings = load_settings(_Invocation.config)
            _Invocation.ctx = build_context(settings, migrate=migrate)
        except ConfigError as e:
            err.print(f"[red]{escape(say('cli.config_error'))}[/] {escape(str(e))}")
            raise typer.Exit(2) from None
        except (SQLAlchemyError, AlembicError, OSError, ValueError, ImportError) as e:
            if settings is None:
                raise
            problem = database_problem(settings.database_url, e)
            err.print(f"[red]{escape(say('cli.database_error'))}[/] {escape(problem)}")
            raise typer.Exit(2) from None
    return _Invocation.ctx


def hide_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even a URL: hide whatever sits between "://user:" and "@"
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def database_problem(url: str, e: BaseException) -> str:
    """One line: which database (password hidden), what went wrong (the driver's words), what to do."""
    cause = getattr(e, "orig", None) or e
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0][:300]
    if isinstance(e, ArgumentError | NoSuchModuleError | ImportError):
        fix = "cli.db.fix_url"
    elif isinstance(e, OSError):
        fix = "cli.db.fix_folder"
    else:
        fix = "cli.db.fix_server"
    return say("cli.db.cannot_use", url=hide_password(url), error=f"{type(cause).__name__}: {first}", fix=say(fix))


def user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return os.environ.get("USER", "unknown")


def actor() -> str:
    """Who did it, for the audit log: ``cli:<login>``."""
    return f"cli:{user()}"


def fail(sentence: str, code: int = 2) -> NoReturn:
    """One red line on stderr and the exit code: a refusal, never a traceback."""
    err.print(f"[red]{escape(sentence)}[/]")
    raise typer.Exit(code)


def choices(values: list[str] | None, enum: Any, what: str) -> list[Any]:
    """The values of a repeatable choice option as ``enum`` members; an unknown one is refused with
    the choices named (``what``: the option, a ``cli.what.*`` word)."""
    out = []
    for v in values or []:
        try:
            out.append(enum(v))
        except ValueError:
            fail(say("cli.unknown_choice", what=say(f"cli.what.{what}"), value=v,
                     choices=", ".join(f"`{e.value}`" for e in enum)))
    return out

