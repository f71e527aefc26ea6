"""omamori brands: the protected brands of the brands file, and their sync into the database."""

from __future__ import annotations

import typer
from sqlmodel import Session

from watcher.commands.invocation import actor, console, context, err
from watcher.core.brands import sync_brands

cli = typer.Typer(help="The protected brands (data/brands.toml).", no_args_is_help=True)


@cli.command("sync")
def brands_sync() -> None:
    """Write data/brands.toml into the database (idempotent)."""

    ctx = context()
    if not ctx.brands:
        err.print(f"[yellow]no brands in {ctx.settings.path(ctx.settings.service.brands_file)}[/]")
    with Session(ctx.engine) as s:
        counts = sync_brands(s, ctx.brands, actor=actor())
    console.print(", ".join(f"{k}: {v}" for k, v in counts.items()))


@cli.command("list")
def brands_list() -> None:
    """Show the protected brands and their official domains."""
    ctx = context(migrate=False)
    for b in ctx.brands:
        console.print(f"[bold]{b.slug}[/] {b.name} {b.name_ja}: {', '.join(b.official_domains)}", highlight=False)


