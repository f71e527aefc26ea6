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
from watcher.core.models import Finding, FindingKind, FindingStatus, Severity, utcnow
from watcher.core.texts import Text


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


def open_findings(session: Session, kind: FindingKind | None = None) -> list[Finding]:
    q = select(Finding).where(Finding.status == FindingStatus.OPEN)
    if kind:
        q = q.where(Finding.kind == kind)
    return list(session.exec(q.order_by(col(Finding.severity).desc(), col(Finding.opened_at))))
