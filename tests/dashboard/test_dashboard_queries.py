"""The read side without Streamlit, and the label table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dashboard import queries as q
from dashboard.i18n import LABELS, tr
from tests.dashboard.seed import Seeded
from watcher.core.config import ROOT, load_settings
from watcher.core.db import make_engine


@pytest.fixture
def engine(seeded_template: tuple[Path, Seeded]) -> Iterator[Engine]:
    base, _ = seeded_template
    e = make_engine(load_settings(base / "config.toml", environ={}).database_url)
    yield e
    e.dispose()


def test_every_label_used_in_the_code_exists_in_both_languages() -> None:
    used: set[str] = set()
    for path in (ROOT / "dashboard").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""ui\.t\(\s*["']([a-z_0-9]+)["']""", text))
        used |= set(re.findall(r"""\btr\([^,()]+(?:\[[^\]]+\])?,\s*["']([a-z_0-9]+)["']""", text))
    # Keys built at run time: views, roles, age choices, CSV exports (a status's, a source's, a channel's... words are
    # the catalogue's: tests/test_texts.py).
    from dashboard.views import VIEWS
    from dashboard.views.triage import AGES

    used |= {f"v_{v}" for v in VIEWS} | set(AGES)
    used |= {f"role_{r}" for r in ("viewer", "analyst", "approver", "admin")}
    used |= {f"csv_{name}" for name in q.EXPORTS}
    from dashboard.views.triage import SCOPES
    from watcher.core.models import FindingKind

    used |= {f"fk_{k.value}" for k in FindingKind} | set(SCOPES)
    used |= {f"decided_{d}" for d in ("watch", "dismiss", "reopen")}
    from watcher.schedule import JOBS

    used |= {f"job_{j.name}" for j in JOBS} | {"yes"}
    missing = sorted(k for k in used if k not in LABELS)
    assert not missing, f"labels used but not defined: {missing}"
    assert all(ja and en for ja, en in LABELS.values())
    assert tr("ja", "page_of", page=1, pages=2, total=3) == "1 / 2 ページ（全 3 件）"
    assert tr("en", "no-such-key") == "no-such-key"


@pytest.mark.parametrize(("kind", "mechanism"), [
    ("spf", "spf"), ("dkim", "dkim"), ("dmarc", "dmarc"), ("bimi", "bimi"), ("mta_sts", "mta_sts"),
    ("tlsrpt", "tlsrpt"), ("nonsending_auth", None), ("takeover_cname", None), ("expiry", None), ("spfx", None),
])
def test_mechanism_of(kind: str, mechanism: str | None) -> None:
    assert q.mechanism_of(kind) == mechanism


def test_queue_pages_in_score_order_and_counts_matches(engine: Engine) -> None:
    everything = q.QueueFilter(statuses=())
    first, total = q.queue_page(engine, everything, limit=5, offset=0)
    second, _ = q.queue_page(engine, everything, limit=5, offset=5)
    assert total == 16 and len(first) == 5
    scores = [r["score"] for r in first + second]
    assert scores == sorted(scores, reverse=True)
    assert not {r["id"] for r in first} & {r["id"] for r in second}
    assert q.status_counts(engine) == {"new": 2, "checked": 5, "watching": 3, "confirmed": 1, "reported": 2,
                                       "down": 1, "dismissed": 2}


def test_queue_filters_combine(engine: Engine, seeded_template: tuple[Path, Seeded]) -> None:
    _, ids = seeded_template
    rows, n = q.queue_page(engine, q.QueueFilter(statuses=("checked",), sources=("ct",), verdicts=("phishing",)),
                           limit=50, offset=0)
    assert n == 2 and {r["domain"] for r in rows} == {"hoshizora-sec-login.top", "www-hoshizora-sec-co-jp.k7x2.top"}
    _, n = q.queue_page(engine, q.QueueFilter(statuses=(), since=ids.now - timedelta(hours=13)), limit=50,
                             offset=0)
    assert n == 2  # first seen 6 h and 12 h before the seed's "now"
    # LIKE wildcards in the search box are literal characters.
    assert q.queue_page(engine, q.QueueFilter(statuses=(), domain_contains="%"), limit=50, offset=0)[1] == 0


def test_owned_and_mail_findings_are_split(engine: Engine) -> None:
    owned = [f["kind"] for f in q.owned_findings(engine)]
    assert owned[:2] == ["takeover_cname", "dropcatch"] and "dmarc" not in owned and "job_failing" not in owned
    state = {r["domain"]: r for r in q.mail_state(engine, ["hzsec.com", "hoshizora-sec.co.jp"])}
    assert state["hzsec.com"]["dmarc"] and state["hzsec.com"]["bimi"] and not state["hzsec.com"]["spf"]
    assert not any(state["hoshizora-sec.co.jp"][m] for m in q.MAIL_MECHANISMS)
    assert {f["kind"] for f in q.self_findings(engine)} == {"job_failing", "ct_log_stale"}


