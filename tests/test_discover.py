"""The single door: every source creates or refreshes a Candidate the same way."""

from sqlmodel import Session, select

from watcher.core.models import Candidate, CandidateStatus, Event, Source
from watcher.core.reasons import Reason
from watcher.discovery.discover import OwnedIndex, Sighting, discover


def owned(ctx):
    return OwnedIndex.from_brands(ctx.brands)


def test_a_new_name_becomes_a_candidate_due_now(ctx):
    with Session(ctx.engine) as s:
        out = discover(s, Sighting("Hoshizora-Sec-Login.TOP.", Source.CT, brand=None,
                                   reasons=[Reason("keyword", "brand keyword 'hoshizora' in a label", 30)],
                                   facts={"issuer": "Lab Trusted CA", "ct_index": 7}), owned(ctx), now=ctx.now())
        s.commit()
        c = out.candidate
        assert out.created and c.domain == "hoshizora-sec-login.top" and c.status == CandidateStatus.NEW
        assert c.next_check_at == ctx.now() and c.match_points == 30 and c.facts["ct_index"] == 7


def test_the_same_sighting_twice_changes_nothing_but_last_seen(ctx, clock):
    sighting = Sighting("phish.top", Source.CT, reasons=[Reason("keyword", "k", 30)])
    with Session(ctx.engine) as s:
        discover(s, sighting, owned(ctx), now=clock.now())
        out = discover(s, sighting, owned(ctx), now=clock.advance(hours=1))
        s.commit()
        assert not out.created and out.candidate.last_seen_at == clock.now()
        assert len(s.exec(select(Event).where(Event.action == "candidate.sighted")).all()) == 0


def test_a_second_source_adds_its_reasons_and_url(ctx):
    with Session(ctx.engine) as s:
        discover(s, Sighting("phish.top", Source.CT, reasons=[Reason("keyword", "k", 30)]), owned(ctx))
        out = discover(s, Sighting("http://phish.top/hoshizora/login.php", Source.REPORT,
                                   reasons=[Reason("report", "reported by a customer", 20)]), owned(ctx))
        s.commit()
        c = out.candidate
        assert c.sources == ["ct", "report"] and c.match_points == 30 + 20 + 25  # the brand in the path too
        assert [r["kind"] for r in c.reasons] == ["keyword", "report", "in_path"]
        assert c.urls == ["http://phish.top/hoshizora/login.php"] and c.source == Source.CT


def test_our_own_and_group_names_are_never_candidates(ctx):
    with Session(ctx.engine) as s:
        for name in ("trade.hoshizora-sec.co.jp", "https://www.hoshizora.jp/x", "ir.hoshizora-hd.co.jp"):
            out = discover(s, Sighting(name, Source.CT), owned(ctx))
            assert out.candidate is None and "ours" in out.skipped
        # a lapsed domain is not ours any more: a re-registration is a candidate
        assert discover(s, Sighting("hoshizora-fx.jp", Source.DROPCATCH), owned(ctx)).candidate


def test_a_bad_name_is_recorded_not_raised(ctx):
    with Session(ctx.engine) as s:
        out = discover(s, Sighting("bad name..top", Source.CT), owned(ctx))
        s.commit()
        assert out.candidate is None and out.skipped
        assert s.exec(select(Event).where(Event.action == "discover.rejected")).one().detail["name"] == "bad name..top"


def test_wildcards_are_recorded_on_the_base_name(ctx):
    with Session(ctx.engine) as s:
        c = discover(s, Sighting("*.k7x2.top", Source.CT), owned(ctx)).candidate
        assert c.domain == "k7x2.top" and c.facts["wildcard"] is True


def test_a_new_sighting_of_a_down_site_brings_the_check_forward(ctx, clock):
    with Session(ctx.engine) as s:
        c = discover(s, Sighting("phish.top", Source.CT, reasons=[Reason("keyword", "k", 30)]), owned(ctx)).candidate
        c.status, c.next_check_at = CandidateStatus.DOWN, clock.now().replace(year=2027)
        discover(s, Sighting("phish.top", Source.CERTSTREAM, reasons=[Reason("keyword", "new cert", 5)]),
                 owned(ctx), now=clock.advance(days=1))
        assert s.exec(select(Candidate)).one().next_check_at == clock.now()
