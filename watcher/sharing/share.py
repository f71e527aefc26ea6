"""The ``share`` job: every confirmed case as a STIX 2.1 bundle in ``<state_dir>/sharing/``, pushed to
MISP where ``sharing.misp_url`` is set — each case once (an Event ``case.shared`` remembers it), so
the ISAC and the other firms see it the same day."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from watcher.context import Context
from watcher.core.casefacts import CaseFacts, live_cases
from watcher.core.events import record
from watcher.core.models import Event
from watcher.sharing import misp, stix

ACTOR = "sharing"


def write_bundle(ctx: Context, session: Session, facts: CaseFacts) -> Path:
    bundle = stix.case_bundle(ctx, session, facts)
    out = ctx.state_dir / "sharing"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"case-{facts.id}.stix.json"
    path.write_text(bundle.serialize(pretty=True), encoding="utf-8")
    return path


def _shared(session: Session, case_id: int) -> bool:
    return session.exec(select(Event).where(Event.action == "case.shared", Event.object_type == "case",
                                            Event.object_id == case_id)).first() is not None


def share_case(ctx: Context, session: Session, facts: CaseFacts, *, actor: str = ACTOR) -> dict[str, Any]:
    path = write_bundle(ctx, session, facts)
    result: dict[str, Any] = {"case": facts.id, "stix": str(path)}
    if ctx.settings.sharing.misp_url and not _shared(session, facts.id):
        try:
            pushed = misp.push(ctx, session, facts)
        except misp.MispError as e:
            record(session, actor, "case.share_failed", ("case", facts.id), {"error": str(e)[:500]},
                   at=ctx.now())
            result["error"] = str(e)
        else:
            record(session, actor, "case.shared", ("case", facts.id),
                   {"misp_event": pushed["id"], "uuid": pushed["uuid"], "duplicate": pushed["duplicate"],
                    "stix": path.name}, at=ctx.now())
            result["misp_event"] = pushed["id"] or pushed["uuid"]
    return result


def run(ctx: Context) -> dict[str, Any]:
    bundles, pushed, failed = 0, 0, 0
    with ctx.session() as s:
        for facts in live_cases(s):
            if not facts.confirmed:
                continue
            path = ctx.state_dir / "sharing" / f"case-{facts.id}.stix.json"
            known = _shared(s, facts.id)
            if path.exists() and (known or not ctx.settings.sharing.misp_url) and _same_hosts(path, facts):
                continue
            result = share_case(ctx, s, facts)
            bundles += 1
            pushed += 1 if "misp_event" in result else 0
            failed += 1 if "error" in result else 0
            s.commit()
    return {"bundles": bundles, "misp_pushed": pushed, "misp_failed": failed}


def _same_hosts(path: Path, facts: CaseFacts) -> bool:
    """The bundle on disk already names every hostname of the case (a new hostname means a new bundle)."""
    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)
    except (OSError, ValueError):
        return False
    return all(c.domain in text for c in facts.hosts)
