"""What reports, alerts and sharing ask of a case: its live cases, its hostnames, who confirmed it.

One place for the questions every reader of cases asks, so that "a site" and "a person confirmed it"
mean the same thing in the weekly report, the alerts, the customer page and the shared indicators.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from watcher.core.cases import members
from watcher.core.models import Candidate, CandidateStatus, Case, CaseStatus, Event, Snapshot, TakedownRequest

# Actors that are people: the CLI (``cli:<login>``) and the dashboard (``dashboard:<user>``). Every
# other actor (auto-rule, takedown-policy, system, scheduler) is the machine.
PERSON_PREFIXES = ("cli:", "dashboard:")
CONFIRMED = (CandidateStatus.CONFIRMED, CandidateStatus.REPORTED, CandidateStatus.DOWN)


def is_person(actor: str) -> bool:
    return actor.startswith(PERSON_PREFIXES)


@dataclass
class CaseFacts:
    case: Case
    hosts: list[Candidate]

    @property
    def id(self) -> int:
        assert self.case.id is not None
        return self.case.id

    @property
    def site(self) -> str:
        return self.case.site_key

    @property
    def confirmed(self) -> bool:
        return any(c.status in CONFIRMED for c in self.hosts)

    @property
    def confirmed_at(self) -> datetime | None:
        return min((c.confirmed_at for c in self.hosts if c.confirmed_at), default=None)

    @property
    def first_seen_at(self) -> datetime:
        return min((c.first_seen_at for c in self.hosts), default=self.case.opened_at)

    @property
    def best_score(self) -> int:
        return max((c.score for c in self.hosts), default=0)

    def candidate_ids(self) -> list[int]:
        return [c.id for c in self.hosts if c.id is not None]


def live_cases(session: Session, *, status: CaseStatus | None = None) -> list[CaseFacts]:
    """Every case that is a site of its own (merged ones point at their survivor), with its hostnames."""
    q = select(Case).where(Case.status != CaseStatus.MERGED)
    if status is not None:
        q = q.where(Case.status == status)
    return [CaseFacts(c, members(session, c)) for c in session.exec(q.order_by(col(Case.id)))]


def case_facts(session: Session, case_id: int) -> CaseFacts | None:
    case = session.get(Case, case_id)
    if case is None:
        return None
    return CaseFacts(case, members(session, case))


def confirmation(session: Session, facts: CaseFacts) -> Event | None:
    """The first confirmation of any hostname of the case (the Event), by a person or the machine."""
    ids = facts.candidate_ids()
    if not ids:
        return None
    events = session.exec(select(Event).where(Event.object_type == "candidate", col(Event.object_id).in_(ids),
                                              Event.action == "candidate.status").order_by(col(Event.at)))
    return next((e for e in events if (e.detail or {}).get("to") == CandidateStatus.CONFIRMED.value), None)


def person_confirmation(session: Session, facts: CaseFacts) -> Event | None:
    """The first confirmation of the case that a person made (the customer page publishes only these)."""
    ids = facts.candidate_ids()
    if not ids:
        return None
    events = session.exec(select(Event).where(Event.object_type == "candidate", col(Event.object_id).in_(ids),
                                              Event.action == "candidate.status").order_by(col(Event.at)))
    return next((e for e in events if (e.detail or {}).get("to") == CandidateStatus.CONFIRMED.value
                 and is_person(e.actor)), None)


def requests_of(session: Session, facts: CaseFacts) -> list[TakedownRequest]:
    ids = facts.candidate_ids()
    if not ids:
        return []
    return list(session.exec(select(TakedownRequest).where(col(TakedownRequest.candidate_id).in_(ids))
                             .order_by(col(TakedownRequest.id))))


def live_evidence(session: Session, candidate_id: int) -> Snapshot | None:
    """The last capture that showed the site live: the case's evidence for its whole life.

    A site taken down is checked again and again ("gone": NXDOMAIN, a suspension page); those checks
    belong on the timeline, but the proof that the site was phishing, its screenshot and score, is
    the last snapshot taken while it answered."""
    return session.exec(select(Snapshot).where(Snapshot.candidate_id == candidate_id,
                                               col(Snapshot.reachable).is_(True), col(Snapshot.gone).is_(False))
                        .order_by(col(Snapshot.taken_at).desc(), col(Snapshot.id).desc())).first()
