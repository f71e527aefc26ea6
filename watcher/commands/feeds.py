"""omamori feeds: the phishing URL feeds of the config ([[feeds]]): their state, and a pull now."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import select

from watcher.commands.invocation import console, context, err, say
from watcher.core.models import FeedState
from watcher.discovery import feeds

cli = typer.Typer(help="Phishing URL feeds ([[feeds]] in the config): list, pull now.", no_args_is_help=True)


@cli.command("list")
def list_cmd() -> None:
    """Every configured feed: format, last answer, last new content, rows read, last error."""
    ctx = context()
    with ctx.session() as s:
        states = {st.name: st for st in s.exec(select(FeedState))}
    t = Table(*(say(f"cli.col.{c}") for c in ("feed", "format", "enabled", "last_answer", "last_change", "rows", "error")))
    for f in ctx.settings.feeds:
        st = states.get(f.name)
        t.add_row(f.name, f.format, say("cli.yes" if f.enabled else "cli.no"),
                  say("cli.feeds.fetched", status=st.last_status, at=f"{st.last_fetch_at:%Y-%m-%d %H:%M}")
                  if st and st.last_fetch_at else "-",
                  f"{st.last_change_at:%Y-%m-%d %H:%M}" if st and st.last_change_at else "-",
                  str(st.rows_total) if st else "0", (st.last_error if st else "")[:60])
    if not ctx.settings.feeds:
        err.print(escape(say("cli.feeds.none")))
    console.print(t)


@cli.command("pull")
def pull_cmd(name: Annotated[str, typer.Argument(help="one feed's name; all enabled feeds when omitted")] = "") -> None:
    """Pull now (the feeds job does it on its interval): new rows about our brands become candidates."""
    ctx = context()
    chosen = [f for f in ctx.settings.feeds if f.name == name or (not name and f.enabled)]
    if not chosen:
        known = ", ".join(f.name for f in ctx.settings.feeds) or say("cli.none")
        err.print(f"[red]{escape(say('cli.feeds.unknown', name=name, known=known))}[/]")
        raise typer.Exit(2)
    failed = False
    for f in chosen:
        out = feeds.pull(ctx, f)
        failed |= bool(out.get("error"))
        print(json.dumps({"feed": f.name, **out}, ensure_ascii=False))
    if failed:
        raise typer.Exit(1)
