"""One case per site: www. and bare name from the first sighting; hostnames under one registrable
domain that serve the same page once captured; closed when every hostname is down or dismissed."""

from sqlmodel import Session, select

from watcher.capture.triage import transition
from watcher.core import cases
from watcher.core.models import Candidate, CandidateStatus, Case, CaseStatus, Snapshot, Source
from watcher.discovery.discover import OwnedIndex, Sighting, discover


def _discover(s, ctx, name):
    return discover(s, Sighting(name, Source.CT), OwnedIndex.from_brands(ctx.brands), now=ctx.now()).candidate


def test_www_and_bare_name_are_one_case_whichever_comes_first(ctx):
    with Session(ctx.engine) as s:
        www = _discover(s, ctx, "www.hoshizora-login.top")
        bare = _discover(s, ctx, "hoshizora-login.top")
        other = _discover(s, ctx, "hoshizora-kabu.top")
        s.commit()
        assert www.case_id == bare.case_id != other.case_id
        case = s.get(Case, www.case_id)
        assert case.site_key == "hoshizora-login.top" and case.status == CaseStatus.OPEN
        assert [c.domain for c in cases.members(s, case)] == ["www.hoshizora-login.top", "hoshizora-login.top"]


def test_the_site_key_never_strips_down_to_a_public_suffix():
    assert cases.site_key("www.co.jp") == "www.co.jp"
    assert cases.site_key("www2.k7x2.top") == "k7x2.top"
    assert cases.site_key("wwwhoshizora.top") == "wwwhoshizora.top"
    assert cases.site_key("www.alice.github.io") == "alice.github.io"


def _snap(s, cand, **kw):
    snap = Snapshot(candidate_id=cand.id, reachable=True, **kw)
    s.add(snap)
    s.flush()
    cand.last_snapshot_id = snap.id
    s.add(cand)
    return snap


def test_hostnames_serving_the_same_page_under_one_registrable_domain_join_one_case(ctx):
    with Session(ctx.engine) as s:
        a = _discover(s, ctx, "login.k7x2.top")
        b = _discover(s, ctx, "secure.k7x2.top")
        elsewhere = _discover(s, ctx, "login.q9z1.top")
        _snap(s, a, html_sha256="f" * 64)
        _snap(s, elsewhere, html_sha256="f" * 64)
        assert cases.join_same_page(s, elsewhere, s.get(Snapshot, elsewhere.last_snapshot_id)) is None
        snap_b = _snap(s, b, html_sha256="f" * 64)
        kept = cases.join_same_page(s, b, snap_b)
        s.commit()
        assert kept is not None and a.case_id == b.case_id == kept.id != elsewhere.case_id
        assert kept.joins[0]["domain"] == "secure.k7x2.top" and "same HTML" in kept.joins[0]["why"]
        merged = s.exec(select(Case).where(Case.site_key == "secure.k7x2.top")).one()
        assert merged.status == CaseStatus.MERGED and merged.merged_into_id == kept.id


def test_a_different_page_or_a_different_free_hosting_user_is_another_site(ctx):
    with Session(ctx.engine) as s:
        a = _discover(s, ctx, "alice.github.io")
        b = _discover(s, ctx, "bob.github.io")
        _snap(s, a, html_sha256="e" * 64)
        assert cases.join_same_page(s, b, _snap(s, b, html_sha256="e" * 64)) is None
        c = _discover(s, ctx, "a.k7x2.top")
        d = _discover(s, ctx, "b.k7x2.top")
        _snap(s, c, html_sha256="1" * 64)
        assert cases.join_same_page(s, d, _snap(s, d, html_sha256="2" * 64)) is None


def test_a_case_closes_when_every_hostname_is_down_and_reopens_when_one_is_back(ctx):
    with Session(ctx.engine) as s:
        www = _discover(s, ctx, "www.hoshizora-login.top")
        bare = _discover(s, ctx, "hoshizora-login.top")
        case = s.get(Case, www.case_id)
        transition(s, www, CandidateStatus.DOWN, actor="t", now=ctx.now())
        assert case.status == CaseStatus.OPEN
        transition(s, bare, CandidateStatus.DISMISSED, actor="t", now=ctx.now())
        assert case.status == CaseStatus.CLOSED and case.closed_at == ctx.now()
        transition(s, www, CandidateStatus.CHECKED, actor="t", now=ctx.now())
        assert case.status == CaseStatus.OPEN and case.closed_at is None
        assert all(c.case_id == case.id for c in s.exec(select(Candidate)))
