"""Findings: problems with our own domains, our mail authentication, or omamori itself.

A check calls ``open_finding`` when it fails and ``resolve_finding`` when it passes; both are
idempotent, keyed by (kind, subject), so a daily check never piles up duplicates. Title and detail
are catalogue texts (``watcher.core.texts.text``), kept as such and rendered in the reader's language;
a plain string is still accepted for what has not moved to the catalogue yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from watcher.core.events import record
from watcher.core.models import Event, Finding, FindingKind, FindingStatus, Severity, utcnow
from watcher.core.texts import Text, text


def finding_key(kind: FindingKind, subject: str) -> str:
    return f"{kind}:{subject}"


def open_finding(
    session: Session,
    kind: FindingKind,
    subject: str,
    title: str | Text,
    *,
    severity: Severity = Severity.MEDIUM,
    detail: str | Text = "",
    data: dict[str, Any] | None = None,
    brand_id: int | None = None,
    now: datetime | None = None,
    actor: str = "system",
) -> Finding:
    now = now or utcnow()
    key = finding_key(kind, subject)
    title_text = title.as_dict() if isinstance(title, Text) else {}
    detail_text = detail.as_dict() if isinstance(detail, Text) else {}
    title, detail = str(title), str(detail)
    f = session.exec(select(Finding).where(Finding.key == key)).first()
    if f is None:
        f = Finding(key=key, kind=kind, subject=subject, title=title, severity=severity, detail=detail,
                    title_text=title_text, detail_text=detail_text,
                    data=data or {}, brand_id=brand_id, opened_at=now, last_seen_at=now)
        session.add(f)
        session.flush()
        record(session, actor, "finding.opened", f, {"kind": kind, "subject": subject, "title": title}, at=now)
        return f
    reopened = f.status == FindingStatus.RESOLVED
    if f.status == FindingStatus.ACCEPTED and f.data == (data or {}):
        f.last_seen_at = now
        return f
    f.title, f.severity, f.detail, f.data, f.last_seen_at = title, severity, detail, data or {}, now
    f.title_text, f.detail_text = title_text, detail_text
    if brand_id is not None:
        f.brand_id = brand_id
    if reopened or f.status == FindingStatus.ACCEPTED:
        f.status, f.resolved_at, f.opened_at = FindingStatus.OPEN, None, now
        f.times_opened += 1
        record(session, actor, "finding.reopened", f, {"kind": kind, "subject": subject, "title": title}, at=now)
    session.add(f)
    return f


def resolve_finding(
    session: Session, kind: FindingKind, subject: str, *, now: datetime | None = None, actor: str = "system", note: str = ""
) -> Finding | None:
    now = now or utcnow()
    f = session.exec(select(Finding).where(Finding.key == finding_key(kind, subject))).first()
    if f is None or f.status != FindingStatus.OPEN:
        return None
    f.status, f.resolved_at = FindingStatus.RESOLVED, now
    session.add(f)
    record(session, actor, "finding.resolved", f, {"kind": kind, "subject": subject, "note": note}, at=now)
    return f


class FindingDecisionError(ValueError):
    """A person's decision the finding does not allow; ``said`` is the sentence in either language."""

    def __init__(self, said: Text) -> None:
        super().__init__(said.render("en"))
        self.said = said


def _decidable(session: Session, finding_id: int) -> Finding:
    f = session.get(Finding, finding_id)
    if f is None:
        raise FindingDecisionError(text("common.finding.not_found", id=finding_id))
    if f.status == FindingStatus.RESOLVED:
        raise FindingDecisionError(text("common.finding.resolved", id=finding_id))
    return f


def accept_finding(
    session: Session, finding_id: int, *, actor: str, reason: str, now: datetime | None = None
) -> Finding:
    """A person accepts the risk of an open finding: it stays closed until its check sees other facts
    (``open_finding`` compares ``data``, so nothing is added to it here); who and why are in the Event."""
    reason = reason.strip()
    if not reason:
        raise FindingDecisionError(text("common.finding.no_reason", id=finding_id))
    f = _decidable(session, finding_id)
    if f.status == FindingStatus.ACCEPTED:
        last = accepted_by(session, finding_id)
        raise FindingDecisionError(text("common.finding.already_accepted", id=finding_id,
                                        by=last.get("by", "?"), reason=last.get("reason", "")))
    now = now or utcnow()
    f.status = FindingStatus.ACCEPTED
    session.add(f)
    record(session, actor, "finding.accepted", f, {"kind": f.kind, "subject": f.subject, "reason": reason}, at=now)
    return f


def reopen_finding(session: Session, finding_id: int, *, actor: str, reason: str = "",
                   now: datetime | None = None) -> Finding:
    """A person takes an acceptance back: the finding is open again, counted as opened once more."""
    f = _decidable(session, finding_id)
    if f.status != FindingStatus.ACCEPTED:
        raise FindingDecisionError(text("common.finding.not_accepted", id=finding_id))
    now = now or utcnow()
    f.status, f.opened_at = FindingStatus.OPEN, now
    f.times_opened += 1
    session.add(f)
    record(session, actor, "finding.reopened", f,
           {"kind": f.kind, "subject": f.subject, "reason": reason.strip()}, at=now)
    return f


def accepted_by(session: Session, finding_id: int) -> dict[str, Any]:
    """Who accepted the finding, when and why (its last ``finding.accepted`` Event); {} if nobody did."""
    ev = session.exec(select(Event).where(Event.object_type == "finding", Event.object_id == finding_id,
                                          Event.action == "finding.accepted")
                      .order_by(col(Event.id).desc())).first()
    if ev is None:
        return {}
    return {"by": ev.actor, "at": ev.at, "reason": (ev.detail or {}).get("reason", "")}


def open_findings(session: Session, kind: FindingKind | None = None) -> list[Finding]:
    q = select(Finding).where(Finding.status == FindingStatus.OPEN)
    if kind:
        q = q.where(Finding.kind == kind)
    return list(session.exec(q.order_by(col(Finding.severity).desc(), col(Finding.opened_at))))
