"""Dashboard read side on a big database: 100,000 candidates and 1,000,000 events (SQLite).

Bulk-inserts a synthetic but realistically shaped database (status mix of a year of CT matches,
~10 events per candidate, job runs, requests, findings, DMARC reports), then times each query the
views run (``dashboard/queries.py``: exactly the functions the views call, without Streamlit's cache,
so these are cold-cache figures) and one full AppTest render of the triage queue and candidate view.

    python -m bench dashboard
    python bench/dashboard.py            # prints the table
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

N_CANDIDATES = 100_000
N_EVENTS = 1_000_000
N_SNAPSHOT_CANDIDATES = 20_000  # the ones captured at least once (two snapshots each)
REPEAT = 5

STATUS_MIX = (("dismissed", 50), ("checked", 20), ("watching", 15), ("down", 7), ("new", 5), ("reported", 2),
              ("confirmed", 1))
SOURCES = ("ct", "certstream", "permutation", "report", "feed")
VERDICTS = ("unknown", "phishing", "suspicious", "parked", "benign", "unreachable")
TLDS = ("top", "cn", "xyz", "asia", "com", "net", "jp", "co", "info", "shop")


def _ts(dt: datetime) -> str:
    # How SQLAlchemy's SQLite DateTime stores a naive UTC value (watcher.core.models.UTCDateTime strips the zone).
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def build(path: Path, *, candidates: int = N_CANDIDATES, events: int = N_EVENTS) -> tuple[sa.Engine, datetime, int]:
    """Create and fill the database; returns (engine, now, brand id)."""
    from watcher.core.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    rnd = random.Random(20261125)
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    statuses = [s for s, w in STATUS_MIX for _ in range(w)]
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO brand (slug, name, name_ja, spec, \"references\", created_at, updated_at) "
            "VALUES ('hoshizora', 'Hoshizora Securities', 'ほしぞら証券', ?, '[]', ?, ?)",
            (json.dumps({"sending_domains": ["hoshizora-sec.co.jp", "hzsec.com"]}), _ts(now), _ts(now)))
        brand_id = conn.exec_driver_sql("SELECT id FROM brand").scalar_one()
        rows = []
        for i in range(1, candidates + 1):
            seen = now - timedelta(minutes=rnd.randrange(365 * 24 * 60))
            domain = f"hoshizora-{i:06d}-login.{rnd.choice(TLDS)}"
            rows.append((i, domain, domain, "", brand_id, rnd.choice(statuses), rnd.choice(VERDICTS),
                         rnd.choice(SOURCES), "[]", json.dumps([{"kind": "keyword", "detail": "hoshizora", "points": 30}]),
                         30, rnd.randrange(0, 200), "[]", "{}", _ts(seen), _ts(seen), _ts(seen), 0))
        conn.exec_driver_sql(
            "INSERT INTO candidate (id, domain, registrable, unicode, brand_id, status, verdict, source, sources, "
            "reasons, match_points, score, urls, facts, first_seen_at, last_seen_at, status_changed_at, down_count) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        snaps = []
        capture = json.dumps({"final_url": "https://x.top/login", "title": "ログイン", "forms": [{"action": "/p"}]})
        for cid in rnd.sample(range(1, candidates + 1), N_SNAPSHOT_CANDIDATES):
            for k in range(2):
                snaps.append((cid, _ts(now - timedelta(hours=k * 24 + rnd.randrange(24))), '{"A": ["203.0.113.9"]}',
                              '{"registrar": "Cheap Names Ltd."}', "{}", capture, "", "", "", "", "{}", 1, 0, 100,
                              "phishing", "[]", ""))
        conn.exec_driver_sql(
            "INSERT INTO snapshot (candidate_id, taken_at, dns, rdap, hosting, capture, screenshot_sha256, "
            "fullpage_sha256, html_sha256, favicon_sha256, hashes, reachable, gone, score, verdict, reasons, error) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", snaps)
        reqs = []
        for cid in rnd.sample(range(1, candidates + 1), 5_000):
            st = rnd.choice(("draft", "queued", "sent", "sent", "answered", "closed", "closed", "closed"))
            created = now - timedelta(hours=rnd.randrange(1, 2000))
            sent = _ts(created + timedelta(hours=1)) if st != "draft" else None
            ttd = rnd.uniform(2, 300) * 3600 if st == "closed" else None
            reqs.append((cid, f"abuse@registrar{rnd.randrange(40)}.test", "Registrar", "registrar", "email", "ja",
                         "subject", "body", "[]", st, "", 0, "", 0, 0, "dashboard:approver", _ts(created), sent, 0,
                         _ts(created + timedelta(seconds=ttd)) if ttd else None, ttd, "[]"))
        conn.exec_driver_sql(
            "INSERT INTO takedown_request (candidate_id, recipient, recipient_name, recipient_kind, channel, "
            "language, subject, body, attachments, status, message_id, attempts, last_error, escalation_level, "
            "auto, created_by, created_at, sent_at, reminders_sent, closed_at, time_to_down_seconds, replies) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", reqs)
        _events(conn, rnd, now, candidates, events)
        conn.exec_driver_sql(
            "INSERT INTO owned_domain (brand_id, name, apex, is_apex, source, lapsed, registrar, expires_at, "
            "statuses, nameservers, dns, registration, first_seen_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(brand_id, f"d{i}.hoshizora.jp", f"d{i}.hoshizora.jp", 1, "config", 0, "Lab Registrar",
              _ts(now + timedelta(days=rnd.randrange(400))), "[]", "[]", "{}", "{}", _ts(now)) for i in range(500)])
        conn.exec_driver_sql(
            "INSERT INTO dmarc_report (key, org_name, report_id, domain, begin_at, policy, records, received_at, "
            "raw_sha256) VALUES (?,?,?,?,?,?,?,?,?)",
            [(f"r{i}", rnd.choice(("google.com", "Yahoo! JAPAN", "Outlook.com")), str(i),
              rnd.choice(("hoshizora-sec.co.jp", "hzsec.com")), _ts(now - timedelta(days=rnd.randrange(60))), "{}",
              json.dumps([{"source_ip": f"192.0.2.{rnd.randrange(50)}", "count": rnd.randrange(1, 500),
                           "dkim": rnd.choice(("pass", "fail")), "spf": rnd.choice(("pass", "fail"))}
                          for _ in range(5)]), _ts(now), "") for i in range(1_000)])
    return engine, now, int(brand_id)


def _events(conn: sa.Connection, rnd: random.Random, now: datetime, candidates: int, total: int) -> None:
    """Mostly per-candidate history; a job-run stream; a few failures (what the health view reads)."""
    batch: list[tuple[Any, ...]] = []
    actions = ("candidate.sighted", "candidate.status", "candidate.discovered", "snapshot.taken", "candidate.note")
    for i in range(total):
        at = _ts(now - timedelta(seconds=rnd.randrange(365 * 86400)))
        r = i % 100
        if r < 85:
            batch.append((at, "system", rnd.choice(actions), "candidate", rnd.randrange(1, candidates + 1),
                          '{"from": "new", "to": "checked"}'))
        elif r < 99:
            batch.append((at, "scheduler", "job.ran", "job", None, '{"job": "ct_poll", "seconds": 1.2}'))
        else:
            batch.append((at, "scheduler", "job.failed", "job", None, '{"job": "permutations", "error": "Timeout"}'))
        if len(batch) >= 50_000:
            conn.exec_driver_sql("INSERT INTO event (at, actor, action, object_type, object_id, detail) "
                                 "VALUES (?,?,?,?,?,?)", batch)
            batch.clear()
    if batch:
        conn.exec_driver_sql("INSERT INTO event (at, actor, action, object_type, object_id, detail) "
                             "VALUES (?,?,?,?,?,?)", batch)


def _time(fn: Callable[[], Any], repeat: int = REPEAT) -> float:
    """Median wall-clock milliseconds over ``repeat`` runs (after one warm-up for the page cache)."""
    fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs)


def measure(engine: sa.Engine, now: datetime, brand_id: int) -> list[dict[str, Any]]:
    from dashboard import queries as q

    with engine.connect() as conn:
        busy = conn.exec_driver_sql(
            "SELECT object_id FROM event WHERE object_type='candidate' GROUP BY object_id "
            "ORDER BY count(*) DESC LIMIT 1").scalar_one()
    waiting = q.QueueFilter()
    cases: list[tuple[str, str, Callable[[], Any]]] = [
        ("triage", "counts per status (GROUP BY)", lambda: q.status_counts(engine)),
        ("triage", "queue page 1 (new+checked, by score)", lambda: q.queue_page(engine, waiting, limit=50, offset=0)),
        ("triage", "queue page 200 (offset 9,950)", lambda: q.queue_page(engine, waiting, limit=50, offset=9_950)),
        ("triage", "queue filtered: brand+source+verdict+30 days",
         lambda: q.queue_page(engine, q.QueueFilter(brand_id=brand_id, sources=("ct",), verdicts=("phishing",),
                                                    since=now - timedelta(days=30)), limit=50, offset=0)),
        ("triage", "queue: domain contains '01234'",
         lambda: q.queue_page(engine, q.QueueFilter(statuses=(), domain_contains="01234"), limit=50, offset=0)),
        ("candidate", "candidate + latest snapshot + timeline + events + requests",
         lambda: (q.candidate(engine, busy), q.latest_snapshot(engine, busy), q.snapshot_timeline(engine, busy),
                  q.object_events(engine, "candidate", busy), q.candidate_requests(engine, busy))),
        ("takedowns", "by recipient, outcomes, reminders due, time to down",
         lambda: (q.open_by_recipient(engine), q.request_outcomes(engine), q.reminders_due(engine, now, 48),
                  q.time_to_down_hours(engine))),
        ("takedowns", "open requests page", lambda: q.open_requests_page(engine, limit=50, offset=0)),
        ("owned", "inventory page + expiry chart + findings",
         lambda: (q.owned_domains(engine, limit=50, offset=0), q.expiry_points(engine), q.owned_findings(engine))),
        ("mail", "state + DMARC summary (30 days)",
         lambda: (q.mail_state(engine, ["hoshizora-sec.co.jp", "hzsec.com"]),
                  q.dmarc_summary(engine, now - timedelta(days=30)))),
        ("health", "logs, jobs, job failures (from 1M events), self-findings",
         lambda: (q.log_positions(engine), q.job_states(engine), q.job_failures(engine), q.self_findings(engine))),
    ]
    rows = [{"view": v, "query": name, "median ms": round(_time(fn), 1)} for v, name, fn in cases]
    t0 = time.perf_counter()
    n = sum(1 for _ in q.export_rows(engine, "candidates"))
    rows.append({"view": "reports", "query": f"CSV export of all candidates ({n - 1:,} rows, keyset chunks)",
                 "median ms": round((time.perf_counter() - t0) * 1000, 1)})
    return rows


def render_times(db: Path, now: datetime) -> list[dict[str, Any]]:
    """One whole AppTest run of the triage queue and of a candidate (sign-in skipped), cold cache."""
    import os

    from streamlit.testing.v1 import AppTest

    from watcher.core.auth import hash_password
    from watcher.core.config import ROOT

    cfg = db.parent / "config.toml"
    cfg.write_text(f'[service]\nstate_dir = "{db.parent}"\n[database]\nurl = "sqlite:///{db}"\n'
                   f'[[dashboard.users]]\nname = "bench"\nrole = "viewer"\npassword_hash = "{hash_password("bench-pw-1")}"\n')
    old = os.environ.get("OMAMORI_CONFIG")
    os.environ["OMAMORI_CONFIG"] = str(cfg)
    out = []
    try:
        for label, state in (("triage queue", {}), ("candidate", {"nav": "candidate", "candidate_id": 4242})):
            at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
            at.session_state["user"] = "bench"
            for k, v in state.items():
                at.session_state[k] = v
            t0 = time.perf_counter()
            at.run()
            out.append({"view": label, "query": "whole page through AppTest (first run: imports, context, cold cache)",
                        "median ms": round((time.perf_counter() - t0) * 1000, 1)})
            assert not at.exception, at.exception
            t0 = time.perf_counter()
            at.run()
            out.append({"view": label, "query": "whole page through AppTest (a click within the 10 s cache)",
                        "median ms": round((time.perf_counter() - t0) * 1000, 1)})
    finally:
        if old is None:
            os.environ.pop("OMAMORI_CONFIG", None)
        else:
            os.environ["OMAMORI_CONFIG"] = old
    return out


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="omamori-bench-dash-") as tmp:
        db = Path(tmp) / "omamori.db"
        t0 = time.perf_counter()
        engine, now, brand_id = build(db)
        seeded = time.perf_counter() - t0
        rows = measure(engine, now, brand_id)
        engine.dispose()
        rows += render_times(db, now)
    return {
        "title": "Dashboard queries on 100,000 candidates and 1,000,000 events",
        "what": ("Median of 5 runs (after one warm-up) of each read the dashboard views make, straight from "
                 "dashboard/queries.py without Streamlit's cache; SQLite in WAL mode on the local disk. "
                 f"Bulk seeding took {seeded:.0f} s (100,000 candidates, 40,000 snapshots, 5,000 requests, "
                 "1,000,000 events, 1,000 DMARC reports)."),
        "command": "python -m bench dashboard",
        "rows": rows,
        "notes": ("The queue orders by score and filters by status on their own indexes; counts are GROUP BY; "
                  "events are read per object (ix_event_object) or per action (ix_event_action). "
                  "In the served dashboard each read is then cached for 10-60 s (st.cache_data)."),
    }


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    result = run()
    print(result["what"])
    for r in result["rows"]:
        print(f"{r['view']:10} {r['median ms']:>9.1f} ms  {r['query']}")
