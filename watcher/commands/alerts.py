"""omamori alerts: what was said to the team, and a test message to prove a channel works."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import col, select

from watcher.alerts import engine
from watcher.commands.invocation import console, context, err, lang, say, word
from watcher.core.models import Alert, AlertDelivery
from watcher.core.texts import render_stored

cli = typer.Typer(help="Alerts to the team: list what was sent, test a channel.", no_args_is_help=True)


@cli.command("list")
def list_cmd(limit: Annotated[int, typer.Option(help="how many, newest first")] = 30) -> None:
    """The latest alerts and where each went."""
    ctx = context()
    language = lang()
    with ctx.session() as s:
        alerts = list(s.exec(select(Alert).order_by(col(Alert.id).desc()).limit(limit)))
        deliveries = {a.id: list(s.exec(select(AlertDelivery).where(AlertDelivery.alert_id == a.id))) for a in alerts}
    t = Table(*(say(f"cli.col.{c}") for c in ("id", "at_utc", "rule", "kind", "severity", "title", "channels")))
    for a in alerts:
        chans = ", ".join(f"{d.channel}:{d.status.value}" for d in deliveries[a.id])
        t.add_row(str(a.id), f"{a.created_at:%Y-%m-%d %H:%M}", a.rule, a.kind, word("severity", a.severity),
                  render_stored(a.title_text, language, a.key), chans)
    console.print(t)


@cli.command("test")
def test_cmd(channel: Annotated[str | None, typer.Option(help="one channel (default: every channel)")] = None
             ) -> None:
    """Send a test alert now to prove the route (webhook URL, mail, syslog) works."""
    try:
        result = engine.send_test(context(), channel)
    except KeyError as e:
        err.print(f"[red]{e.args[0]}[/]")
        raise typer.Exit(2) from None
    console.print(", ".join(f"{k}={v}" for k, v in result.items()))
    if result.get("failed") or result.get("retrying"):
        raise typer.Exit(1)
