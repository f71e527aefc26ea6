"""omamori check, add: look at one name now, and report a suspicious URL by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from sqlmodel import Session, select

from watcher.clients.hosting import classify
from watcher.clients.records import Registration
from watcher.commands.invocation import console, context, err, lang, say, user, word
from watcher.context import Context
from watcher.core.models import Candidate
from watcher.core.names import InvalidName
from watcher.core.reasons import reason_text
from watcher.core.texts import t
from watcher.discovery.ct.matcher import explain as match_explain
from watcher.discovery.discover import OwnedIndex, host_of
from watcher.discovery.intake import submit_url


def check(name: Annotated[str, typer.Argument(help="a domain name or URL")]) -> None:
    """Look at one domain now and print what omamori sees (normalisation, DNS, RDAP, match, records)."""

    ctx = context()
    try:
        n, _url = host_of(name)
    except InvalidName as e:
        err.print(f"[red]{escape(say('cli.look.invalid', error=str(e)))}[/]")
        raise typer.Exit(2) from None
    console.print(f"[bold]{n.ascii}[/]" + escape(say("cli.look.head", unicode=n.unicode, registrable=n.registrable or "-",
                                                     site=n.site or "-")), highlight=False)
    with Session(ctx.engine) as s:
        owner = OwnedIndex.from_brands(ctx.brands, s).owner_of(n.ascii)
    if owner:
        console.print(f"[green]{escape(say('cli.look.ours', owner=owner))}[/]", highlight=False)
    prof = ctx.resolver.profile_sync(n.ascii)
    for rtype, status in prof.statuses.items():
        console.print(f"  DNS {rtype:5} {status:8} {', '.join(prof.records.get(rtype, []))}", highlight=False)
    # The matcher's explanation is the discovery floor's own wording (English for now).
    explainers: tuple[tuple[str, Callable[[Context, str], list[str]]], ...] = (
        ("match", match_explain), ("rdap", lambda c, n: registration_lines(c, n, lang())))
    for label, fn in explainers:
        shown = say(f"cli.look.label.{label}")
        try:
            for line in fn(ctx, n.ascii):
                console.print(f"  {escape(shown)}: {escape(line)}", highlight=False)
        except Exception as e:  # show what failed, keep showing the rest
            console.print(f"  {escape(shown)}: [red]{escape(f'{type(e).__name__}: {e}')}[/]", highlight=False)
    with Session(ctx.engine) as s:
        cand = s.exec(select(Candidate).where(Candidate.domain == n.ascii)).first()
    if cand:
        console.print("  " + escape(say("cli.look.candidate", id=cand.id, status=word("status", cand.status),
                                        verdict=word("verdict", cand.verdict), score=cand.score)), highlight=False)
        for r in cand.reasons:
            console.print(f"    - {escape(reason_text(r, lang()))} (+{r.get('points', 0)})", highlight=False)
    elif not owner:
        console.print("  " + escape(say("cli.look.not_candidate")))


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
        except KeyError:
            err.print(f"[red]{escape(say('cli.look.unknown_brand', brand=brand))}[/]")
            raise typer.Exit(2) from None
    with Session(ctx.engine, expire_on_commit=False) as s:
        out = submit_url(ctx, s, url, reporter=who, note=note, channel="cli", brand=brand)
        s.commit()
    if out.candidate is None:
        err.print(f"[yellow]{escape(say('cli.look.not_added'))}[/] {escape(str(out.skipped))}")
        raise typer.Exit(1)
    console.print(escape(say("cli.look.added" if out.created else "cli.look.updated", id=out.candidate.id,
                             domain=out.candidate.domain)), highlight=False)


def registration_lines(ctx: Context, name: str, language: str | None = None) -> list[str]:
    """Lines for ``omamori check``: registration facts, and network and hosting of the addresses, in
    ``language`` (default: the config's ``service.language``)."""
    chosen = language or ctx.settings.service.language

    def say(key: str, /, **params: Any) -> str:
        return t(key, chosen, **params)

    reg: Registration = ctx.rdap.domain(name)
    lines: list[str] = []
    if reg.error:
        lines.append(say("cli.reg.failed", source=reg.source, name=reg.name, error=reg.error))
    elif not reg.exists:
        lines.append(say("cli.reg.not_registered", name=reg.name, source=reg.source, server=reg.server))
    else:
        def d(v: datetime | None) -> str:
            return v.strftime("%Y-%m-%d") if v else "-"

        lines += [
            say("cli.reg.via", name=reg.name, source=reg.source, server=reg.server),
            say("cli.reg.registrar", registrar=reg.registrar or "-",
                iana=f" (IANA {reg.registrar_iana_id})" if reg.registrar_iana_id else ""),
            say("cli.reg.abuse", email=reg.abuse_email or "-", phone=reg.abuse_phone).rstrip(),
            say("cli.reg.dates", created=d(reg.created_at), expires=d(reg.expires_at), updated=d(reg.updated_at)),
            say("cli.reg.status", statuses=", ".join(reg.statuses) or "-"),
            say("cli.reg.ns", ns=", ".join(reg.nameservers) or "-",
                dnssec={True: say("cli.reg.signed"), False: say("cli.reg.unsigned"), None: "-"}[reg.dnssec]),
        ]
    try:
        prof = ctx.resolver.profile_sync(name, ["A", "AAAA", "CNAME"])
    except Exception:
        return lines
    for addr in prof.addresses[:3]:
        net = ctx.rdap.ip(addr)
        lines.append(say("cli.reg.network", addr=addr, what=net.error or say(
            "cli.reg.network_of", name=net.name, cidr=net.cidr, country=net.country, abuse=net.abuse_email or "-")))
    host = classify(prof.addresses, prof.records.get("CNAME", []), reg.nameservers, host=name)
    if host.service:
        lines.append(say("cli.reg.hosting", service=host.service, kind=word("recipient", host.kind, chosen),
                         to=host.abuse_email or host.form_url or "-"))
    return lines
