"""CT reading speed: a lab log of >= 200,000 entries (mostly noise), read + parsed + matched by
omamori's reader (both APIs, one thread), and the same log downloaded and parsed by the PyPI CT
downloader ``axeman`` in the same run.

The lab log runs in its own process so that its CPU time does not count against either reader.
omamori's figure is entries per wall-clock second of one reader (one thread parsing, matching and
committing every batch, one thread fetching the next batch meanwhile), and per CPU second of the
whole omamori process (both threads; the lab log's CPU is in its own process and not counted). axeman is run as it ships
(50 concurrent downloads, a process pool of all cores for parsing, CSV output), only pointed at the
lab log instead of Google's old v1 log list.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ENTRIES = int(os.environ.get("OMAMORI_BENCH_CT_ENTRIES", "200000"))
LOOKALIKES = ["hoshizora-sec-login.top", "www-hoshizora-sec-co-jp.k7x2.top", "hoshizora-sec.co.jp.login-check.cn",
              "xn--hoshizora-se-khk.com", "kaede-sec-support.cn", "hzsec-account.xyz"]


def _serve(conn: Any, n: int) -> None:
    """Child process: a lab CT log of n noise entries plus a few lookalikes, served until told to stop."""
    from lab.ct import LabCTLog

    log = LabCTLog(sequence_interval=3600)
    log.start()
    step = max(1, n // len(LOOKALIKES))
    added = 0
    for name in LOOKALIKES:
        chunk = min(step, n - added)
        for i in range(0, chunk, 20000):
            log.add_noise(min(20000, chunk - i), integrate=False)
        added += chunk
        log.add_certificate([name, "www." + name], precert=True)
    log.integrate()
    conn.send({"rfc6962_url": log.rfc6962_url, "static_url": log.static_url, "log_list": log.log_list(),
               "size": log.sth.size, "host": f"{log.host}:{log.port}"})
    conn.recv()
    log.stop()


def _ctx(tmp: Path) -> Any:
    from watcher.context import build_context
    from watcher.core.config import ROOT, load_settings

    tmp.mkdir(parents=True, exist_ok=True)
    empty = tmp / "empty.toml"
    empty.write_text("")
    settings = load_settings(empty, environ={}, overrides={
        "service": {"state_dir": str(tmp / "state"), "brands_file": str(ROOT / "data" / "brands.example.toml")},
        "ct": {"start_at": "beginning"}})
    return build_context(settings)


def _ours(tmp: Path, log_list: dict[str, Any], api: str) -> dict[str, Any]:
    from sqlmodel import Session

    from watcher.core.brands import sync_brands
    from watcher.discovery.ct.loglist import parse
    from watcher.discovery.ct.matcher import matcher_for
    from watcher.discovery.ct.reader import LogReader

    ctx = _ctx(tmp / api)
    with Session(ctx.engine) as s:
        sync_brands(s, ctx.brands)
    matcher = matcher_for(ctx)  # built before the clock starts (about 2.5 s, once per process)
    info = next(i for i in parse(log_list, prefer=api) if i.api == api)
    wall, cpu = time.perf_counter(), time.process_time()
    res = LogReader(ctx, info, matcher=matcher).run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ctx.engine.dispose()
    return {"entries": res.read, "matched": res.matched, "failed": res.failed, "wall": wall, "cpu": cpu,
            "error": res.error}


_AXEMAN = r"""
import asyncio, json, sys, time
import aiohttp
from axeman import certlib, core
host, out = sys.argv[1], sys.argv[2]

async def one_log(session=None):
    return [{"url": host, "description": "lab", "operated_by": [0]}]

certlib.retrieve_all_ctls = one_log
# aiohttp 3.10+ dropped the `loop` and `conn_timeout` arguments axeman still passes: drop them.
_Session = aiohttp.ClientSession
class Session(_Session):
    def __init__(self, *a, loop=None, conn_timeout=None, **kw):
        super().__init__(*a, timeout=aiohttp.ClientTimeout(connect=conn_timeout), **kw)
