"""The Candidate life cycle: every allowed move, the refused ones, next-check times, the audit."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from watcher.capture.triage import (
    ALLOWED,
    NEXT_CHECK,
    InvalidTransition,
    add_note,
    decide,
    next_check,
    transition,
)
from watcher.core.models import Candidate, CandidateStatus, Event

S = CandidateStatus


@pytest.fixture
def cand(ctx):
    with Session(ctx.engine, expire_on_commit=False) as s:
        c = Candidate(domain="hoshizora-sec-login.top", registrable="hoshizora-sec-login.top")
        s.add(c)
        s.commit()
        return c


def test_every_status_has_rules_and_a_next_check():
    assert set(ALLOWED) == set(S) and set(NEXT_CHECK) == set(S)


@pytest.mark.parametrize(("start", "to"), [(a, b) for a in S for b in S])
def test_transitions_follow_the_table(ctx, cand, start, to):
    now = ctx.now()
    with Session(ctx.engine) as s:
        c = s.get(Candidate, cand.id)
        c.status = start
        if to in ALLOWED[start]:
            transition(s, c, to, actor="tester", reason="because", now=now)
            assert c.status == to
            assert c.next_check_at == next_check(to, now)
        else:
            with pytest.raises(InvalidTransition, match=f"from {start.value} to {to.value}"):
                transition(s, c, to, actor="tester", now=now)


def test_the_path_to_down_records_each_step(ctx, cand, clock):
    with Session(ctx.engine) as s:
        c = s.get(Candidate, cand.id)
        for to in (S.CHECKED, S.CONFIRMED, S.REPORTED, S.DOWN):
            transition(s, c, to, actor="tester", now=clock.advance(hours=1))
        s.commit()
        assert c.confirmed_at is not None and c.down_at - c.confirmed_at == timedelta(hours=2)
        moves = [e.detail["to"] for e in s.exec(select(Event).where(Event.action == "candidate.status"))]
        assert moves == ["checked", "confirmed", "reported", "down"]


def test_reported_sites_are_rechecked_at_the_configured_interval(ctx, cand):
    now = ctx.now()
    with Session(ctx.engine) as s:
        c = s.get(Candidate, cand.id)
        c.status = S.CONFIRMED
        transition(s, c, S.REPORTED, actor="t", now=now, recheck_hours=2)
        assert c.next_check_at == now + timedelta(hours=2)


def test_dismissing_needs_a_reason(ctx, cand):
    with Session(ctx.engine) as s:
        c = s.get(Candidate, cand.id)
        with pytest.raises(InvalidTransition, match="reason"):
            decide(s, c, "dismiss", actor="tanaka")
        decide(s, c, "dismiss", actor="tanaka", reason="the firm's own campaign site")
        assert c.status == S.DISMISSED and c.next_check_at is None
        with pytest.raises(InvalidTransition, match="unknown decision"):
            decide(s, c, "delete", actor="tanaka")


def test_notes_are_events_with_their_author(ctx, cand):
    with Session(ctx.engine) as s:
        c = s.get(Candidate, cand.id)
        add_note(s, c, "registrar answered: investigating", actor="suzuki")
        s.commit()
        ev = s.exec(select(Event).where(Event.action == "candidate.note")).one()
        assert ev.actor == "suzuki" and ev.object_id == c.id
