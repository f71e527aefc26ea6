"""A re-check cycle of 100,000 candidates on three workers: the wall time from the moment every
candidate is due to the moment each has a new Snapshot.

A throw-away PostgreSQL cluster and the lab (DNS, RDAP, web through its proxy); 100,000 candidates of
the demo brand, as a watch list of that size looks: most names the matcher or the fuzzers found are
not (or no longer) registered (NXDOMAIN: DNS and RDAP, no page), a share are live pages (parked, for
sale, suspended, unrelated: DNS, RDAP, a browser capture with the full evidence set, scoring). The
bench process plays the scheduler's ``snapshot`` job (``tasks.catalog.dispatch``: claim the due
candidates, one ``check`` task per batch) and three ``omamori worker`` processes do the checks.

The lab RDAP server is not paced (``rdap.requests_per_minute`` high): in production the per-server
pacing (30 a minute by default, shared by every host through the database) bounds a cycle long before
the workers do; the answers are shared through the database (``rdap.cache_hours`` = 12, the
production default), so the workers ask the lab registry once per name and once per address between
them. This cycle's names are all new to the cache (a cold cycle); this bench measures omamori's own
work.

    OMAMORI_BENCH_RECHECK_CANDIDATES=100000 OMAMORI_BENCH_RECHECK_LIVE=1000 python -m bench recheck
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench._cpu import TreeCPU
from bench._procs import stop_all

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 3
LIVE_KINDS = ("parked-sedo", "parked-godaddy", "forsale", "parked-onamae", "parked-bodis", "suspended",
              "corporate", "blank")


def _self_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _count(engine: Any, sql: str, **params: Any) -> int:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql), params).scalar() or 0)


def _seed(engine: Any, brand_id: int, total: int, live: list[str], now: Any) -> None:
    """Insert ``total`` candidates (the ``live`` names first), all due now, in a few big INSERTs."""
    import sqlalchemy as sa

    from watcher.core.models import Candidate, CandidateStatus, Source, Verdict

    table = Candidate.__table__  # type: ignore[attr-defined]
    past = now - timedelta(days=3)
    rows = []
    for i in range(total):
        domain = live[i] if i < len(live) else f"hoshizora-sec-{i:06d}.top"
        rows.append({"domain": domain, "registrable": domain, "unicode": domain, "brand_id": brand_id,
                     "status": CandidateStatus.WATCHING, "verdict": Verdict.UNKNOWN, "source": Source.PERMUTATION, "sources": ["permutation"],
                     "reasons": [], "match_points": 40, "score": 0, "urls": [], "facts": {}, "first_seen_at": past,
                     "last_seen_at": past, "status_changed_at": past, "last_checked_at": past,
                     "next_check_at": now, "down_count": 0})
    with engine.begin() as conn:
        for i in range(0, len(rows), 5000):
            conn.execute(sa.insert(table), rows[i: i + 5000])


def _cycle(ctx: Any, engine: Any, total: int, procs: list[subprocess.Popen[bytes]], logs: Path,
           limit: float) -> tuple[float, int, list[tuple[float, int]], Any]:
    """Dispatch every due candidate (as the ``snapshot`` job does) until each has a new Snapshot."""
    from watcher.tasks import catalog

    t0 = time.monotonic()
    start_at = ctx.now()
    dispatched = done = 0
    samples: list[tuple[float, int]] = []
    while time.monotonic() < t0 + limit:
        if dispatched < total:
            dispatched += catalog.dispatch(ctx)["claimed"]
        done = _count(engine, "SELECT count(*) FROM snapshot WHERE taken_at >= :t", t=start_at)
        samples.append((time.monotonic() - t0, done))
        if done >= total:
            break
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a worker ended: " + "; ".join(
                (logs / f"worker-{i}.log").read_text(errors="replace")[-500:] for i in range(WORKERS)))
        time.sleep(2)
    return time.monotonic() - t0, done, samples, start_at


def run(*, warm: bool = False, default_total: int = 100000) -> dict[str, Any]:
    """One cycle; with ``warm``, then a second one over the same candidates (the answers the first
    stored are what production has at every cycle after the first)."""
    from sqlmodel import select

    from lab.demo import DEMO_BRANDS, DEMO_SCENARIO, omamori_config
    from lab.pgcluster import PgCluster
    from lab.world import World
    from watcher.context import build_context
    from watcher.core.brands import sync_brands
    from watcher.core.config import load_settings
    from watcher.core.db import make_engine, upgrade
    from watcher.core.models import Brand
    from watcher.tasks import runtime

    total = int(os.environ.get("OMAMORI_BENCH_RECHECK_CANDIDATES", str(default_total)))
    n_live = min(total, int(os.environ.get("OMAMORI_BENCH_RECHECK_LIVE", str(max(1, total // 100)))))
    load_start = os.getloadavg()
    pg = PgCluster()
    url = pg.start()
    world = World.start(DEMO_SCENARIO, run_events=False, noise_rate=0)
    world.fire_pending()
    procs: list[subprocess.Popen[bytes]] = []
    stop = threading.Event()
    out: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="omamori-recheck-") as tmp:
            state = Path(tmp) / "state"
            cfg = state / "config.toml"
            text = omamori_config(world.endpoints(), state, brands_file=DEMO_BRANDS)
            # Every job off: the bench is the scheduler's snapshot job, the workers do the checks.
            text = text.replace("requests_per_minute = 600", "requests_per_minute = 600000")
            # The production answer cache (the demo's is seconds long): answers shared by the workers.
            text = text.replace("cache_hours = 0.01", "cache_hours = 12")
            cfg.write_text(text + f'\n[database]\nurl = "{url}"\n\n[tasks]\nworker_in_run = false\n'
                           "claim_seconds = 3600\n", encoding="utf-8")
            live = [f"hoshizora-live-{i:05d}.top" for i in range(n_live)]
            for i, host in enumerate(live):
                world.web.publish(host, LIVE_KINDS[i % len(LIVE_KINDS)])
                world.dns.set(host, "A", [f"203.0.113.{10 + i % 200}"])
            settings = load_settings(cfg, environ={})
            engine = make_engine(url)
            upgrade(engine)
            ctx = build_context(settings)
            with ctx.transaction() as s:
                sync_brands(s, ctx.brands)
                brand_id = s.exec(select(Brand.id).where(Brand.slug == "hoshizora")).one()
            # The references (the brand's own site) once, as a running service has them.
            from watcher.capture.snapshot import ensure_references

            ensure_references(ctx)
            now = ctx.now()
            t_seed = time.monotonic()
            _seed(engine, int(brand_id or 0), total, live, now)
            seed_s = time.monotonic() - t_seed
            env = {k: v for k, v in os.environ.items() if not k.startswith("OMAMORI_")}
            logs = Path(tmp) / "logs"
            logs.mkdir()
            base = [sys.executable, "-m", "watcher", "--config", str(cfg)]
            used, self0 = TreeCPU(interval=0.5).__enter__(), _self_cpu()
            for w in range(WORKERS):
                procs.append(subprocess.Popen([*base, "worker"], cwd=ROOT, env=env,
                                              stdout=(logs / f"worker-{w}.log").open("wb"), stderr=subprocess.STDOUT))
            running = runtime.start(ctx, stop, work=False)
            time.sleep(5)  # the workers are up (their start is not the cycle's work)
            rdap0 = world.rdap.requests
            limit = float(os.environ.get("OMAMORI_BENCH_RECHECK_LIMIT_SECONDS", "7200"))
            wall, done, samples, start_at = _cycle(ctx, engine, total, procs, logs, limit)
            rdap_asked = world.rdap.requests - rdap0
            second: dict[str, Any] = {}
            if warm and done >= total:
                import sqlalchemy as sa

                with engine.begin() as conn:  # every candidate due again now
                    conn.execute(sa.text("UPDATE candidate SET next_check_at = :t"), {"t": ctx.now()})
                rdap1 = world.rdap.requests
                wall2, done2, _, _ = _cycle(ctx, engine, total, procs, logs, limit)
                second = {"second cycle: checked": done2, "second cycle: wall seconds": round(wall2, 1),
                          "second cycle: candidates per second": round(done2 / wall2, 1) if wall2 else 0.0,
                          "second cycle: requests to the lab RDAP server": world.rdap.requests - rdap1}
            load_end = os.getloadavg()
            stop_all(procs, grace=60)  # stopped and waited for: their CPU time is counted
            used.__exit__(None, None, None)
            workers_cpu, self_cpu = used.seconds, _self_cpu() - self0
            snapshots_with_page = _count(engine, "SELECT count(*) FROM snapshot WHERE taken_at >= :t "
                                                 "AND screenshot_sha256 <> ''", t=start_at)
            retried = _count(engine, "SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE attempts > 1")
            failed = _count(engine, "SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE status = 'failed'")
            dup = _count(engine, "SELECT count(*) FROM (SELECT candidate_id FROM snapshot WHERE taken_at >= :t "
                                 "GROUP BY candidate_id HAVING count(*) > 1) d", t=start_at)
            running.close()
            stop.set()
            engine.dispose()
            ctx.engine.dispose()
            half = next((t for t, d in samples if d >= total // 2), float("nan"))
            out = {
                "candidates": total, "of which live pages (browser capture)": n_live,
                "checked (a new Snapshot)": done, "with a screenshot": snapshots_with_page,
                "candidates checked twice": dup, "tasks retried": retried, "tasks failed": failed,
                "wall seconds, whole cycle (3 workers)": round(wall, 1),
                "candidates per second": round(done / wall, 1) if wall else 0.0,
                "seconds to half the cycle": round(half, 1),
                "requests to the lab RDAP server (domains and addresses; shared answers: each once)": rdap_asked,
                "CPU seconds of the 3 workers (with their crawlers and browsers)": round(workers_cpu, 1),
                "worker CPU ms per candidate": round(1000 * workers_cpu / max(done, 1), 1),
                "CPU seconds of the bench process (dispatch and the lab's DNS, RDAP and web servers)":
                    round(self_cpu, 1),
                "seeding seconds (not counted)": round(seed_s, 1),
                **second,
                "load average at start / end (1 min)": f"{load_start[0]:.2f} / {load_end[0]:.2f}",
            }
            if done < total:
                out["note"] = f"stopped at the time limit with {done:,} of {total:,} checked"
    finally:
        stop.set()
        stop_all(procs, grace=30)
        world.stop()
        pg.stop()
    return {
        "title": f"Re-check cycle: {total:,} candidates on {WORKERS} workers (PostgreSQL, lab)",
        "what": __doc__.split("\n\n")[1].replace("\n", " ") if __doc__ else "",
        "command": f"OMAMORI_BENCH_RECHECK_CANDIDATES={total} OMAMORI_BENCH_RECHECK_LIVE={n_live} "
                   "python -m bench recheck",
        **out,
        "notes": ("No peer tool re-checks a watch list; the figure stands alone. The wall time is the "
                  "machine's, shared with whatever else runs on it (see the load average); the CPU per candidate "
                  "is the code's. PostgreSQL's CPU is in neither figure. " + (__doc__ or "").split("\n\n")[2]
                  .replace("\n", " ")),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1, ensure_ascii=False))
