"""omamori check, add: look at one name now, and report a suspicious URL by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

import typer
from sqlmodel import Session, select

from watcher.clients.hosting import classify
from watcher.clients.records import Registration
from watcher.commands.invocation import console, context, err, user
from watcher.context import Context
from watcher.core.models import Candidate
from watcher.core.names import InvalidName
from watcher.discovery.ct.matcher import explain as match_explain
from watcher.discovery.discover import OwnedIndex, host_of
from watcher.discovery.intake import submit_url


def check(name: Annotated[str, typer.Argument(help="a domain name or URL")]) -> None:
    """Look at one domain now and print what omamori sees (normalisation, DNS, RDAP, match, records)."""

    ctx = context()
    try:
        n, _url = host_of(name)
    except InvalidName as e:
        err.print(f"[red]invalid name:[/] {e}")
        raise typer.Exit(2) from None
    console.print(f"[bold]{n.ascii}[/]  ({n.unicode})  registrable: {n.registrable or '-'}  site: {n.site or '-'}")
    with Session(ctx.engine) as s:
        owner = OwnedIndex.from_brands(ctx.brands, s).owner_of(n.ascii)
    if owner:
        console.print(f"[green]ours[/]: within {owner}")
    prof = ctx.resolver.profile_sync(n.ascii)
    for rtype, status in prof.statuses.items():
        console.print(f"  DNS {rtype:5} {status:8} {', '.join(prof.records.get(rtype, []))}", highlight=False)
    explainers: tuple[tuple[str, Callable[[Context, str], list[str]]], ...] = (
        ("match", match_explain), ("rdap", registration_lines))
    for label, fn in explainers:
        try:
            for line in fn(ctx, n.ascii):
                console.print(f"  {label}: {line}", highlight=False)
        except Exception as e:  # show what failed, keep showing the rest
            console.print(f"  {label}: [red]{type(e).__name__}: {e}[/]", highlight=False)
    with Session(ctx.engine) as s:
        cand = s.exec(select(Candidate).where(Candidate.domain == n.ascii)).first()
    if cand:
        console.print(f"  candidate #{cand.id}: {cand.status.value}, verdict {cand.verdict.value}, score {cand.score}")
        for r in cand.reasons:
            console.print(f"    - {r['detail']} (+{r['points']})", highlight=False)
    elif not owner:
        console.print("  not a candidate yet")


def add(
    url: Annotated[str, typer.Argument(help="the suspicious URL or domain")],
    brand: Annotated[str | None, typer.Option(help="brand slug it impersonates")] = None,
    note: Annotated[str, typer.Option(help="what the reporter said")] = "",
    reporter: Annotated[str, typer.Option(help="who reported it (default: you)")] = "",
) -> None:
    """Report a suspicious URL (it becomes a candidate and is checked soon)."""

    ctx = context()
    who = reporter or user()
    if brand:
        try:
            ctx.brand(brand)
        except KeyError as e:
            err.print(f"[red]{e.args[0]}[/]")
            raise typer.Exit(2) from None
    with Session(ctx.engine, expire_on_commit=False) as s:
        out = submit_url(ctx, s, url, reporter=who, note=note, channel="cli", brand=brand)
        s.commit()
    if out.candidate is None:
        err.print(f"[yellow]not added:[/] {out.skipped}")
        raise typer.Exit(1)
    verb = "added" if out.created else "already known, updated"
    console.print(f"candidate #{out.candidate.id} {out.candidate.domain}: {verb}")


def registration_lines(ctx: Context, name: str) -> list[str]:
    """Lines for ``omamori check``: registration facts, and network and hosting of the addresses."""
    reg: Registration = ctx.rdap.domain(name)
    lines: list[str] = []
    if reg.error:
        lines.append(f"{reg.source} lookup of {reg.name} failed: {reg.error}")
    elif not reg.exists:
        lines.append(f"{reg.name}: not registered ({reg.source} {reg.server})")
    else:
        def d(v: datetime | None) -> str:
            return v.strftime("%Y-%m-%d") if v else "-"

        lines += [
            f"{reg.name} via {reg.source} ({reg.server})",
            f"registrar: {reg.registrar or '-'}" + (f" (IANA {reg.registrar_iana_id})" if reg.registrar_iana_id else ""),
            f"abuse contact: {reg.abuse_email or '-'} {reg.abuse_phone}".rstrip(),
            f"created {d(reg.created_at)}, expires {d(reg.expires_at)}, updated {d(reg.updated_at)}",
            f"status: {', '.join(reg.statuses) or '-'}",
            f"nameservers: {', '.join(reg.nameservers) or '-'}; DNSSEC: "
            + {True: "signed", False: "unsigned", None: "-"}[reg.dnssec],
        ]
    try:
        prof = ctx.resolver.profile_sync(name, ["A", "AAAA", "CNAME"])
    except Exception:
        return lines
    for addr in prof.addresses[:3]:
        net = ctx.rdap.ip(addr)
        lines.append(f"network of {addr}: " + (net.error or f"{net.name} {net.cidr} {net.country} "
                                                            f"(abuse {net.abuse_email or '-'})"))
    host = classify(prof.addresses, prof.records.get("CNAME", []), reg.nameservers, host=name)
    if host.service:
        lines.append(f"hosting: {host.service} ({host.kind}); report to {host.abuse_email or host.form_url or '-'}")
    return lines
