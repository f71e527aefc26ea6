"""The persistent outbox on the lab's real SMTP server: once per Message-ID across a crash, retries
with backoff on 4xx, failed with the reason on 5xx."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from typer.testing import CliRunner

from tests.conftest import EXAMPLE_BRANDS
from tests.takedown.tdlab import add_candidate, take_snapshot
from watcher.cli import app
from watcher.core.models import Candidate, Finding, FindingStatus, RequestStatus, TakedownRequest
from watcher.takedowns import followup, outbox, requests


def queued(ctx, world) -> list[TakedownRequest]:
    cand = add_candidate(ctx)
    take_snapshot(ctx, world, cand)
    with Session(ctx.engine, expire_on_commit=False) as s:
        c = s.get(Candidate, cand.id)
        requests.confirm(ctx, s, c, actor="analyst")
        reqs = requests.approve_all(ctx, s, c, actor="approver")
        s.commit()
    return reqs


def statuses(ctx) -> dict[str, RequestStatus]:
    with Session(ctx.engine) as s:
        return {r.recipient: r.status for r in s.exec(select(TakedownRequest)).all()}


def per_message_id(world) -> Counter[str]:
    return Counter(str(m.message["Message-ID"]) for m in world.smtp.messages())


def test_killed_between_claim_and_send_is_not_sent_twice(ctx, world, clock):
    reqs = queued(ctx, world)
    victim = reqs[0]
    # The dead process: it claimed the row (SENDING, lease) and got as far as the SMTP DATA, then died
    # before recording SENT. Its message really reached the server.
    with Session(ctx.engine) as s:
        s.execute(sa.update(TakedownRequest).where(TakedownRequest.id == victim.id)
                  .values(status="sending", next_attempt_at=ctx.now() + requests.SEND_LEASE))
        s.commit()
        req = s.get(TakedownRequest, victim.id)
        ctx.mailer.send(outbox.render_message(ctx, req))

    # A new outbox inside the lease: the row is someone else's, untouched.
    out = outbox.send_due(ctx)
    assert out["sent"] == 2 and out["uncertain"] == 0
    # After the lease: uncertain, flagged for a person, never re-sent by itself.
    clock.advance(minutes=11)
    out = outbox.send_due(ctx)
    assert out["sent"] == 0 and out["uncertain"] == 1
    assert outbox.send_due(ctx)["uncertain"] == 0  # flagged once
    assert statuses(ctx)[victim.recipient] == RequestStatus.SENDING
    counts = per_message_id(world)
    assert len(counts) == 3 and set(counts.values()) == {1}  # one message per Message-ID
    with Session(ctx.engine) as s:
        f = s.exec(select(Finding).where(Finding.kind == "takedown_send_uncertain")).one()
        assert f.status == FindingStatus.OPEN and victim.message_id in f.detail
        # The person checked the sent folder: it went out.
        requests.mark_submitted(ctx, s, s.get(TakedownRequest, victim.id), actor="approver")
        s.commit()
        assert s.get(Finding, f.id).status == FindingStatus.RESOLVED
    assert statuses(ctx)[victim.recipient] == RequestStatus.SENT


def test_written_but_not_claimed_is_sent_exactly_once(ctx, world):
    queued(ctx, world)  # the process died right after writing: rows are QUEUED
    assert outbox.send_due(ctx)["sent"] == 3
    assert outbox.send_due(ctx)["sent"] == 0
    followup.run(ctx)
    assert set(per_message_id(world).values()) == {1} and len(per_message_id(world)) == 3


def test_resend_after_uncertainty_keeps_the_message_id(ctx, world, clock):
    reqs = queued(ctx, world)
    with Session(ctx.engine) as s:
        s.execute(sa.update(TakedownRequest).where(TakedownRequest.id == reqs[0].id)
                  .values(status="sending", next_attempt_at=ctx.now() - timedelta(seconds=1)))
        s.commit()
    outbox.send_due(ctx)  # the other two go; the first is flagged
    with Session(ctx.engine) as s:
        requests.resend(ctx, s, s.get(TakedownRequest, reqs[0].id), actor="approver")
        s.commit()
    assert outbox.send_due(ctx)["sent"] == 1
    assert per_message_id(world)[reqs[0].message_id] == 1


def test_temporary_failure_then_success(ctx, world, clock):
    reqs = queued(ctx, world)
    world.smtp.fail_next(1, code=451)
    out = outbox.send_due(ctx)
    assert out == {**out, "retry": 1, "sent": 2}
    with Session(ctx.engine) as s:
        retry = s.exec(select(TakedownRequest).where(TakedownRequest.status == RequestStatus.QUEUED)).one()
        assert retry.attempts == 1 and "451" in retry.last_error
        assert retry.next_attempt_at == ctx.now() + timedelta(minutes=2)
    assert outbox.send_due(ctx)["sent"] == 0  # not due yet: backoff
    clock.advance(minutes=2)
    assert outbox.send_due(ctx)["sent"] == 1
    assert set(statuses(ctx).values()) == {RequestStatus.SENT}
    assert len(per_message_id(world)) == len(reqs)


def test_temporary_failures_up_to_the_limit_then_failed(make_ctx, world, clock):
    ctx = make_ctx(takedown={"max_send_attempts": 2})
    queued(ctx, world)
    world.smtp.fail_next(4, code=421)  # three on the first round, one on the second
    outbox.send_due(ctx)
    clock.advance(minutes=2)
    outbox.send_due(ctx)
    with Session(ctx.engine) as s:
        failed = s.exec(select(TakedownRequest).where(TakedownRequest.status == RequestStatus.FAILED)).all()
        assert len(failed) == 1 and failed[0].attempts == 2 and "421" in failed[0].last_error


@pytest.mark.reliability("the registrar's mail server refuses a takedown request with 550 (permanent)",
                         "the request is FAILED, not retried; a takedown_send_failed Finding opens and shows in "
                         "`omamori status`; a later successful send resolves it", area="takedown sending")
def test_permanent_failure_is_recorded_and_opens_a_finding(ctx, world, tmp_path, observe):
    world.smtp.reject_recipient("abuse@cheapnames.test", 550)
    queued(ctx, world)
    out = outbox.send_due(ctx)
    assert out["failed"] == 1 and out["sent"] == 2
    with Session(ctx.engine) as s:
        req = s.exec(select(TakedownRequest).where(TakedownRequest.recipient == "abuse@cheapnames.test")).one()
        assert req.status == RequestStatus.FAILED and "550" in req.last_error and req.attempts == 1
        finding = s.exec(select(Finding).where(Finding.kind == "takedown_send_failed")).one()
        assert finding.subject == f"request:{req.id}" and finding.status == FindingStatus.OPEN
        assert "550" in finding.detail and finding.title_text and finding.detail_text
    assert outbox.send_due(ctx)["failed"] == 0  # not tried again

    cfg = tmp_path / "status.toml"
    cfg.write_text(f'[service]\nstate_dir = "{tmp_path / "state"}"\nbrands_file = "{EXAMPLE_BRANDS}"\n'
                   f'[database]\nurl = "{ctx.settings.database_url}"\n', encoding="utf-8")
    shown = CliRunner().invoke(app, ["--config", str(cfg), "status"])  # the config's language: Japanese
    assert shown.exit_code == 0 and f"TD-{req.id}: 削除依頼 TD-{req.id}" in shown.output and "送信できませんでした" in shown.output

    world.smtp.reject_recipient("abuse@cheapnames.test", None)  # fixed: a person re-sends it
    with Session(ctx.engine) as s:
        requests.resend(ctx, s, s.get(TakedownRequest, req.id), actor="analyst")
        s.commit()
    assert outbox.send_due(ctx)["sent"] == 1
    with Session(ctx.engine) as s:
        assert s.exec(select(Finding).where(Finding.kind == "takedown_send_failed")).one().status == \
            FindingStatus.RESOLVED
    line = next(ln for ln in shown.output.splitlines() if f"TD-{req.id}:" in ln)
    observe(f"request status failed after 1 attempt; Finding opened: '{finding.title}'; status shows '{line.strip()[:90]}'; "
            "resolved after the re-send went out")


def test_outbox_on_sqlite_and_postgresql(db_url, make_ctx, world, clock):
    """The claim is a compare-and-set UPDATE: the same on both backends; a second claim loses."""
    ctx = make_ctx(database={"url": db_url})
    reqs = queued(ctx, world)
    assert outbox._claim(ctx, reqs[0].id) is True
    assert outbox._claim(ctx, reqs[0].id) is False  # another sender cannot take it
    out = outbox.send_due(ctx)
    assert out["sent"] == 2 and out["uncertain"] == 0
    clock.advance(minutes=11)
    assert outbox.send_due(ctx)["uncertain"] == 1
    assert len(per_message_id(world)) == 2
