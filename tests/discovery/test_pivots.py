"""Pivots from a confirmed case, against the lab's real CT log: the other name in its certificate, a
new name under its registered domain (watched in CT from then on), and the same kit on an unrelated
name each become a candidate of the brand with the reason "pivot from case N".

The captures are Snapshot rows written here (hashes of a kit page), standing in for the crawler's
Chromium run, which the capture tests cover; everything else is the real CT reader and jobs."""

from __future__ import annotations

import ppdeep
from sqlmodel import Session, select

from tests.ct.labhelp import log_infos
from watcher.capture.triage import transition
from watcher.core import cases
from watcher.core.brands import sync_brands
from watcher.core.models import Candidate, CandidateStatus, Snapshot, Source
from watcher.discovery import pivots
from watcher.discovery.ct.matcher import matcher_for
from watcher.discovery.ct.reader import LogReader
from watcher.discovery.discover import OwnedIndex, Sighting, discover

KIT = ("<html><head><title>ログイン | ほしぞら証券</title></head><body><form action='/post.php' method='post'>"
       + "".join(f"<p>口座番号とパスワードを入力してください {i}</p>" for i in range(60)) + "</form></body></html>")
FAVICON = "f" * 64


def _snap(s: Session, cand: Candidate, **kw) -> None:  # type: ignore[no-untyped-def]
    snap = Snapshot(candidate_id=cand.id, reachable=True, favicon_sha256=FAVICON,
                    hashes={"ssdeep": ppdeep.hash(KIT)}, **kw)
    s.add(snap)
    s.flush()
    cand.last_snapshot_id = snap.id
    s.add(cand)


def test_a_confirmed_case_leads_to_its_siblings(ctx, lab_ct):
    ctx.settings.ct.start_at = "beginning"
    with Session(ctx.engine) as s:
        sync_brands(s, ctx.brands)
        s.commit()
    info = log_infos(lab_ct, "rfc6962")[0]
    lab_ct.add_noise(20)
    lab_ct.add_certificate(["hoshizora-sec-login.top", "m-verify-account.top"])
    lab_ct.integrate()
    LogReader(ctx, info, matcher=matcher_for(ctx)).run()
    owned = OwnedIndex.from_brands(ctx.brands)
    with Session(ctx.engine, expire_on_commit=False) as s:
        clone = s.exec(select(Candidate).where(Candidate.domain == "hoshizora-sec-login.top")).one()
        assert s.exec(select(Candidate).where(Candidate.domain == "m-verify-account.top")).first() is None
        reported = discover(s, Sighting("http://k3v9q.xyz/hoshizora/login.php", Source.REPORT), owned).candidate
        unrelated = discover(s, Sighting("https://q8w7e6.shop/", Source.REPORT), owned).candidate
        assert unrelated.brand_id is None and reported.brand_id is not None  # the brand in the path
        _snap(s, clone)
        _snap(s, unrelated)
        for c in (clone, reported):
            transition(s, c, CandidateStatus.CONFIRMED, actor="analyst", now=ctx.now())
        s.commit()

    summary = pivots.run(ctx)
    assert summary["cases"] == 2

    with Session(ctx.engine) as s:
        sibling = s.exec(select(Candidate).where(Candidate.domain == "m-verify-account.top")).one()
        assert sibling.source == Source.PIVOT and sibling.brand_id == clone.brand_id
        assert any(r["kind"] == "pivot" and f"case {clone.case_id}" in r["detail"]
                   and "same certificate" in r["detail"] for r in sibling.reasons)
        kit = s.get(Candidate, unrelated.id)
        assert kit.brand_id == clone.brand_id and "pivot" in kit.sources
        assert any(r["kind"] == "pivot" and "favicon" in r["detail"] for r in kit.reasons)
        assert len(cases.watched_sites(s)) == 2

    # From now on, a new name under the reported site's registered domain is a pivot when CT shows it.
    lab_ct.add_certificate(["secure.k3v9q.xyz"])
    lab_ct.integrate()
    LogReader(ctx, info, matcher=matcher_for(ctx)).run()
    with Session(ctx.engine) as s:
        new = s.exec(select(Candidate).where(Candidate.domain == "secure.k3v9q.xyz")).one()
        assert new.brand_id == reported.brand_id and new.source == Source.CT
        assert any(r["kind"] == "pivot" and "k3v9q.xyz" in r["detail"] for r in new.reasons)


def test_an_address_or_name_servers_shared_by_many_are_infrastructure_not_a_link():
    from collections import Counter

    case_snap = Snapshot(candidate_id=1, reachable=True, dns={"records": {"A": ["203.0.113.50"]}},
                         rdap={"domain": {"nameservers": ["ns1.k7x2.top", "ns2.k7x2.top"]}},
                         capture={"forms": [{"has_password": True, "posts_to_host": "collect.k7x2.top",
                                             "action": "/p.php"}]})
    p = pivots.Prints(ips={"203.0.113.50"}, ns={("ns1.k7x2.top", "ns2.k7x2.top")}, forms={"collect.k7x2.top/p.php"})
    other = Snapshot(candidate_id=2, reachable=True, dns={"records": {"A": ["203.0.113.50"]}})
    assert "203.0.113.50" in pivots.how_linked(p, other, Counter({"203.0.113.50": 2}), Counter()).render("en")
    assert pivots.how_linked(p, other, Counter({"203.0.113.50": 500}), Counter()) is None  # a big host
    same_ns = Snapshot(candidate_id=3, reachable=True, rdap=case_snap.rdap)
    assert "ns1.k7x2.top" in pivots.how_linked(p, same_ns, Counter(), Counter({p.ns.copy().pop(): 3})).render("en")
    form = Snapshot(candidate_id=4, reachable=True, capture=case_snap.capture)
    assert "collect.k7x2.top" in pivots.how_linked(p, form, Counter(), Counter()).render("en")
