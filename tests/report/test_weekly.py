"""The weekly report v2: counted per site, first page for management, PDF, and sent once per week."""

from __future__ import annotations

import csv
import io
import re
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from tests.report.seed import seed_week
from watcher.context import build_context
from watcher.core.casefacts import live_cases
from watcher.core.findings import open_finding
from watcher.core.models import (
    CandidateStatus,
    CaseStatus,
    FindingKind,
    OwnedDomain,
    ReportRun,
    ReportStatus,
    Severity,
)
from watcher.core.texts import text, word
from watcher.report import period
from watcher.report import weekly as report

# Wednesday 2026-11-25 09:00 JST: the slot when the report is set to go out on Wednesdays at 09:00.
SLOT = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
MGMT = {"recipients": ["cio@hoshizora-sec.co.jp"], "weekday": "wed", "time": "09:00"}


def _csv(path: Path) -> dict[str, str]:
    rows = csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig")))
    next(rows)
    return {r[0]: r[1] for r in rows}


def test_counts_are_per_site_and_match_the_database(make_ctx, lab_smtp, clock) -> None:
    clock.set(SLOT)
    ctx = make_ctx(smtp=lab_smtp, report=MGMT)
    seed_week(ctx)
    summary = report.weekly(ctx)
    assert summary["due"] and summary["mailed_to"] == 1
    figures = _csv(Path(summary["html"]).with_name(Path(summary["html"]).stem + "-summary.csv"))

    # What the database says, asked independently of the report's code.
    start, end = SLOT - timedelta(days=7), SLOT
    with ctx.session() as s:
        sites = live_cases(s)
        confirmed = [f for f in sites if f.confirmed_at and start <= f.confirmed_at < end]
        down = [f for f in sites if f.case.status == CaseStatus.CLOSED and f.case.closed_at
                and start <= f.case.closed_at < end and any(c.status == CandidateStatus.DOWN for c in f.hosts)]
    assert int(figures["sites_confirmed_sites"]) == len(confirmed) == 4  # A, B, C, D — not 6 hostnames
    assert int(figures["sites_down_sites"]) == int(figures["takedown_sites_down"]) == len(down) == 3
    assert int(figures["sites_new_sites"]) == len(sites) == 6
    assert int(figures["sites_open_sites"]) == 1  # D
    assert figures["median_hours_to_down"] == "9.0" and figures["p90_hours_to_down"] == "30.0"
    # Time to blocklisted, per site, from the blocklist submissions: A 1.5 h (its first listing, on the
    # www. hostname), B 0.5 h; C's refused submission starts no clock.
    assert figures["median_hours_to_blocklisted"] == "1.0" and figures["p90_hours_to_blocklisted"] == "1.5"
    assert figures["takedown_sites_requested"] == "3"  # three sites asked, with eight e-mails between them
    site_rows = list(csv.DictReader(io.StringIO(Path(summary["html"]).with_name(
        Path(summary["html"]).stem + "-sites.csv").read_bytes().decode("utf-8-sig"))))
    assert len(site_rows) == 4 and {r["site"] for r in site_rows} == {f.site for f in confirmed}
    assert sorted(r["ttb_hours"] for r in site_rows if r["ttb_hours"]) == ["0.5", "1.5"]


def test_the_first_page_is_summary_trends_and_decisions_in_japanese_then_english(make_ctx, lab_smtp, clock):
    clock.set(SLOT)
    ctx = make_ctx(smtp=lab_smtp, report=MGMT)
    seed_week(ctx)
    _data, paths = report.render_weekly(ctx, SLOT, start=SLOT - timedelta(days=7), end=SLOT)
    page = paths["html"].read_text(encoding="utf-8")
    first_ja, first_en = page.split('<section class="page first"')[1:3]
    assert "今週起きたこと" in first_ja and "先週からの変化" in first_ja and "判断をお願いしたいこと" in first_ja
    assert "What happened this week" in first_en and "What needs a decision" in first_en
    assert "4 件を偽サイトと確認" in first_ja and "中央値 9.0 時間、90% 値 30.0 時間" in first_ja
    assert "hoshizora-secure.top" in first_ja  # a candidate waiting for a person's judgement
    assert "hoshizora-sec.co.jp.login-check.cn" in first_en and "Approve takedown requests" in first_en
    assert first_ja.count("<svg") == 6 and "↑" in first_ja  # a sparkline per measure; this week beats last
    assert page.index("今週起きたこと") < page.index("What happened this week")

    pdf = paths["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF")
    fonts = {f for m in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S)
             for f in re.findall(rb"/FontName\s*/([^\s/>]+)", _inflate(m.group(1)))}
    assert any(b"IPA" in f for f in fonts), fonts  # the Japanese font is embedded


