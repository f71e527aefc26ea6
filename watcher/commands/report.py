"""omamori report: the weekly report and the official-domains list."""

from __future__ import annotations

from typing import Annotated

import typer

from watcher.commands.invocation import console, context, say
from watcher.report.customer_alerts import render_customer_alerts
from watcher.report.official_domains import render_official_domains
from watcher.report.weekly import mail_weekly, render_weekly

# --- command line --------------------------------------------------------------------------------

cli = typer.Typer(help="Reports: the weekly report, the official-domains list, the customer alert page.",
                  no_args_is_help=True)


@cli.command("weekly")
def weekly_cmd(mail: Annotated[bool, typer.Option("--mail/--no-mail", help="mail it to report.recipients")] = True
               ) -> None:
    """Render the weekly report now (HTML + CSV in <state_dir>/reports/) and mail it."""

    ctx = context()
    data, paths = render_weekly(ctx)
    for p in paths.values():
        console.print(str(p), highlight=False)
    if mail:
        mid = mail_weekly(ctx, data, paths)
        console.print(say("cli.report.mailed", id=mid) if mid else say("cli.report.not_mailed"), highlight=False)


@cli.command("official-domains")
def official_cmd() -> None:
    """Render the customer-facing list of official domains (HTML + JSON, ja/en)."""

    for p in render_official_domains(context()).values():
        console.print(str(p), highlight=False)


@cli.command("customer-alerts")
def customer_alerts_cmd() -> None:
    """Render the customer alert page: the fake sites a person confirmed (HTML + JSON, ja/en, defanged)."""

    for k, p in render_customer_alerts(context()).items():
        if not k.startswith("changed"):
            console.print(str(p), highlight=False)