def test_dmarc_summary_counts_who_sends_as_us(engine: Engine, seeded_template: tuple[Path, Seeded]) -> None:
    _, ids = seeded_template
    d = q.dmarc_summary(engine, ids.now - timedelta(days=30))
    assert d["reports"] == 3
    by_ip = {(s["domain"], s["source_ip"]): s for s in d["senders"]}
    assert by_ip[("hoshizora-sec.co.jp", "192.0.2.10")]["messages"] == 2000
    assert by_ip[("hoshizora-sec.co.jp", "192.0.2.10")]["reported_by"] == "Yahoo! JAPAN, google.com"
    # DKIM pass alone aligns (RFC 7489); both failing does not.
    assert by_ip[("hzsec.com", "192.0.2.20")]["failing"] == 0
    assert d["senders"][0]["failing"] == 95
    assert q.dmarc_summary(engine, ids.now + timedelta(days=1))["reports"] == 0


def test_takedown_queries(engine: Engine, seeded_template: tuple[Path, Seeded]) -> None:
    _, ids = seeded_template
    assert q.request_outcomes(engine) == {"draft": 3, "sent": 2, "answered": 1, "closed": 2, "failed": 1}
    due = q.reminders_due(engine, ids.now, 48)
    assert {r["domain"] for r in due} == {"hoshizora-secure-login.asia"}
    assert q.reminders_due(engine, ids.now, 72) == []
    assert sorted(q.time_to_down_hours(engine)) == [20.0, 30.0]
    page, total = q.open_requests_page(engine, limit=2, offset=0)
    assert total == 6 and len(page) == 2  # failed and closed ones are not open
    by = {r["recipient"]: r["count"] for r in q.open_by_recipient(engine)}
    assert by["abuse@cheapnames.test"] == 2


def test_exports_stream_in_chunks(engine: Engine) -> None:
    rows = list(q.export_rows(engine, "candidates", chunk=4))
    assert rows[0][:2] == ["id", "domain"] and len(rows) == 17
    assert [r[0] for r in rows[1:]] == sorted(r[0] for r in rows[1:])


@pytest.mark.postgres
def test_every_view_query_runs_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    """The same reads on PostgreSQL (production): JSON columns, boolean ordering, labels in ORDER BY."""
    from tests.dashboard.seed import seed, write_config
    from watcher.context import build_context

    ctx = build_context(load_settings(write_config(tmp_path, pg_url), environ={}))
    try:
        ids = seed(ctx)
        e = ctx.engine
        assert q.status_counts(e)["checked"] == 5
        rows, total = q.queue_page(e, q.QueueFilter(domain_contains="hoshizora"), limit=3, offset=0)
        assert total == 5 and rows[0]["domain"] == "hoshizora-sec-login.top"
        cid = ids.candidates["hoshizora-sec-mypage.cn"]
        assert q.latest_snapshot(e, cid) and len(q.snapshot_timeline(e, cid)) == 2
        assert q.object_events(e, "candidate", cid) and len(q.candidate_requests(e, cid)) == 2
        assert q.open_by_recipient(e)[0]["count"] == 2
        assert {r["domain"] for r in q.reminders_due(e, ids.now, 48)} == {"hoshizora-secure-login.asia"}
        assert sorted(q.time_to_down_hours(e)) == [20.0, 30.0]
        assert q.owned_domains(e, limit=50, offset=0)[0][0]["name"] == "hoshizora-sec.com"
        assert q.expiry_points(e) and q.owned_findings(e)[0]["kind"] == "takeover_cname"
        assert q.dmarc_summary(e, ids.now - timedelta(days=30))["reports"] == 3
        assert q.job_failures(e) and q.log_positions(e) and q.job_states(e)
        assert len(list(q.export_rows(e, "requests", chunk=3))) == 10
    finally:
        ctx.engine.dispose()


def test_outside_text_cannot_draw_markdown() -> None:
    from dashboard.widgets import esc

    hostile = "[ログイン](https://evil.example/x) ![i](https://evil.example/i.png) **x**"
    out = esc(hostile)
    assert "](" not in out.replace("\\](", "") and "**" not in out.replace("\\*", "")
    assert out.replace("\\", "") == hostile  # shown as typed
