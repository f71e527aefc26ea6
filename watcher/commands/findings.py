"""omamori findings list|accept|reopen: the findings still standing, and a person's decision on one.

A finding a person accepts (the risk is known and taken) stays closed while its check sees the same
facts and opens again when they change (``watcher.core.findings``); who accepted it and why is the
``finding.accepted`` Event, the same audit trail as every other decision.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import col, select

from watcher.commands.invocation import actor, choices, console, context, fail, lang, said, say, word
from watcher.core.findings import FindingDecisionError, accept_finding, accepted_by, reopen_finding
from watcher.core.models import MOST_SEVERE_FIRST, Finding, FindingGroup, FindingKind, FindingStatus, Severity

cli = typer.Typer(help="Findings (own domains, mail, omamori itself): list, accept a risk, reopen.",
                  no_args_is_help=True)

STANDING = (FindingStatus.OPEN, FindingStatus.ACCEPTED)


@cli.command("list")
def list_cmd(
    group: Annotated[list[str] | None, typer.Option("--group", help="self | owned | mail | takedown (repeatable)")]
    = None,
    severity: Annotated[list[str] | None, typer.Option("--severity", help="only these severities (repeatable)")]
    = None,
    status: Annotated[list[str] | None, typer.Option("--status", help="open | accepted (default both; repeatable)")]
    = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Open and accepted findings, the most severe first; accepted ones say who accepted them and why."""
    groups = choices(group, FindingGroup, "group")
    severities = choices(severity, Severity, "severity")
    statuses = choices(status, FindingStatus, "status") or list(STANDING)
    kinds = [k for k in FindingKind if not groups or k.group in groups]
    with context().session() as s:
        q = select(Finding).where(col(Finding.status).in_(statuses), col(Finding.kind).in_(kinds))
        if severities:
            q = q.where(col(Finding.severity).in_(severities))
        rows = sorted(s.exec(q.order_by(col(Finding.opened_at))), key=lambda f: (f.status != FindingStatus.OPEN,
                                                                                 MOST_SEVERE_FIRST.index(f.severity)))
        accepted: dict[int | None, dict[str, Any]] = {
            f.id: accepted_by(s, f.id) for f in rows if f.status == FindingStatus.ACCEPTED and f.id is not None}
    if as_json:
        print(json.dumps([
            {"id": f.id, "kind": f.kind.value, "group": f.kind.group.value, "subject": f.subject,
             "severity": f.severity.value, "status": f.status.value, "title": said(f.title_text, f.title),
             "opened_at": f.opened_at.isoformat(), "last_seen_at": f.last_seen_at.isoformat(),
             "accepted": ({"by": accepted[f.id]["by"], "at": accepted[f.id]["at"].isoformat(),
                           "reason": accepted[f.id]["reason"]} if accepted.get(f.id) else None)}
            for f in rows], ensure_ascii=False))
        return
    t = Table(*(say(f"cli.col.{c}") for c in ("id", "group", "severity", "status", "kind", "subject", "title",
                                               "accepted_by")),
              title=say("cli.findings.title", n=len(rows)))
    for f in rows:
        who = accepted.get(f.id) or {}
        t.add_row(str(f.id), f.kind.group.value, word("severity", f.severity), word("finding_status", f.status),
                  f.kind.value, escape(f.subject), escape(said(f.title_text, f.title)),
                  escape(f"{who['by']}: {who['reason']}") if who else "")
    console.print(t)


def _decide(finding_id: int, decide: Any, key: str) -> None:
    ctx = context()
    with ctx.session() as s:
        try:
            f = decide(s, finding_id, ctx.now())
        except FindingDecisionError as e:
            fail(e.said.render(lang()), code=1)
        console.print(escape(say(key, id=f.id, kind=f.kind.value, subject=f.subject)), highlight=False)
        s.commit()


@cli.command("accept")
def accept_cmd(
    finding_id: Annotated[int, typer.Argument(help="finding id (`omamori findings list`)")],
    reason: Annotated[str, typer.Option("--reason", help="why the risk is accepted (required; kept in the audit log)")] = "",
) -> None:
    """Accept a finding's risk: it stays closed until its check sees other facts."""
    _decide(finding_id, lambda s, i, now: accept_finding(s, i, actor=actor(), reason=reason, now=now),
            "cli.findings.accepted")


@cli.command("reopen")
def reopen_cmd(
    finding_id: Annotated[int, typer.Argument(help="finding id (`omamori findings list --status accepted`)")],
    reason: Annotated[str, typer.Option("--reason", help="why (optional; kept in the audit log)")] = "",
) -> None:
    """Take an acceptance back: the finding is open again."""
    _decide(finding_id, lambda s, i, now: reopen_finding(s, i, actor=actor(), reason=reason, now=now),
            "cli.findings.reopened")
