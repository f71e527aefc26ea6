"""Takeover engine v2 against every service it has a signature for, in one running lab.

Each detectable service gets a dangling host (its unclaimed answer, NXDOMAIN target or refused zone)
and a claimed twin (same DNS shape, the firm's page); one inventory run checks all of them, and each
case is its own test. A second set of dangling records, written from the providers' documentation
rather than from the signatures (``data/lab/takeover-independent.toml``), must be found at the same
rate. The lab starts once for the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session, select

from lab import takeover as lab_takeover
from lab.dns import LabDNS
from lab.pki import LabPKI
from lab.web import LabWeb
from tests.conftest import make_settings
from tests.owned.conftest import lab_sections
from watcher.context import build_context
from watcher.core.brands import add_owned, sync_brands
from watcher.core.clock import FrozenClock
from watcher.core.models import Brand, Finding, FindingStatus, OwnedSource
from watcher.owned import signatures, takeover
from watcher.owned.checks import run_checks
from watcher.owned.inventory import source_dns

SIGNATURE_CASES = [c for s in lab_takeover.load_signatures() if lab_takeover.detectable(s)
                   for c in (s["id"] + ":dangling", s["id"] + ":claimed")]


@dataclass
class Results:
    cases: dict[str, lab_takeover.Case]
    independent: list[lab_takeover.Case]
    independent_claimed: list[lab_takeover.Case]
    findings: dict[tuple[str, str], Finding]
    summary: dict[str, Any]


@pytest.fixture(scope="module")
def lab_results(lab_pki: LabPKI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Results]:
    with LabDNS() as dns, LabWeb(lab_pki) as web:
        dns.add_zone("hoshizora-sec.co.jp")
        cases = lab_takeover.signature_cases(dns, web)
        independent = lab_takeover.independent_cases(dns, web)
        twins = lab_takeover.install_records(dns, web, [{**r, "claimed": True} for r in lab_takeover.independent_records()],
                                             prefix="ic")
        sections = lab_sections(dns=dns, web=web)
        # Some 300 hosts asked at once: on a loaded machine a UDP answer can come after the tests' usual
        # 1 s with no retry, and a lost answer would read as a missed case. Production retries too.
        sections["dns"] = {**sections["dns"], "timeout": 2.0, "retries": 2}
        ctx = build_context(make_settings(tmp_path_factory.mktemp("takeover"), **sections), clock=FrozenClock())
        with Session(ctx.engine) as s:
            sync_brands(s, ctx.brands)
            brand = s.exec(select(Brand).where(Brand.slug == "hoshizora")).one()
            for c in [*cases, *independent, *twins]:
                add_owned(s, brand, c.host, OwnedSource.ZONEFILE)
            s.commit()
        summary = run_checks(ctx, (takeover.check_cname, takeover.check_ns), sources=(source_dns,))
        with Session(ctx.engine) as s:
            found = {(f.kind.value, f.subject): f for f in s.exec(select(Finding))
                     if f.status == FindingStatus.OPEN}
        yield Results({f"{c.signature}:{'dangling' if c.dangling else 'claimed'}": c for c in cases},
                      independent, twins, found, summary)
        ctx.engine.dispose()


def test_at_least_120_services_have_a_lab_case_each(lab_results: Results) -> None:
    services = {c.signature for c in lab_results.cases.values()}
    assert len(services) >= 120, len(services)
    assert len(signatures.load()) >= len(services)
    assert lab_results.summary.get("errors", 0) == 0, lab_results.summary.get("notes")


@pytest.mark.parametrize("case_id", SIGNATURE_CASES)
def test_signature_case(lab_results: Results, case_id: str) -> None:
    case = lab_results.cases[case_id]
    f = lab_results.findings.get((case.kind, case.host))
    if not case.dangling:
        assert f is None, f"false positive on a claimed {case.service} host: {f and f.title}"
        return
    assert f is not None, f"dangling {case.service} host ({case.evidence}) not found"
    if case.kind == "takeover_cname":
        assert f.data.get("signature") == case.signature, (f.data.get("service"), case.service)
    else:
        assert f.data.get("service") == case.service


def test_independent_records_are_found_at_the_same_rate(lab_results: Results) -> None:
    missed = []
    for c in lab_results.independent:
        f = lab_results.findings.get((c.kind, c.host))
        if f is None or not str(f.data.get("service", "")).startswith(c.service):
            missed.append((c.service, c.host, f.data.get("service") if f else None))
    independent_rate = 1 - len(missed) / len(lab_results.independent)
    dangling = [c for c in lab_results.cases.values() if c.dangling]
    signature_rate = sum((c.kind, c.host) in lab_results.findings for c in dangling) / len(dangling)
    assert len(lab_results.independent) >= 30
    assert independent_rate >= signature_rate, (independent_rate, signature_rate, missed)
    # ... and their claimed twins (same DNS shape, the firm's page or a served zone) raise nothing.
    assert len(lab_results.independent_claimed) == len(lab_results.independent)
    false = [c.host for c in lab_results.independent_claimed if (c.kind, c.host) in lab_results.findings]
    assert not false, false
