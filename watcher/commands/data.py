"""omamori data: the reference files in data/, listed and refreshed from their public sources."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from watcher.commands.invocation import context, say
from watcher.core.config import ROOT
from watcher.owned import signatures
from watcher.owned.signature_sources import services_doc
from watcher.refdata import REFERENCE, refresh

TAKEOVER_DOC = ROOT / "docs" / "takeover-services.md"

cli = typer.Typer(help="Reference data shipped in data/: list and refresh from the public sources.",
                  no_args_is_help=True)


@cli.command("list")
def list_cmd() -> None:
    """Show each reference file, its source and when it was taken."""
    for ref in REFERENCE:
        when = "-"
        if ref.path.exists():
            try:
                when = json.loads(ref.path.read_text(encoding="utf-8")).get("_retrieved", "-")
            except (ValueError, AttributeError):
                when = "?"
        typer.echo(f"{ref.name:22} {when:12} {ref.url}")


@cli.command("refresh")
def refresh_cmd(
    name: Annotated[str, typer.Argument(help="reference file name (`omamori data list`), or 'all'")],
    source_url: Annotated[str | None, typer.Option(help="fetch from this URL instead (a mirror)")] = None,
) -> None:
    """Fetch a reference file again from its public source (uses the configured proxy)."""

    ctx = context()
    chosen = [r for r in REFERENCE if name in (r.name, "all")]
    if not chosen:
        typer.echo(say("cli.data.unknown", name=name), err=True)
        raise typer.Exit(2)
    with ctx.http() as client:
        def fetch(url: str) -> bytes:
            r = client.get(url)
            r.raise_for_status()
            return r.content

        for ref in chosen:
            try:
                typer.echo(json.dumps(refresh(ref, fetch, source_url)))
            except Exception as e:
                typer.echo(say("cli.data.not_refreshed", name=ref.name, error=f"{type(e).__name__}: {e}"), err=True)
                raise typer.Exit(1) from None


@cli.command("takeover-doc")
def takeover_doc_cmd(
    write: Annotated[bool, typer.Option(help="write docs/takeover-services.md instead of printing it")] = False,
) -> None:
    """The table of takeover services and what proves each (docs/takeover-services.md)."""
    raw = json.loads(signatures.SIGNATURES.read_text(encoding="utf-8"))
    doc = services_doc(raw["items"], raw.get("sources", []))
    if write:
        TAKEOVER_DOC.write_text(doc, encoding="utf-8")
        typer.echo(say("cli.data.wrote", path=TAKEOVER_DOC))
    else:
        typer.echo(doc, nl=False)
