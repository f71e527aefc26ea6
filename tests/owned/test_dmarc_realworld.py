"""Real-world reports (parsedmarc's public samples, Apache-2.0): every readable one ingested, none refused,
and our totals equal to parsedmarc's own parse of the same files (parsedmarc is in the dev extra and
parses offline: no DNS, no download).

The samples' quirks are the point: a gzip stream with two stray bytes after it (Mimecast), XML that is
not well-formed, a report inside an unclosed <xs:schema>, invalid UTF-8, ``Pass`` in capitals, an empty
org_name, the draft schema, DMARCbis (RFC 9990), a 2,286-record report; failure and SMTP TLS reports.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from watcher.core.models import DmarcFailureReport, DmarcReport, Event, TlsReport
from watcher.owned import dmarc, failure_reports, reportfiles, tlsrpt

SAMPLES = Path(__file__).parent / "dmarc" / "parsedmarc"
AGGREGATE = sorted((SAMPLES / "aggregate").iterdir())
FAILURE = sorted((SAMPLES / "failure").iterdir())
TLS = sorted((SAMPLES / "smtp_tls").iterdir())
# The domains the samples report on: ours, for this test.
DOMAINS = ["example.com", "example.de", "borschow.com", "indemed.com", "twlnet.com", "ab.id.au", "domain.de",
           "cardinal.com", "cardinalhealth.ca", "company-y.example"]

parsedmarc = pytest.importorskip("parsedmarc")


def ours(path: Path) -> list[dmarc.ParsedReport]:
    data = path.read_bytes()
    payloads = reportfiles.from_email(data) if path.suffix == ".eml" else [(path.name, data)]
    out = []
    for _name, payload in payloads:
        for doc in reportfiles.unpack(payload):
            rep = dmarc.parse_report(doc.data)
            rep.defects[:0] = doc.defects
            out.append(rep)
    return out


def theirs(path: Path) -> dict:
    return parsedmarc.parse_report_file(str(path), offline=True, always_use_local_files=True)["report"]


@pytest.mark.parametrize("path", AGGREGATE, ids=[p.name[:40] for p in AGGREGATE])
def test_aggregate_totals_equal_parsedmarcs(path: Path) -> None:
    [mine] = ours(path)
    ref = theirs(path)
    records = ref["records"]
    assert mine.domain == ref["policy_published"]["domain"].lower()
    assert len(mine.records) == len(records)
    assert mine.messages == sum(r["count"] for r in records)
    passing = sum(r["count"] for r in records if r["alignment"]["dmarc"])
    assert sum(r["count"] for r in mine.records if dmarc.aligned(r)) == passing
    assert sorted((r["source_ip"], r["count"]) for r in mine.records) == \
        sorted((r["source"]["ip_address"], r["count"]) for r in records)


@pytest.mark.parametrize("path", FAILURE, ids=[p.name[:40] for p in FAILURE])
def test_failure_reports_read_as_parsedmarc_reads_them(path: Path) -> None:
    mine = failure_reports.parse(path.read_bytes())
    ref = theirs(path)
    assert mine.domain == ref["reported_domain"].lower()
    assert mine.source_ip == ref["source"]["ip_address"]
    assert mine.auth_failure in [a.lower() for a in ref["auth_failure"]]


@pytest.mark.parametrize("path", TLS, ids=[p.name for p in TLS])
def test_tls_reports_read_as_parsedmarc_reads_them(path: Path) -> None:
    data = path.read_bytes()
    payloads = reportfiles.from_email(data) if path.suffix == ".eml" else [(path.name, data)]
    [doc] = [d for _n, p in payloads for d in reportfiles.unpack(p)]
    mine = tlsrpt.parse(doc.data)
    ref = theirs(path)
    assert [(p["domain"], p["success"], p["failure"]) for p in mine.policies] == \
        [(p["policy_domain"], p["successful_session_count"], p["failed_session_count"]) for p in ref["policies"]]


def test_the_whole_folder_ingests_with_no_refusal(make_ctx, tmp_path: Path) -> None:
    brands = tmp_path / "brands.toml"
    names = ", ".join(f'"{d}"' for d in DOMAINS)
    brands.write_text(f'[[brand]]\nslug = "samples"\nname = "Sample Receiver"\nofficial_domains = [{names}]\n',
                      encoding="utf-8")
    ctx = make_ctx(service={"brands_file": str(brands)})
    out = dmarc.ingest_files(ctx, [*AGGREGATE, *FAILURE, *TLS])
    assert out["refused"] == 0, out["refused_reasons"]
    # Two samples are another copy of a report already read (same reporter and report id): kept once.
    unique = {r.key: r for p in AGGREGATE for r in ours(p)}
    assert out["by_kind"] == {"aggregate": len(unique), "failure": len(FAILURE), "tls": len(TLS)}
    assert out["duplicates"] == len(AGGREGATE) - len(unique) == 2
    with Session(ctx.engine) as s:
        reports = list(s.exec(select(DmarcReport)))
        assert len(s.exec(select(DmarcFailureReport)).all()) == len(FAILURE)
        assert len(s.exec(select(TlsReport)).all()) == len(TLS)
        assert s.exec(select(Event).where(Event.action == "dmarc.refused")).first() is None
    defects = {d for r in reports for d in r.defects}
    assert any("stray byte" in d for d in defects)  # Mimecast's gzip
    assert any("recovered" in d for d in defects)  # the malformed XML, its records kept
    assert any("wrapped in <schema>" in d for d in defects)
    assert sum(int(rec["count"]) for r in reports for rec in r.records) == sum(r.messages for r in unique.values())
    upper = next(r for r in reports if r.report_id.startswith("aggr_report_example.com_20191202"))
    assert upper.records[0]["aligned"] is True and upper.records[0]["dkim"] == "pass"  # "Pass" passes
