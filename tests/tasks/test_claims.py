"""Claims make a check idempotent: two checkers never hold one candidate, and a check presenting a
claim that no longer holds records nothing (a task retried after its worker died, or a late one)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from watcher.capture import snapshot
from watcher.core.models import Candidate, Snapshot, Source
from watcher.discovery.discover import OwnedIndex, Sighting, discover


def _candidates(ctx, n: int) -> list[int]:
    with Session(ctx.engine, expire_on_commit=False) as s:
        ids = [discover(s, Sighting(f"claim-test-{i}.top", Source.CT), OwnedIndex([]), now=ctx.now()).candidate.id
               for i in range(n)]
        s.commit()
    return ids


def test_two_claims_never_hold_the_same_candidate(any_ctx):
    ids = _candidates(any_ctx, 6)
    first, claim_a = snapshot.claim_due(any_ctx, limit=4)
    second, claim_b = snapshot.claim_due(any_ctx, limit=10)
    assert len(first) == 4 and len(second) == 2
    assert set(first) | set(second) == set(ids) and not set(first) & set(second)
    assert claim_a != claim_b
    assert snapshot.claim_due(any_ctx, limit=10)[0] == []  # nothing due any more


def test_a_claim_frees_its_candidates_when_it_passes_or_is_released(any_ctx, clock):
    ids = _candidates(any_ctx, 3)
    held, claim = snapshot.claim_due(any_ctx, limit=10)
    assert snapshot.release_claim(any_ctx, held[:1], claim) == 1
    assert snapshot.claim_due(any_ctx, limit=10)[0] == held[:1]
    clock.advance(seconds=any_ctx.settings.tasks.claim_seconds + 1)  # the checker died: its claim passes
    again, _ = snapshot.claim_due(any_ctx, limit=10)
    assert set(again) == set(ids)


def test_a_check_under_a_lost_claim_records_nothing(any_ctx, clock):
    [cid] = _candidates(any_ctx, 1)
    held, old = snapshot.claim_due(any_ctx, limit=1)
    clock.advance(seconds=any_ctx.settings.tasks.claim_seconds + 1)
    taken_over, new = snapshot.claim_due(any_ctx, limit=1)
    assert held == taken_over == [cid]
    # The first checker comes back late: its snapshot is not recorded; the holder's is.
    assert snapshot._finish(any_ctx, cid, {}, {}, {}, [], [], "late", claim=old) is None
    assert snapshot._finish(any_ctx, cid, {}, {}, {}, [], [], "holder", claim=new) is not None
    assert snapshot._finish(any_ctx, cid, {}, {}, {}, [], [], "retry", claim=new) is None  # a retry of it
    with Session(any_ctx.engine) as s:
        assert len(s.exec(select(Snapshot).where(Snapshot.candidate_id == cid)).all()) == 1
        assert s.get(Candidate, cid).next_check_at > any_ctx.now() + timedelta(minutes=1)
