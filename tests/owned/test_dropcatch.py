"""Drop-catch: the lapsed hoshizora-fx.jp (JPRS-style WHOIS in the lab) re-registered by someone else."""

from __future__ import annotations

from sqlmodel import Session, select

from tests.owned.conftest import finding, is_open, is_resolved
from watcher.core.models import Candidate, Source
from watcher.owned.checks import run_checks
from watcher.owned.dropcatch import check_dropcatch


def test_reregistration_opens_a_finding_and_a_candidate(make_ctx, lab_dns, lab_rdap, lab_whois) -> None:
    ctx = make_ctx(dns=lab_dns, rdap=lab_rdap, whois=lab_whois)
    run_checks(ctx, (check_dropcatch,))  # available: nothing to say
    assert finding(ctx, "dropcatch", "hoshizora-fx.jp") is None

    lab_whois.set_domain("hoshizora-fx.jp", registrant="Privacy Protect", created=ctx.now().date(),
                         registrar="Cheap Names Ltd.")
    lab_dns.set("hoshizora-fx.jp", "A", "203.0.113.66")
    summary = run_checks(ctx, (check_dropcatch,))
    assert summary.get("dropcatch_candidates") == 1
    f = finding(ctx, "dropcatch", "hoshizora-fx.jp")
    assert is_open(ctx, "dropcatch", "hoshizora-fx.jp") and "available at an earlier check" in f.detail
    with Session(ctx.engine) as s:
        cand = s.exec(select(Candidate).where(Candidate.domain == "hoshizora-fx.jp")).one()
    assert cand.source == Source.DROPCATCH and cand.reasons[0]["kind"] == "dropcatch"
    assert cand.facts["dns"]["A"] == ["203.0.113.66"]

    run_checks(ctx, (check_dropcatch,))  # idempotent: one finding, one candidate
    with Session(ctx.engine) as s:
        assert len(s.exec(select(Candidate)).all()) == 1

    lab_whois.delete_domain("hoshizora-fx.jp")  # dropped again
    lab_dns.delete("hoshizora-fx.jp")
    run_checks(ctx, (check_dropcatch,))
    assert is_resolved(ctx, "dropcatch", "hoshizora-fx.jp")
