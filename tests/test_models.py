"""Every table round-trips on SQLite and PostgreSQL, with aware UTC timestamps and enums."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from watcher.core.models import (
    Brand,
    Candidate,
    CandidateStatus,
    DmarcReport,
    Event,
    Finding,
    FindingKind,
    JobState,
    LogPosition,
    OwnedDomain,
    PermutationState,
    Report,
    RequestStatus,
    Snapshot,
    Source,
    TakedownRequest,
    Verdict,
)

JST = timezone(timedelta(hours=9))


def test_every_table_round_trips(any_ctx):
    at = datetime(2026, 11, 25, 9, 0, tzinfo=JST)
    with Session(any_ctx.engine) as s:
        brand = Brand(slug="hoshizora", name="Hoshizora", spec={"keywords": ["ほしぞら"]})
        s.add(brand)
        s.flush()
        cand = Candidate(domain="hoshizora-sec-login.top", registrable="hoshizora-sec-login.top", brand_id=brand.id,
                         source=Source.CT, reasons=[{"kind": "keyword", "detail": "ほしぞら", "points": 30}],
                         first_seen_at=at, next_check_at=at)
        s.add(cand)
        s.flush()
        snap = Snapshot(candidate_id=cand.id, verdict=Verdict.PHISHING, capture={"title": "ログイン"}, taken_at=at)
        s.add(snap)
        s.flush()
        s.add_all([
            OwnedDomain(brand_id=brand.id, name="hoshizora.jp", apex="hoshizora.jp", expires_at=at),
            TakedownRequest(candidate_id=cand.id, snapshot_id=snap.id, recipient="abuse@registrar.test",
                            status=RequestStatus.QUEUED, next_attempt_at=at),
            Finding(key="expiry:hoshizora.jp", kind=FindingKind.EXPIRY, subject="hoshizora.jp", title="expires soon"),
            Event(actor="tester", action="candidate.discovered", object_type="candidate", object_id=cand.id, at=at),
            LogPosition(log_id="abc=", url="https://ct.example/", next_index=5, sth_timestamp=at),
            JobState(name="ct_poll", last_ok_at=at),
            PermutationState(name="hoshizora-sec.co", fuzzer="tld-swap", exists=True, first_seen_existing_at=at),
            Report(channel="cli", fingerprint="f" * 64, urls=[{"url": "http://x.test/"}]),
            DmarcReport(key="google.com:1", domain="hoshizora-sec.co.jp", begin_at=at, records=[{"count": 3}]),
        ])
        s.commit()
    with Session(any_ctx.engine) as s:
        c = s.exec(select(Candidate)).one()
        assert c.status is CandidateStatus.NEW and c.source is Source.CT
        assert c.first_seen_at == at and c.first_seen_at.tzinfo is not None
        assert c.first_seen_at.utcoffset() == timedelta(0)
        assert c.reasons[0]["detail"] == "ほしぞら"
        assert s.exec(select(Snapshot)).one().verdict is Verdict.PHISHING
        assert s.exec(select(TakedownRequest)).one().next_attempt_at == at
        assert s.exec(select(LogPosition)).one().sth_timestamp.tzinfo is not None
        for table in (OwnedDomain, Finding, Event, JobState, PermutationState, Report, DmarcReport):
            assert s.exec(select(table)).one()


def test_naive_datetimes_are_refused(any_ctx):
    with Session(any_ctx.engine) as s:
        s.add(Event(actor="x", action="y", object_type="z", at=datetime(2026, 1, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            s.commit()


def test_domains_are_unique(any_ctx):
    with Session(any_ctx.engine) as s:
        s.add(Candidate(domain="a.top", registrable="a.top"))
        s.commit()
        s.add(Candidate(domain="a.top", registrable="a.top"))
        with pytest.raises(Exception, match=r"(?i)unique"):
            s.commit()


def test_timestamps_default_to_now_in_utc(any_ctx):
    with Session(any_ctx.engine) as s:
        s.add(Event(actor="x", action="y", object_type="z"))
        s.commit()
        ev = s.exec(select(Event)).one()
        assert abs(ev.at - datetime.now(UTC)) < timedelta(minutes=1)
