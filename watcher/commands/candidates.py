"""omamori candidates list|show: the triage queue and one candidate, from the terminal.

The same questions as the dashboard's queue and candidate view: what waits (new, checked), what is
in flight, what is over; and for one name its verdict, score, reasons, evidence and requests.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func
from sqlmodel import Session, col, select

from watcher.commands.invocation import choices, console, context, fail, lang, say, word
from watcher.core.casefacts import live_evidence
from watcher.core.models import Brand, Candidate, CandidateStatus, Snapshot, Source, TakedownRequest, Verdict
from watcher.core.names import show_name, try_normalize
from watcher.core.reasons import reason_text
from watcher.core.texts import t

cli = typer.Typer(help="Candidates: the triage queue and one candidate's evidence.", no_args_is_help=True)

WAITING = (CandidateStatus.NEW, CandidateStatus.CHECKED)
CLOSED = (CandidateStatus.DOWN, CandidateStatus.DISMISSED)
SCOPES = {"waiting": WAITING, "live": tuple(s for s in CandidateStatus if s not in CLOSED), "closed": CLOSED,
          "all": tuple(CandidateStatus)}


def _official(s: Session) -> list[str]:
    out: list[str] = []
    for b in s.exec(select(Brand)):
        out += list((b.spec or {}).get("official_domains", []))
    return out


@cli.command("list")
def list_cmd(
    scope: Annotated[str, typer.Option(help="waiting (new, checked) | live | closed (down, dismissed) | all")]
    = "waiting",
    status: Annotated[list[str] | None, typer.Option("--status", help="only these statuses (repeatable)")] = None,
    verdict: Annotated[list[str] | None, typer.Option("--verdict", help="only these verdicts (repeatable)")] = None,
    source: Annotated[list[str] | None, typer.Option("--source", help="only these sources (repeatable)")] = None,
    brand: Annotated[str | None, typer.Option(help="brand slug")] = None,
    contains: Annotated[str, typer.Option(help="domain contains this text")] = "",
    days: Annotated[float | None, typer.Option(help="first seen in the last N days")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The queue: live cases first, highest score first; closed ones after them."""
    if scope not in SCOPES:
        fail(say("cli.unknown_choice", what=say("cli.what.scope"), value=scope, choices=", ".join(f"`{k}`" for k in SCOPES)))
    statuses = choices(status, CandidateStatus, "status") or list(SCOPES[scope])
    verdicts = choices(verdict, Verdict, "verdict")
    sources = choices(source, Source, "source")
    ctx = context()
    with ctx.session() as s:
        where: list[Any] = [col(Candidate.status).in_(statuses)]
        if verdicts:
            where.append(col(Candidate.verdict).in_(verdicts))
        if sources:
            where.append(col(Candidate.source).in_(sources))
        if brand:
            b = s.exec(select(Brand).where(Brand.slug == brand)).first()
            if b is None:
                fail(say("cli.cand.no_brand", brand=brand))
            where.append(col(Candidate.brand_id) == b.id)
        if contains.strip():
            where.append(col(Candidate.domain).contains(contains.strip().lower(), autoescape=True))
        if days is not None:
            where.append(col(Candidate.first_seen_at) >= ctx.now() - timedelta(days=days))
        closed_last = col(Candidate.status).in_(CLOSED)
        total = s.exec(select(func.count()).select_from(Candidate).where(*where)).one()
        rows = list(s.exec(select(Candidate).where(*where)
                           .order_by(closed_last, col(Candidate.score).desc(), col(Candidate.id).desc()).limit(limit)))
        official = _official(s)
    if as_json:
        print(json.dumps({"total": total, "candidates": [
            {"id": c.id, "domain": c.domain, "unicode": c.unicode, "status": c.status.value, "verdict": c.verdict.value,
             "score": c.score, "source": c.source.value, "first_seen_at": c.first_seen_at.isoformat()}
            for c in rows]}, ensure_ascii=False))
        return
    t = Table(*(say(f"cli.col.{c}") for c in ("id", "domain", "score", "status", "verdict", "source", "first_seen")),
              title=say("cli.cand.title", scope=word("scope", scope), n=len(rows), total=total))
    for c in rows:
        shown = show_name(c.domain, official)
        name = escape(shown.plain()) + (f" [yellow]{escape(say('cli.cand.looks_like', official=shown.looks_like))}[/]"
                                        if shown.looks_like else "")
        t.add_row(str(c.id), name, str(c.score), word("status", c.status), word("verdict", c.verdict),
                  word("source", c.source), f"{c.first_seen_at:%Y-%m-%d %H:%M}")
    console.print(t)
    if total > len(rows):
        console.print(escape(say("cli.cand.more", n=total - len(rows))), highlight=False)


