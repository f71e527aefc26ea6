"""omamori case: the sites (one case per site), their evidence bundle, their shared indicators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from watcher.commands.invocation import actor, console, context, err, say, word
from watcher.core.casefacts import case_facts, live_cases
from watcher.sharing import evidence, share

cli = typer.Typer(help="Cases (one per phishing site): list, evidence bundle, STIX and MISP.", no_args_is_help=True)


@cli.command("list")
def list_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every site with its hostnames and status."""
    with context().session() as s:
        rows: list[dict[str, Any]] = [{"case": f.id, "site": f.site, "status": f.case.status.value, "confirmed": f.confirmed,
                 "hostnames": [c.domain for c in f.hosts], "opened_at": f.case.opened_at.isoformat()}
                for f in live_cases(s)]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    t = Table(*(say(f"cli.col.{c}") for c in ("case", "site", "status", "confirmed", "hostnames")))
    for r in rows:
        t.add_row(str(r["case"]), r["site"], word("case_status", r["status"]), say("cli.yes") if r["confirmed"] else "",
                  " ".join(r["hostnames"]))
    console.print(t)


@cli.command("export")
def export_cmd(case_id: Annotated[int, typer.Argument(help="case id (`omamori case list`)")],
               out: Annotated[Path | None, typer.Option("--out", "-o", help="zip file to write")] = None) -> None:
    """The evidence bundle for investigators: every file, the timeline, requests and answers, a signed manifest."""
    ctx = context()
    try:
        path = evidence.export(ctx, case_id, out, actor=actor())
    except evidence.BundleError as e:
        err.print(f"[red]{escape(say('cli.case.bundle_error', error=str(e)))}[/]")
        raise typer.Exit(2) from None
    console.print(str(path))


@cli.command("share")
def share_cmd(case_id: Annotated[int, typer.Argument(help="case id (`omamori case list`)")]) -> None:
    """Write the case's STIX 2.1 bundle and push it to MISP (sharing.misp_url) now."""
    ctx = context()
    with ctx.session() as s:
        facts = case_facts(s, case_id)
        if facts is None:
            err.print(f"[red]{escape(say('cli.case.no_case', id=case_id))}[/]")
            raise typer.Exit(2)
        result = share.share_case(ctx, s, facts, actor=actor())
        s.commit()
    for k, v in result.items():
        console.print(f"{k}: {v}")
    if "error" in result:
        raise typer.Exit(1)
