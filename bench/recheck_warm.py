"""The re-check cycle twice over the same candidates: the second cycle finds the RDAP answers the
first stored in the database (``rdap_answer``), as every cycle after the first does in production.

    OMAMORI_BENCH_RECHECK_CANDIDATES=10000 OMAMORI_BENCH_RECHECK_LIVE=100 python -m bench recheck_warm
"""

from __future__ import annotations

from typing import Any

from bench import recheck


def run() -> dict[str, Any]:
    out = recheck.run(warm=True, default_total=10000)  # two cycles: 10,000 unless told otherwise
    total = out.get("candidates", 0)
    # Whole-run figures cover both cycles: say so, and the CPU per check is over both.
    checks = out.get("checked (a new Snapshot)", 0) + out.get("second cycle: checked", 0)
    renamed = {"with a screenshot": "with a screenshot (both cycles)",
               "candidates checked twice": "candidates with a Snapshot in both cycles (expected: all)",
               "CPU seconds of the 3 workers (with their crawlers and browsers)":
                   "CPU seconds of the 3 workers, both cycles (with their crawlers and browsers)",
               "worker CPU ms per candidate": "worker CPU ms per check (both cycles)"}
    out = {renamed.get(k, k): v for k, v in out.items()}
    cpu = out.get("CPU seconds of the 3 workers, both cycles (with their crawlers and browsers)", 0.0)
    out["worker CPU ms per check (both cycles)"] = round(1000 * cpu / max(checks, 1), 1)
    out["title"] = f"Re-check cycle, then again (answers stored): {total:,} candidates on {recheck.WORKERS} workers"
    out["command"] = (f"OMAMORI_BENCH_RECHECK_CANDIDATES={total} OMAMORI_BENCH_RECHECK_LIVE="
                      f"{out.get('of which live pages (browser capture)', '')} python -m bench recheck_warm")
    return out
