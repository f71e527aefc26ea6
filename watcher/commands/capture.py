"""omamori capture: one page, the brands' references, one candidate checked now."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from watcher.capture.crawl import capture_url
from watcher.commands.invocation import context

# ------------------------------------------------------------------ CLI: omamori capture ...

cli = typer.Typer(help="Capture pages with the crawler (browser, fallback, evidence).", no_args_is_help=True)



@cli.command("url")
def url_cmd(
    url: str,
    profile: Annotated[str, typer.Option(help="desktop or mobile")] = "desktop",
    full: Annotated[bool, typer.Option("--full", help="print text and links too")] = False,
) -> None:
    """Capture one page and print its record (JSON)."""
    rec = capture_url(context(), url, profile)
    if not full:
        rec = {k: v for k, v in rec.items() if k not in ("text", "links", "images")}
    typer.echo(json.dumps(rec, ensure_ascii=False, indent=2))


@cli.command("references")
def references_cmd(brand: Annotated[str, typer.Option(help="one brand slug (default: all)")] = "") -> None:
    """Capture the brands' reference pages and store their hashes and logo (Brand.references)."""
    from watcher.capture.references import capture_references

    summary = capture_references(context(), brand or None)
    typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))


@cli.command("check")
def check_cmd(candidate_id: int) -> None:
    """Check one candidate now: DNS, RDAP, capture, score, triage."""
    from watcher.capture.snapshot import check_candidate

    snap = check_candidate(context(), candidate_id, actor="cli")
    typer.echo(json.dumps({"snapshot": snap.id, "verdict": snap.verdict.value, "score": snap.score,
                           "gone": snap.gone, "reasons": snap.reasons}, ensure_ascii=False, indent=2))
