"""The Candidate status life cycle: which moves are allowed, who made them, when to look next.

Every move is an Event with its actor and reason. Dashboard and CLI decisions go through
``decide``; jobs use ``transition``; ``after_snapshot`` holds every automatic move a check makes
(the takedown side's auto rule confirms through ``decide``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from watcher.capture.score import NOT_LIVE
from watcher.core import cases
from watcher.core.events import record
from watcher.core.models import Candidate, CandidateStatus, Snapshot, Verdict, utcnow
from watcher.core.texts import Text, text

S = CandidateStatus

ALLOWED: dict[CandidateStatus, frozenset[CandidateStatus]] = {
    S.NEW: frozenset({S.CHECKED, S.WATCHING, S.CONFIRMED, S.DISMISSED, S.DOWN}),
    S.CHECKED: frozenset({S.CHECKED, S.WATCHING, S.CONFIRMED, S.DISMISSED, S.DOWN}),
    S.WATCHING: frozenset({S.WATCHING, S.CHECKED, S.CONFIRMED, S.DISMISSED, S.DOWN}),
    S.CONFIRMED: frozenset({S.REPORTED, S.DISMISSED, S.DOWN, S.CHECKED}),
    S.REPORTED: frozenset({S.DOWN, S.CONFIRMED, S.DISMISSED}),
    S.DOWN: frozenset({S.DOWN, S.CHECKED, S.REPORTED, S.DISMISSED}),
    S.DISMISSED: frozenset({S.CHECKED, S.CONFIRMED, S.WATCHING}),
}

# When to look again after entering a status (None: only when something new is sighted).
NEXT_CHECK: dict[CandidateStatus, timedelta | None] = {
    S.NEW: timedelta(0),
    S.CHECKED: timedelta(days=1),
    S.WATCHING: timedelta(days=7),
    S.CONFIRMED: timedelta(hours=4),
    S.REPORTED: timedelta(hours=4),
    S.DOWN: timedelta(days=7),
    S.DISMISSED: None,
}

# Decisions a person can make, by the name used in the CLI and the dashboard.
DECISIONS: dict[str, CandidateStatus] = {
    "confirm": S.CONFIRMED,
    "watch": S.WATCHING,
    "dismiss": S.DISMISSED,
    "reopen": S.CHECKED,
}


class InvalidTransition(ValueError):
    """A decision the candidate's status does not allow; ``said`` is the sentence in either language."""

    def __init__(self, said: Text) -> None:
        super().__init__(said.render("en"))
        self.said = said


def next_check(status: CandidateStatus, now: datetime, recheck_hours: float | None = None) -> datetime | None:
    if status in (S.CONFIRMED, S.REPORTED) and recheck_hours:
        return now + timedelta(hours=recheck_hours)
    delta = NEXT_CHECK[status]
    return None if delta is None else now + delta


def transition(
    session: Session,
    cand: Candidate,
    to: CandidateStatus,
    *,
    actor: str,
    reason: str | Text = "",
    now: datetime | None = None,
    recheck_hours: float | None = None,
) -> Candidate:
    now = now or utcnow()
    old = cand.status
    if to not in ALLOWED[old]:
        raise InvalidTransition(text("capture.err.transition", domain=cand.domain,
                                     old=text(f"capture.status.{old.value}"), new=text(f"capture.status.{to.value}")))
    cand.status = to
    if old != to:
        cand.status_changed_at = now
        if to == S.CONFIRMED and cand.confirmed_at is None:
            cand.confirmed_at = now
        if to == S.DOWN:
            cand.down_at = now
        if old == S.DOWN:
            cand.down_count = 0
    cand.next_check_at = next_check(to, now, recheck_hours)
    session.add(cand)
    if old != to:
        # The reason as words (English, for logs and the API) and, when the service wrote it, as a
        # catalogue text the timeline renders in the reader's language.
        data: dict[str, Any] = {"from": old.value, "to": to.value, "reason": str(reason)}
        if isinstance(reason, Text):
            data["reason_text"] = reason.as_dict()
        record(session, actor, "candidate.status", cand, data, at=now)
        cases.refresh_status(session, cand, now=now, actor=actor)
    return cand


def decide(
    session: Session, cand: Candidate, decision: str, *, actor: str, reason: str | Text = "", now: datetime | None = None
) -> Candidate:
    """A person's decision: confirm, watch, dismiss (a reason is required), reopen."""
    if decision not in DECISIONS:
        raise InvalidTransition(text("capture.err.unknown_decision", decision=decision, choices=", ".join(DECISIONS)))
    if decision == "dismiss" and not str(reason).strip():
        raise InvalidTransition(text("capture.err.dismiss_reason"))
    return transition(session, cand, DECISIONS[decision], actor=actor, reason=reason, now=now)


def add_note(session: Session, cand: Candidate, text: str, *, actor: str, now: datetime | None = None) -> None:
    if not text.strip():
        raise ValueError("an empty note")
    record(session, actor, "candidate.note", cand, {"text": text.strip()[:5000]}, at=now or utcnow())


def recheck_now(session: Session, cand: Candidate, *, actor: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    cand.next_check_at = now
    session.add(cand)
    record(session, actor, "candidate.recheck_requested", cand, {}, at=now)


def after_snapshot(session: Session, cand: Candidate, snap: Snapshot, *, actor: str, now: datetime,
                   recheck_hours: float, down_confirmations: int) -> None:
    """The automatic moves a new Snapshot makes: checked or watching (parked, for sale, gone) for a
    candidate nobody has decided on; for a confirmed or reported one, count the consecutive "gone"
    checks until it is DOWN; a DOWN site that is back goes to CHECKED. A dismissal stands."""
    st = cand.status
    if st in (S.NEW, S.CHECKED, S.WATCHING):
        not_live = snap.verdict in (Verdict.PARKED, Verdict.SUSPENDED, Verdict.UNREACHABLE) or (
            snap.capture.get("page_kind") in NOT_LIVE)
        to = S.WATCHING if not_live and snap.verdict != Verdict.PHISHING else S.CHECKED
        transition(session, cand, to, actor=actor, now=now, reason=text(
            "capture.reason.snapshot", id=snap.id, verdict=text(f"capture.verdict.{snap.verdict.value}"), score=snap.score))
    elif st in (S.CONFIRMED, S.REPORTED, S.DOWN):
        if snap.gone:
            cand.down_count += 1
            if st == S.DOWN or cand.down_count >= down_confirmations:
                transition(session, cand, S.DOWN, actor=actor, now=now,
                           reason=text("capture.reason.gone", n=cand.down_count, id=snap.id))
            else:
                cand.next_check_at = next_check(st, now, recheck_hours)
        else:
            cand.down_count = 0
            if st == S.DOWN:
                transition(session, cand, S.CHECKED, actor=actor, now=now, reason=text("capture.reason.back_up", id=snap.id))
            else:
                cand.next_check_at = next_check(st, now, recheck_hours)
    else:  # dismissed: keep the decision; the snapshot is recorded for the file
        cand.next_check_at = None
    session.add(cand)
