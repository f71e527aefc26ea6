"""omamori inventory: the owned domains, their checks run now, and accepted name servers."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import select

from watcher.commands.invocation import console, context, err, say, word
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
    # No outer edge: the Japanese headers are wide, and a domain name must fit an 80-column terminal
    # whole (folded, never cut with "…": a cut name reads as another name).
    t = Table(show_edge=False, pad_edge=False)
    for c in ("name", "source", "registrar", "expires", "locks", "dnssec", "state"):
        t.add_column(say(f"cli.col.{c}"), overflow="fold" if c == "name" else "ellipsis")
    with ctx.session() as s:
        for d in s.exec(select(OwnedDomain).order_by(OwnedDomain.apex, OwnedDomain.name)):
            locks = " ".join(_epp(x) for x in d.statuses if "prohibited" in x.lower())
            t.add_row(d.name, word("owned_source", d.source), d.registrar or "-",
                      d.expires_at.strftime("%Y-%m-%d") if d.expires_at else "-", locks or "-",
                      {True: say("cli.yes"), False: say("cli.no"), None: "-"}[d.dnssec],
                      say("cli.owned.lapsed") if d.lapsed
                      else say("cli.owned.gone", date=f"{d.gone_at:%Y-%m-%d}") if d.gone_at else "")
    console.print(t)


def _epp(status: str) -> str:
    """An RDAP status as its EPP code (RFC 5731: ``clientTransferProhibited``), the same in either language."""
    words = status.replace("_", " ").split()
    return "".join([words[0].lower(), *(w.capitalize() for w in words[1:])]) if len(words) > 1 else status


@cli.command("accept-ns")
def accept_ns_cmd(domain: Annotated[str, typer.Argument(help="owned domain whose current name servers are right")]) -> None:
    """Accept the current name servers of DOMAIN as its expected set (closes the ns-change finding)."""
    ctx = context()
    with ctx.session() as s:
        ok = accept_nameservers(s, domain, actor=ctx.actor, now=ctx.now())
        s.commit()
    if not ok:
        err.print(f"[red]{escape(say('cli.owned.not_apex', domain=domain))}[/]")
        raise typer.Exit(1)
    console.print(escape(say("cli.owned.ns_accepted", domain=domain)))