core.aiohttp.ClientSession = Session
loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
t = time.perf_counter()
loop.run_until_complete(core.retrieve_certificates(loop, url=host, output_directory=out))
print(json.dumps({"wall": time.perf_counter() - t}))
"""


def _axeman(host: str, tmp: Path) -> dict[str, Any]:
    out = tmp / "axeman"
    out.mkdir()
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", _AXEMAN, host, str(out)], capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        return {"error": (p.stderr or p.stdout)[-800:], "wall": wall, "entries": 0}
    lines, indexes = 0, set()
    for f in out.rglob("*.csv"):
        for line in f.read_text(encoding="utf-8").splitlines():
            lines += 1
            indexes.add(int(line.split(",")[1]))
    inner = json.loads(p.stdout.strip().splitlines()[-1])["wall"]
    return {"entries": len(indexes), "rows": lines, "wall": inner, "process_wall": wall}


def run() -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    t = time.perf_counter()
    proc = ctx.Process(target=_serve, args=(child, ENTRIES), daemon=True)
    proc.start()
    lab = parent.recv()
    build = time.perf_counter() - t
    try:
        with tempfile.TemporaryDirectory(prefix="omamori-bench-ct-") as d:
            tmp = Path(d)
            rfc = _ours(tmp, lab["log_list"], "rfc6962")
            static = _ours(tmp, lab["log_list"], "static")
            axe = _axeman(lab["host"], tmp)
    finally:
        parent.send("stop")
        proc.join(timeout=30)
    size = lab["size"]

    def rate(n: int, s: float) -> str:
        return f"{n / s:,.0f}" if s > 0 and n else "-"

    best = max(rfc["entries"] / rfc["wall"], static["entries"] / static["wall"])
    axe_rate = axe["entries"] / axe["wall"] if axe.get("entries") else 0.0
    rows = [
        {"measure": "entries in the lab log", "omamori RFC 6962": f"{size:,}", "omamori static-ct-api": f"{size:,}",
         "axeman (RFC 6962)": f"{size:,}"},
        {"measure": "entries read", "omamori RFC 6962": f"{rfc['entries']:,}",
         "omamori static-ct-api": f"{static['entries']:,}", "axeman (RFC 6962)": f"{axe.get('entries', 0):,}"},
        {"measure": "lookalike names matched", "omamori RFC 6962": str(rfc["matched"]),
         "omamori static-ct-api": str(static["matched"]), "axeman (RFC 6962)": "(no matching: it only downloads)"},
        {"measure": "wall seconds", "omamori RFC 6962": f"{rfc['wall']:.1f}", "omamori static-ct-api":
         f"{static['wall']:.1f}", "axeman (RFC 6962)": f"{axe['wall']:.1f}"},
        {"measure": "entries / wall second", "omamori RFC 6962": rate(rfc["entries"], rfc["wall"]),
         "omamori static-ct-api": rate(static["entries"], static["wall"]),
         "axeman (RFC 6962)": rate(axe.get("entries", 0), axe["wall"])},
        {"measure": "entries / CPU second (all threads of the omamori process)", "omamori RFC 6962": rate(rfc["entries"], rfc["cpu"]),
         "omamori static-ct-api": rate(static["entries"], static["cpu"]), "axeman (RFC 6962)": "(uses every core)"},
    ]
    return {
        "title": "CT log reading: omamori vs axeman",
        "what": __doc__.strip(),
        "command": "python -m bench ct_read   (OMAMORI_BENCH_CT_ENTRIES=200000)",
        "rows": rows,
        "notes": (f"Lab log built in {build:.0f} s in a separate process. Ratio omamori (best API, one thread) / "
                  f"axeman (all cores): {best / axe_rate:.1f}x." if axe_rate else
                  f"axeman did not finish: {axe.get('error', '')}"),
        "omamori_entries_per_s": round(best),
        "axeman_entries_per_s": round(axe_rate),
        "ratio": round(best / axe_rate, 2) if axe_rate else None,
        "errors": [e for e in (rfc["error"], static["error"], axe.get("error", "")) if e],
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