@cli.command("show")
def show_cmd(
    name: Annotated[str, typer.Argument(help="domain (Unicode or A-label) or candidate id")],
    in_lang: Annotated[str | None, typer.Option("--lang", help="ja or en: the language of the reasons and the text "
                                                 "(default: omamori --lang, else service.language)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One candidate: verdict, score, why, its evidence (the last live capture) and its requests."""
    ctx = context()
    with ctx.session() as s:
        cand = s.get(Candidate, int(name)) if name.isdigit() else None
        if cand is None:
            n = try_normalize(name)
            cand = s.exec(select(Candidate).where(Candidate.domain == (n.ascii if n else name.lower()))).first()
        if cand is None:
            fail(say("cli.cand.not_found", name=name), code=1)
        assert cand.id is not None
        evidence = live_evidence(s, cand.id)
        latest = s.get(Snapshot, cand.last_snapshot_id) if cand.last_snapshot_id else None
        reqs = list(s.exec(select(TakedownRequest).where(TakedownRequest.candidate_id == cand.id)
                           .order_by(col(TakedownRequest.id))))
        shown = show_name(cand.domain, _official(s))
    language = (in_lang or lang()).strip().lower()
    language = language if language in ("ja", "en") else lang()
    snap = evidence or latest
    reasons = [*(cand.reasons or []), *((snap.reasons if snap else None) or [])]
    if as_json:
        print(json.dumps({
            "id": cand.id, "domain": cand.domain, "unicode": cand.unicode, "looks_like": shown.looks_like,
            "status": cand.status.value, "verdict": cand.verdict.value, "score": cand.score,
            "evidence": {"snapshot_id": snap.id, "taken_at": snap.taken_at.isoformat(), "score": snap.score,
                         "screenshot_sha256": snap.screenshot_sha256} if snap else None,
            "reasons": [{"kind": r.get("kind"), "points": r.get("points", 0), "text": reason_text(r, language)}
                        for r in reasons],
            "requests": [{"id": r.id, "recipient": r.recipient, "status": r.status.value} for r in reqs],
        }, ensure_ascii=False, default=str))
        return
    def tell(key: str, **params: Any) -> str:
        return escape(t(key, language, **params))

    def w(kind: str, value: Any) -> str:
        return word(kind, value, language)

    console.print(f"[bold]{escape(shown.plain())}[/]" + tell("cli.cand.heading", name="", id=cand.id))
    if shown.looks_like or shown.mixed_script:
        console.print(f"  [yellow]{escape(shown.bracketed())}"
                      + (" " + tell("cli.cand.looks_like", official=shown.looks_like) if shown.looks_like else "")
                      + ("; " + tell("cli.cand.mixes", scripts=" + ".join(x for x in shown.scripts if x))
                         if shown.mixed_script else "") + "[/]")
    console.print("  " + tell("cli.cand.facts", status=w("status", cand.status), verdict=w("verdict", cand.verdict),
                              score=cand.score, source=w("source", cand.source),
                              first_seen=f"{cand.first_seen_at:%Y-%m-%d %H:%M}"))
    if snap is not None:
        which = t("cli.cand.evidence_live" if evidence is not None else "cli.cand.evidence_never_live", language)
        console.print("  " + tell("cli.cand.evidence", id=snap.id, at=f"{snap.taken_at:%Y-%m-%d %H:%M}", which=which,
                                  score=snap.score, sha=snap.screenshot_sha256[:16] or "-"))
    if latest is not None and snap is not None and latest.id != snap.id:
        console.print("  " + tell("cli.cand.latest_gone" if latest.gone else "cli.cand.latest",
                                  at=f"{latest.taken_at:%Y-%m-%d %H:%M}", verdict=w("verdict", latest.verdict)))
    table = Table(tell("cli.col.points"), tell("cli.col.why"), title=tell("cli.cand.reasons"))
    for r in sorted(reasons, key=lambda r: -int(r.get("points") or 0)):
        table.add_row(str(r.get("points", 0)), escape(reason_text(r, language)))
    console.print(table)
    if reqs:
        table = Table(*(tell(f"cli.col.{c}") for c in ("request", "recipient", "kind", "status")),
                      title=tell("cli.cand.requests"))
        for q in reqs:
            table.add_row(f"TD-{q.id}", escape(q.recipient), w("recipient", q.recipient_kind), w("request", q.status))
        console.print(table)
