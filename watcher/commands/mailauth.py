"""omamori mailauth: mail authentication of the sending domains, and DMARC aggregate reports."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from watcher.commands.invocation import console, context
from watcher.owned.dmarc import failing_senders, ingest, ingest_files
from watcher.owned.mailauth import (
    run,
)

# --- command line --------------------------------------------------------------------------------

cli = typer.Typer(help="Mail authentication of the sending domains (SPF, DKIM, DMARC, BIMI, MTA-STS, TLS-RPT).",
                  no_args_is_help=True)


@cli.command("check")
def check_cmd() -> None:
    """Check every sending domain now and print the posture."""

    result = run(context())
    for domain, aspects in result.get("posture", {}).items():
        console.print(f"[bold]{domain}[/]", highlight=False)
        for aspect, st in aspects.items():
            mark = "[green]ok[/]" if st.get("ok") else "[red]NG[/]"
            console.print(f"  {aspect:9} {mark} {'; '.join(st.get('problems', []))}", highlight=False)


@cli.command("ingest")
def ingest_cmd(
    paths: Annotated[list[str] | None, typer.Argument(help="report files (xml, gz, zip, eml); default: the "
                                                           "configured folder and mailbox")] = None,
) -> None:
    """Ingest DMARC aggregate reports."""
    ctx = context()
    result = ingest_files(ctx, [Path(p) for p in paths]) if paths else ingest(ctx)
    console.print(result, highlight=False)


@cli.command("senders")
def senders_cmd(days: Annotated[int, typer.Option(help="look back this many days")] = 7) -> None:
    """Who sends mail as our domains and fails DMARC alignment (from the aggregate reports)."""
    ctx = context()
    t = Table("domain", "source IP", "messages", "header_from", "spf", "dkim", "disposition")
    with ctx.session() as s:
        for row in failing_senders(s, since=ctx.now() - timedelta(days=days)):
            t.add_row(row["domain"], row["source_ip"], str(row["count"]), row["header_from"], row["spf"],
                      row["dkim"], row["disposition"])
    console.print(t)
