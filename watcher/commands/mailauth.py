"""omamori mailauth: mail authentication of the sending domains, DMARC/TLS reports, the road to p=reject."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import col, select

from watcher.commands.invocation import console, context, lang, say
from watcher.core.models import DmarcFailureReport, TlsReport
from watcher.core.texts import render_stored, t
from watcher.owned.dmarc import ingest, ingest_files
from watcher.owned.mailauth import run
from watcher.owned.senders import enrich, named_senders, ready_for_reject

cli = typer.Typer(help="Mail authentication of the sending domains (SPF, DKIM, DMARC, BIMI, MTA-STS, TLS-RPT, "
                       "S/MIME) and the DMARC reports.", no_args_is_help=True)

Lang = Annotated[str | None, typer.Option(help="ja or en (default: omamori --lang, else service.language)")]


def _lang(chosen: str | None) -> str:
    return chosen if chosen in ("ja", "en") else lang()


@cli.command("check")
def check_cmd(lang: Lang = None) -> None:
    """Check every sending domain now and print the posture."""
    language = _lang(lang)
    result = run(context())
    for domain, aspects in result.get("posture", {}).items():
        console.print(f"[bold]{domain}[/]", highlight=False)
        for aspect, st in aspects.items():
            mark = f"[green]{t('cli.mail.ok', language)}[/]" if st.get("ok") else f"[red]{t('cli.mail.ng', language)}[/]"
            problems = "; ".join(render_stored(p, language, str(p)) for p in st.get("problems", []))
            console.print(f"  {aspect:17} {mark} {escape(problems)}", highlight=False)
    for note in result.get("notes", []):
        console.print(f"  [yellow]{t('cli.mail.note', language)}[/] {escape(render_stored(note, language, str(note)))}",
                      highlight=False)


@cli.command("ingest")
def ingest_cmd(
    paths: Annotated[list[str] | None, typer.Argument(help="report files (xml, json, gz, zip, eml); default: the "
                                                           "configured folder and mailbox")] = None,
) -> None:
    """Ingest DMARC aggregate and failure reports and SMTP TLS reports, then name the senders."""
    ctx = context()
    result = ingest_files(ctx, [Path(p) for p in paths]) if paths else ingest(ctx)
    result["senders"] = enrich(ctx)
    console.print(result, highlight=False)


@cli.command("senders")
def senders_cmd(
    days: Annotated[int, typer.Option(help="look back this many days")] = 30,
    domain: Annotated[str | None, typer.Option(help="one sending domain")] = None,
    failing: Annotated[bool, typer.Option("--failing", help="only senders with mail that fails DMARC")] = False,
    lang: Lang = None,
) -> None:
    """Who sends mail as our domains, by name, with volume and SPF/DKIM alignment (from aggregate reports)."""
    ctx = context()
    language = _lang(lang)
    table = Table(*(t(f"cli.col.{c}", language) for c in ("domain", "sender", "legitimate", "messages", "dmarc_pass",
                                                        "spf_aligned", "dkim_aligned", "ips", "fix")))
    with ctx.session() as s:
        for sender in named_senders(s, ctx.now() - timedelta(days=days), ctx.brands, domain):
            if failing and not sender.failing:
                continue
            d = sender.as_dict(language)
            table.add_row(d["domain"], d["sender"], d["why"] or "-", f"{d['messages']:,}", f"{d['passing']:,}",
                          f"{d['spf_aligned']:,}", f"{d['dkim_aligned']:,}", d["ips"], d["fix"])
    console.print(table)


@cli.command("ready")
def ready_cmd(lang: Lang = None) -> None:
    """Per sending domain: is it ready for p=reject? The share of legitimate mail that aligns, and what fails."""
    ctx = context()
    language = _lang(lang)
    with ctx.session() as s:
        for r in ready_for_reject(ctx, s):
            d = r.as_dict(language)
            share = f"{d['share']:.1%}" if d["share"] is not None else "-"
            colour = "green" if d["ready"] else "red"
            console.print(f"[bold]{d['domain']}[/] p={d['policy']}  [{colour}]{share}[/]  {escape(d['verdict'])}",
                          highlight=False)
            for f in d["failing_senders"]:
                console.print(f"  - {escape(f['sender'])}: {f['failing']:,}/{f['messages']:,}  {escape(f['fix'])}",
                              highlight=False)
            if d["unauthorised_failing"]:
                console.print("  " + escape(t("cli.mail.unauthorised", language, n=f"{d['unauthorised_failing']:,}")),
                              highlight=False)


@cli.command("failures")
def failures_cmd(days: Annotated[int, typer.Option(help="look back this many days")] = 30) -> None:
    """DMARC failure (forensic) reports: one failing message each."""
    ctx = context()
    table = Table(*(say(f"cli.col.{c}") for c in ("arrived", "domain", "source_ip", "header_from", "subject",
                                                    "auth_failure", "delivery", "reporter")))
    with ctx.session() as s:
        q = select(DmarcFailureReport).where(col(DmarcFailureReport.received_at) >= ctx.now() - timedelta(days=days))
        for f in s.exec(q.order_by(col(DmarcFailureReport.arrival_at).desc())):
            table.add_row(f.arrival_at.strftime("%Y-%m-%d %H:%M") if f.arrival_at else "-", f.domain, f.source_ip,
                          f.header_from, f.subject, f.auth_failure, f.delivery_result, f.reporter)
    console.print(table)


@cli.command("tls")
def tls_cmd(days: Annotated[int, typer.Option(help="look back this many days")] = 30) -> None:
    """SMTP TLS reports (RFC 8460): sessions that succeeded and failed when others delivered to us."""
    ctx = context()
    table = Table(*(say(f"cli.col.{c}") for c in ("from", "reporter", "policy_domain", "type", "success", "failure",
                                                    "failure_kinds")))
    with ctx.session() as s:
        q = select(TlsReport).where(col(TlsReport.received_at) >= ctx.now() - timedelta(days=days))
        for r in s.exec(q.order_by(col(TlsReport.begin_at).desc())):
            for p in r.policies:
                kinds = ", ".join(f"{f['result_type']} ×{f['count']}" for f in p.get("failures", [])[:5])
                table.add_row(r.begin_at.strftime("%Y-%m-%d") if r.begin_at else "-", r.org_name, p["domain"],
                              p["type"], str(p["success"]), str(p["failure"]), kinds)
    console.print(table)
