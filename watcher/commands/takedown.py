"""omamori takedown: confirm, approve, send and follow the takedown requests."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.markup import escape
from sqlmodel import Session, col, select

from watcher.commands.invocation import actor, console, context, err
from watcher.core.models import (
    Candidate,
    Channel,
    RequestStatus,
    TakedownRequest,
)
from watcher.takedowns.blocklists import case_times
from watcher.takedowns.blocklists import run as run_blocklists
from watcher.takedowns.followup import run, time_to_down
from watcher.takedowns.outbox import render_message, send_due
from watcher.takedowns.replies import read_mailbox
from watcher.takedowns.requests import (
    AlreadyReported,
    TakedownError,
    approve,
    approve_all,
    attach_reply,
    confirm,
    draft_requests,
    mark_answered,
    mark_submitted,
    resend,
    webform_fields,
    withdraw,
)

# ---------------------------------------------------------------- CLI

cli = typer.Typer(help="Takedown requests: confirm, approve, send, follow up.", no_args_is_help=True)




def _candidate(s: Session, domain: str) -> Candidate:
    from watcher.core.names import normalize_host

    name = domain
    with contextlib.suppress(ValueError):
        name = normalize_host(domain).ascii
    cand = s.exec(select(Candidate).where(Candidate.domain == name)).first()
    if cand is None:
        raise typer.BadParameter(f"no candidate {domain}")
    return cand



@cli.command("list")
def list_cmd(status: Annotated[str, typer.Option(help="only this status")] = "") -> None:
    """List requests (newest first)."""
    from rich.table import Table

    ctx = context()
    with ctx.session() as s:
        q = (select(TakedownRequest, Candidate)
             .join(Candidate, col(Candidate.id) == col(TakedownRequest.candidate_id)))
        if status:
            q = q.where(TakedownRequest.status == RequestStatus(status))
        rows = s.exec(q.order_by(sa.desc(col(TakedownRequest.id)))).all()
    t = Table("id", "domain", "recipient", "kind", "lang", "status", "sent", "attempts", "error")
    for req, cand in rows:
        t.add_row(str(req.id), cand.domain, req.recipient, req.recipient_kind.value, req.language, req.status.value,
                  f"{req.sent_at:%Y-%m-%d %H:%M}" if req.sent_at else "", str(req.attempts), req.last_error[:40])
    console.print(t)


@cli.command()
def show(request_id: int) -> None:
    """Show a request: the message exactly as it will be sent (or the web-form fields)."""
    ctx = context()
    with ctx.session() as s:
        req = s.get(TakedownRequest, request_id)
        if req is None:
            raise typer.BadParameter(f"no request {request_id}")
        typer.echo(f"# TD-{req.id} {req.status.value} {req.channel.value} -> {req.recipient} ({req.recipient_kind.value})")
        if req.channel == Channel.WEBFORM:
            for k, v in webform_fields(req).items():
                typer.echo(f"## {k}\n{v}\n")
            return
        msg = render_message(ctx, req)
        for k in ("From", "To", "Subject", "Date", "Message-ID"):
            typer.echo(f"{k}: {msg[k]}")
        typer.echo("")
        typer.echo(req.body)
        for a in req.attachments:
            typer.echo(f"[attachment] {a['filename']} {a['content_type']} sha256={a['sha256']}")


@cli.command("confirm")
def confirm_cmd(domain: str, reason: Annotated[str, typer.Option(help="why (kept in the audit log)")] = "") -> None:
    """Confirm a candidate as phishing and draft its requests."""
    ctx = context()
    with ctx.session() as s:
        cand = _candidate(s, domain)
        try:
            drafts = confirm(ctx, s, cand, actor=actor(), reason=reason)
        except AlreadyReported as e:  # not a mistake in the command: the case is further along
            err.print(f"refused: {escape(str(e))}; `omamori candidates show {escape(cand.domain)}` shows its requests")
            raise typer.Exit(1) from None
        except (TakedownError, ValueError) as e:
            raise typer.BadParameter(str(e)) from None
        s.commit()
        for d in drafts:
            typer.echo(f"drafted TD-{d.id} -> {d.recipient} ({d.recipient_kind.value}, {d.language}, {d.channel.value})")
        if not drafts:
            typer.echo("no new requests (already drafted, or no recipient found)")


@cli.command("approve")
def approve_cmd(request_id: Annotated[int | None, typer.Argument()] = None,
                all_for: Annotated[str, typer.Option("--all", help="every draft of this domain")] = "") -> None:
    """Approve a draft (ID) or every draft of a domain (--all DOMAIN)."""
    ctx = context()
    with ctx.session() as s:
        if all_for:
            done = approve_all(ctx, s, _candidate(s, all_for), actor=actor())
        elif request_id is not None:
            req = s.get(TakedownRequest, request_id)
            if req is None:
                raise typer.BadParameter(f"no request {request_id}")
            try:
                done = [approve(ctx, s, req, actor=actor())]
            except TakedownError as e:
                raise typer.BadParameter(str(e)) from None
        else:
            raise typer.BadParameter("give a request ID or --all DOMAIN")
        s.commit()
    for r in done:
        typer.echo(f"queued TD-{r.id} -> {r.recipient}" + (" (web form: fill it by hand)" if r.channel == Channel.WEBFORM
                                                           else ""))


@cli.command()
def send() -> None:
    """Run the outbox now."""
    typer.echo(json.dumps(send_due(context())))


@cli.command()
def reply(request_id: int, file: Annotated[Path, typer.Option("--file", exists=True, readable=True)],
          bounce: Annotated[bool, typer.Option("--bounce", help="it is a bounce: the request failed")] = False,
          ) -> None:
    """Attach a reply or bounce (a text or .eml file) to a request."""
    ctx = context()
    with ctx.session() as s:
        req = s.get(TakedownRequest, request_id)
        if req is None:
            raise typer.BadParameter(f"no request {request_id}")
        attach_reply(s, req, file.read_text(encoding="utf-8", errors="replace"), actor=actor(), now=ctx.now(),
                     bounce=bounce)
        s.commit()
    typer.echo(f"reply attached to TD-{request_id}")


@cli.command()
def cases() -> None:
    """Every case with requests: its mode, answers, and time to blocklisted beside time to down."""
    from rich.table import Table

    ctx = context()
    t = Table("domain", "status", "mode", "requests", "ticket", "bounced", "to read", "listed by",
              "to blocklisted", "to down")
    with ctx.session() as s:
        ids = s.exec(select(TakedownRequest.candidate_id).distinct()).all()
        for cand in s.exec(select(Candidate).where(col(Candidate.id).in_(ids)).order_by(col(Candidate.id))).all():
            reqs = s.exec(select(TakedownRequest).where(TakedownRequest.candidate_id == cand.id)).all()
            times = case_times(s, cand)
            t.add_row(cand.domain, cand.status.value, times["mode"], str(len(reqs)),
                      ", ".join(sorted({r.ticket for r in reqs if r.ticket})),
                      str(sum(r.status == RequestStatus.FAILED for r in reqs)),
                      str(sum(r.needs_person for r in reqs)), ", ".join(times["listed_by"]),
                      _duration(times["time_to_blocklisted_seconds"]), _duration(times["time_to_down_seconds"]))
    console.print(t)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


@cli.command()
def mailbox() -> None:
    """Read the takedown mailbox now: bounces, tickets and replies are attached to their requests."""
    typer.echo(json.dumps(read_mailbox(context())))


@cli.command("blocklists")
def blocklists_cmd() -> None:
    """Submit confirmed URLs to the browser blocklists now, and ask which are listed."""
    typer.echo(json.dumps(run_blocklists(context())))


@cli.command()
def submitted(request_id: int) -> None:
    """Mark a web-form request submitted (or an uncertain email confirmed sent)."""
    ctx = context()
    with ctx.session() as s:
        req = s.get(TakedownRequest, request_id)
        if req is None:
            raise typer.BadParameter(f"no request {request_id}")
        mark_submitted(ctx, s, req, actor=actor())
        s.commit()
    typer.echo(f"TD-{request_id} marked sent")


__all__ = [
    "approve",
    "approve_all",
    "attach_reply",
    "cli",
    "confirm",
    "draft_requests",
    "mark_answered",
    "mark_submitted",
    "render_message",
    "resend",
    "run",
    "send_due",
    "time_to_down",
    "webform_fields",
    "withdraw",
]