def _inflate(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error:
        return b""


def test_locks_are_known_yes_known_no_or_unknown(make_ctx, clock) -> None:
    clock.set(SLOT)
    ctx = make_ctx(report=MGMT)
    with ctx.session() as s:
        for d in s.exec(select(OwnedDomain).where(OwnedDomain.is_apex == True)):  # noqa: E712
            if d.name == "hoshizora-sec.co.jp":  # JPRS WHOIS: no EPP statuses published
                d.registration, d.statuses = {"source": "whois"}, []
            elif d.name == "hoshizora-sec.com":  # RDAP says: no transfer lock
                d.registration, d.statuses = {"source": "rdap"}, ["client update prohibited"]
            elif d.name == "hzsec.com":
                d.registration, d.statuses = {"source": "rdap"}, ["client transfer prohibited",
                                                                   "client update prohibited"]
            s.add(d)
        s.commit()
        data = report.collect_weekly(ctx, s, SLOT)
    locks = {d["name"]: (d["transfer_lock"], d["update_lock"]) for d in data["domains"] if d["is_apex"]}
    assert locks["hoshizora-sec.co.jp"] == ("unknown", "unknown")
    assert locks["hoshizora-sec.com"] == ("no", "yes")
    assert locks["hzsec.com"] == ("yes", "yes")
    assert locks["hoshizora.jp"] == ("unknown", "unknown")  # never looked up yet


def test_three_restarts_send_the_weekly_report_once(make_ctx, lab_smtp, clock, tmp_path) -> None:
    clock.set(SLOT + timedelta(minutes=3))
    first = make_ctx(smtp=lab_smtp, report=MGMT)
    runs = [report.weekly(first)]
    for _ in range(3):  # the service restarts: a new Context on the same database, the job runs at start
        ctx = build_context(first.settings, clock=clock)
        runs.append(report.weekly(ctx))
        ctx.engine.dispose()
    assert [r["due"] for r in runs] == [True, False, False, False]
    assert len(lab_smtp.messages()) == 1
    clock.advance(days=7)
    assert report.weekly(first)["due"] and len(lab_smtp.messages()) == 2
    with first.session() as s:
        assert [r.status for r in s.exec(select(ReportRun))] == [ReportStatus.SENT, ReportStatus.SENT]


def test_a_missed_report_is_sent_late_once_and_a_failed_one_again(make_ctx, lab_smtp, clock) -> None:
    clock.set(SLOT + timedelta(days=2))  # the service was down on Wednesday morning
    ctx = make_ctx(smtp=lab_smtp, report=MGMT)
    lab_smtp.fail_next(1, 451)  # and the mail server refuses it at first
    result = None
    try:
        report.weekly(ctx)
    except Exception as e:  # the job's failure is recorded by run_job; the claim stays for a retry
        result = e
    assert result is not None and not lab_smtp.messages()
    clock.advance(minutes=10)
    sent = report.weekly(ctx)
    assert sent["due"] and sent["late"] and len(lab_smtp.messages()) == 1
    assert not report.weekly(ctx)["due"]
    assert period.last_slot(SLOT + timedelta(days=2), "wed", "09:00", period.ZoneInfo("Asia/Tokyo")) == SLOT


def test_a_severe_finding_reads_in_the_same_severity_words_as_the_terminal_and_the_dashboard(make_ctx, clock) -> None:
    clock.set(SLOT)
    ctx = make_ctx(report={**MGMT, "pdf": False})
    with ctx.session() as s:
        title = text("owned.expiry.soon.title", domain="hoshizora-sec.co.jp", days=5, when="2026-11-30")
        open_finding(s, FindingKind.EXPIRY, "hoshizora-sec.co.jp", title, severity=Severity.CRITICAL,
                     now=SLOT - timedelta(days=1))
        s.commit()
    data, paths = report.render_weekly(ctx, SLOT, start=SLOT - timedelta(days=7), end=SLOT)
    ja, en = report.decision_lines(data, "ja")[0], report.decision_lines(data, "en")[0]
    assert ja.startswith(f"{word('severity', Severity.CRITICAL, 'ja')}：") and ja.startswith("緊急：")
    assert en.startswith(f"{word('severity', Severity.CRITICAL, 'en')}: ") and en.startswith("critical: ")
    assert any("うち緊急・高 1 件" in line for line in report.happened(data, "ja"))
    page = paths["html"].read_text(encoding="utf-8")
    assert "<td>緊急 / critical</td>" in page and "重大" not in page  # the open findings table too
