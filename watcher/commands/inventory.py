"""omamori inventory: the owned domains, their checks run now, and accepted name servers."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import select

from watcher.commands.invocation import console, context, err
from watcher.core.models import OwnedDomain
from watcher.owned.inventory import run
from watcher.owned.registration import accept_nameservers

# --- command line --------------------------------------------------------------------------------

cli = typer.Typer(help="Owned domains: inventory and checks (expiry, locks, drop-catch, takeover).",
                  no_args_is_help=True)


@cli.command("run")
def run_cmd() -> None:
    """Refresh the inventory and run every check now; print the summary."""
    ctx = context()
    for k, v in run(ctx).items():
        console.print(f"[bold]{k}[/]: {v}", highlight=False)


@cli.command("list")
def list_cmd() -> None:
    """Show the owned domains with registrar, expiry, locks and whether they are gone from every source."""
    ctx = context()
    t = Table("name", "source", "registrar", "expires", "locks", "dnssec", "state")
    with ctx.session() as s:
        for d in s.exec(select(OwnedDomain).order_by(OwnedDomain.apex, OwnedDomain.name)):
            locks = ", ".join(x for x in d.statuses if "prohibited" in x)
            t.add_row(d.name, d.source.value, d.registrar or "-",
                      d.expires_at.strftime("%Y-%m-%d") if d.expires_at else "-", locks or "-",
                      {True: "yes", False: "no", None: "-"}[d.dnssec],
                      "lapsed" if d.lapsed else f"gone {d.gone_at:%Y-%m-%d}" if d.gone_at else "")
    console.print(t)


@cli.command("accept-ns")
def accept_ns_cmd(domain: Annotated[str, typer.Argument(help="owned domain whose current name servers are right")]) -> None:
    """Accept the current name servers of DOMAIN as its expected set (closes the ns-change finding)."""
    ctx = context()
    with ctx.session() as s:
        ok = accept_nameservers(s, domain, actor=ctx.actor, now=ctx.now())
        s.commit()
    if not ok:
        err.print(f"[red]{domain} is not an owned apex with known name servers[/]")
        raise typer.Exit(1)
    console.print(f"{domain}: name servers accepted")
