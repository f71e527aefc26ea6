"""omamori takedown: confirm, approve, send and follow the takedown requests."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated, NoReturn

import sqlalchemy as sa
import typer
from rich.markup import escape
from sqlmodel import Session, col, select

from watcher.capture.triage import InvalidTransition
from watcher.commands.invocation import actor, console, context, err, lang, say, word
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
        _refuse(say("cli.td.no_candidate", domain=domain), code=2)
    return cand


def _refuse(sentence: str, code: int = 1) -> NoReturn:
    """One line in the reader's language (not click's English usage box), then exit."""
    err.print(f"[red]{escape(say('cli.refused'))}[/] {escape(sentence)}")
    raise typer.Exit(code)


def _request(s: Session, request_id: int) -> TakedownRequest:
    req = s.get(TakedownRequest, request_id)
    if req is None:
        _refuse(say("cli.td.no_request", id=request_id), code=2)
    return req



@cli.command("list")
def list_cmd(status: Annotated[str, typer.Option(help="only this status")] = "") -> None:
    """List requests (newest first)."""
    from rich.table import Table

    ctx = context()
    with ctx.session() as s:
        q = (select(TakedownRequest, Candidate)
             .join(Candidate, col(Candidate.id) == col(TakedownRequest.candidate_id)))
        if status:
            if status not in {r.value for r in RequestStatus}:
                _refuse(say("cli.unknown_choice", what=say("cli.what.status"), value=status,
                            choices=", ".join(f"`{r.value}`" for r in RequestStatus)), code=2)
            q = q.where(TakedownRequest.status == RequestStatus(status))
        rows = s.exec(q.order_by(sa.desc(col(TakedownRequest.id)))).all()
    t = Table(*(say(f"cli.col.{c}") for c in ("id", "domain", "recipient", "kind", "language", "status", "sent",
                                                "attempts", "error")))
    for req, cand in rows:
        t.add_row(str(req.id), cand.domain, req.recipient, word("recipient", req.recipient_kind), req.language,
                  word("request", req.status),
                  f"{req.sent_at:%Y-%m-%d %H:%M}" if req.sent_at else "", str(req.attempts),
                  say("cli.quoted", text=req.last_error[:40]) if req.last_error else "")  # the server's words
    console.print(t)


@cli.command()
def show(request_id: int) -> None:
    """Show a request: the message exactly as it will be sent (or the web-form fields)."""
    ctx = context()
    with ctx.session() as s:
        req = _request(s, request_id)
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
            typer.echo(say("cli.td.attachment", name=a["filename"], type=a["content_type"], sha=a["sha256"]))


@cli.command("confirm")
def confirm_cmd(domain: str, reason: Annotated[str, typer.Option(help="why (kept in the audit log)")] = "") -> None:
    """Confirm a candidate as phishing and draft its requests."""
    ctx = context()
    with ctx.session() as s:
        cand = _candidate(s, domain)
        try:
            drafts = confirm(ctx, s, cand, actor=actor(), reason=reason)
        except AlreadyReported as e:  # not a mistake in the command: the case is further along
            _refuse(say("cli.td.already_reported", why=e.said, domain=cand.domain))
        except TakedownError as e:
            _refuse(e.said.render(lang()))
        except InvalidTransition as e:  # a decision the case's status does not allow
            _refuse(e.said.render(lang()))
        s.commit()
        for d in drafts:
            typer.echo(say("cli.td.drafted", id=d.id, recipient=d.recipient, kind=word("recipient", d.recipient_kind),
                           language=d.language, channel=word("channel", d.channel)))
        if not drafts:
            typer.echo(say("cli.td.no_drafts"))


@cli.command("approve")
def approve_cmd(request_id: Annotated[int | None, typer.Argument()] = None,
                all_for: Annotated[str, typer.Option("--all", help="every draft of this domain")] = "") -> None:
    """Approve a draft (ID) or every draft of a domain (--all DOMAIN)."""
    ctx = context()
    with ctx.session() as s:
        if all_for:
            done = approve_all(ctx, s, _candidate(s, all_for), actor=actor())
        elif request_id is not None:
            req = _request(s, request_id)
            try:
                done = [approve(ctx, s, req, actor=actor())]
            except TakedownError as e:
                _refuse(e.said.render(lang()))
        else:
            _refuse(say("cli.td.approve_what"), code=2)
        s.commit()
    for r in done:
        typer.echo(say("cli.td.queued_webform" if r.channel == Channel.WEBFORM else "cli.td.queued", id=r.id,
                       recipient=r.recipient))


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
        req = _request(s, request_id)
        try:
            attach_reply(s, req, file.read_text(encoding="utf-8", errors="replace"), actor=actor(), now=ctx.now(),
                         bounce=bounce)
        except TakedownError as e:
            _refuse(e.said.render(lang()))
        s.commit()
    typer.echo(say("cli.td.reply_attached", id=request_id))


@cli.command()
def cases() -> None:
    """Every case with requests: its mode, answers, and time to blocklisted beside time to down."""
    from rich.table import Table

    ctx = context()
    t = Table(*(say(f"cli.col.{c}") for c in ("domain", "status", "mode", "requests", "ticket", "bounced", "to_read",
                                                "listed_by", "to_blocklisted", "to_down")))
    with ctx.session() as s:
        ids = s.exec(select(TakedownRequest.candidate_id).distinct()).all()
        for cand in s.exec(select(Candidate).where(col(Candidate.id).in_(ids)).order_by(col(Candidate.id))).all():
            reqs = s.exec(select(TakedownRequest).where(TakedownRequest.candidate_id == cand.id)).all()
            times = case_times(s, cand)
            t.add_row(cand.domain, word("status", cand.status), word("mode", times["mode"]), str(len(reqs)),
                      ", ".join(sorted({r.ticket for r in reqs if r.ticket})),
                      str(sum(r.status == RequestStatus.FAILED for r in reqs)),
                      str(sum(r.needs_person for r in reqs)), ", ".join(times["listed_by"]),
                      _duration(times["time_to_blocklisted_seconds"]), _duration(times["time_to_down_seconds"]))
    console.print(t)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return say("cli.td.minutes", n=f"{seconds / 60:.1f}") if seconds < 7200 else say("cli.td.hours",
                                                                                     n=f"{seconds / 3600:.1f}")


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
        req = _request(s, request_id)
        try:
            mark_submitted(ctx, s, req, actor=actor())
        except TakedownError as e:
            _refuse(e.said.render(lang()))
        s.commit()
    typer.echo(say("cli.td.marked_sent", id=request_id))


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
