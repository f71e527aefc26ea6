"""omamori lint-messages: login links in the firm's mail and SMS templates (guideline IV.4(5))."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from watcher.commands.invocation import context
from watcher.core.inputs import InputRefused
from watcher.owned.message_links import (
    MAX_TEMPLATE_BYTES,
    Problem,
    Rules,
    expand,
    lint_file,
)


def lint_messages(
    paths: Annotated[list[Path], typer.Argument(help="template files or folders (text, HTML, .eml)")],
    brands_file: Annotated[Path | None, typer.Option("--brands", help="brands file (default: from config)")] = None,
    shortener: Annotated[list[str] | None, typer.Option(help="also treat this domain as a shortener "
                                                             "(e.g. the firm's own short links)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print problems as JSON lines")] = False,
    max_bytes: Annotated[int, typer.Option(help="a larger file is refused (templates are small)")] = MAX_TEMPLATE_BYTES,
) -> None:
    """Check email and SMS templates for login links (guideline IV.4(5)); exit 1 if any."""
    if brands_file is not None:
        from watcher.core.brands import load_brands

        brands = load_brands(brands_file)
    else:

        brands = context().brands
    rules = Rules.from_brands(brands, shortener or [])
    problems: list[Problem] = []
    unreadable = 0
    files = expand(paths)
    for f in files:
        try:
            problems.extend(lint_file(f, rules, max_bytes))
        except InputRefused as e:
            unreadable += 1
            typer.echo(f"{e}", err=True)
        except OSError as e:
            unreadable += 1
            typer.echo(f"{f}: cannot read: {e.strerror or e}", err=True)
    for p in problems:
        typer.echo(json.dumps(asdict(p), ensure_ascii=False) if as_json else str(p))
    if not as_json:
        typer.echo(f"{len(files)} file(s), {len(problems)} problem(s)"
                   + (f", {unreadable} not read (above)" if unreadable else ""), err=True)
    if unreadable:
        raise typer.Exit(2)
    if problems:
        raise typer.Exit(1)
