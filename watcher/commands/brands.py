"""omamori brands: the protected brands of the brands file, and their sync into the database."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from sqlmodel import Session

from watcher.commands.invocation import actor, console, context, err, say
from watcher.core.brands import sync_brands

cli = typer.Typer(help="The protected brands (data/brands.toml).", no_args_is_help=True)


@cli.command("sync")
def brands_sync() -> None:
    """Write data/brands.toml into the database (idempotent)."""

    ctx = context()
    if not ctx.brands:
        err.print(f"[yellow]{escape(say('cli.brands.none', path=str(ctx.settings.path(ctx.settings.service.brands_file))))}[/]")
    with Session(ctx.engine) as s:
        counts = sync_brands(s, ctx.brands, actor=actor())
    console.print(escape(say("cli.brands.synced", added=counts.get("brands_added", 0),
                             updated=counts.get("brands_updated", 0), domains=counts.get("domains_added", 0))))


@cli.command("list")
def brands_list() -> None:
    """Show the protected brands and their official domains."""
    ctx = context(migrate=False)
    for b in ctx.brands:
        console.print(f"[bold]{b.slug}[/] {b.name} {b.name_ja}: {', '.join(b.official_domains)}", highlight=False)




@cli.command("suggest-exceptions")
def brands_suggest_exceptions(
    benign: Path = typer.Option(..., "--benign", help="A benign list: hostnames (one a line, or rank,domain) "
                                "or dictionary words."),
    brand: str = typer.Option("", "--brand", help="Only this brand (slug)."),
) -> None:
    """Ordinary names the matcher would flag, and the word to add to each brand's word_exceptions.

    Nothing is changed: review each line and copy the real non-brand words into the brands file."""
    from watcher.discovery.ct.matcher import Matcher
    from watcher.discovery.exceptions import suggest

    ctx = context(migrate=False)
    try:
        lines = benign.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as e:
        err.print(f"[red]{escape(say('cli.brands.unreadable', path=str(benign), error=e.strerror or type(e).__name__))}[/]")
        raise typer.Exit(2) from None
    found = suggest(Matcher(list(ctx.brands), with_permutations=False), lines, brand=brand or None)
    if not found:
        console.print(say("cli.brands.none_flagged"))
        return
    for s in found:
        typer.echo(say("cli.brands.suggestion", brand=s.brand, word=s.word, example=s.example, reason=s.reason))
