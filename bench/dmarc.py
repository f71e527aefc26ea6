"""DMARC aggregate reports read: omamori vs parsedmarc on the same real-world files.

The aggregate samples of parsedmarc's own test suite (tests/owned/dmarc/parsedmarc/aggregate: mail,
zip, gzip with stray bytes, malformed XML, DMARCbis, a 2,286-record report), read from memory by both
tools: omamori unpacks (mail, zip, gzip), recovers and parses each report (``reportfiles`` and
``dmarc.parse_report``, with every defect recorded); parsedmarc runs ``parse_report_file(offline=True)``
(no DNS, no download). Each side reads the whole folder several times; the best pass counts. Both must
agree on the record and message totals, or the run says so.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "owned" / "dmarc" / "parsedmarc" / "aggregate"
PASSES = 5


def _ours(name: str, data: bytes) -> tuple[int, int]:
    from watcher.owned import dmarc, reportfiles

    payloads = reportfiles.from_email(data) if name.endswith(".eml") else [(name, data)]
    records = messages = 0
    for _n, payload in payloads:
        for doc in reportfiles.unpack(payload):
            rep = dmarc.parse_report(doc.data)
            records += len(rep.records)
            messages += rep.messages
    return records, messages


def _theirs(name: str, data: bytes) -> tuple[int, int]:
    import parsedmarc

    rep = parsedmarc.parse_report_file(data, offline=True, always_use_local_files=True)["report"]
    return len(rep["records"]), sum(r["count"] for r in rep["records"])


def _best(fn: Any, files: list[tuple[str, bytes]]) -> tuple[float, tuple[int, int]]:
    best, totals = float("inf"), (0, 0)
    for _ in range(PASSES):
        t0 = time.perf_counter()
        rec = msg = 0
        for name, data in files:
            r, m = fn(name, data)
            rec, msg = rec + r, msg + m
        best = min(best, time.perf_counter() - t0)
        totals = (rec, msg)
    return best, totals


def run() -> dict[str, Any]:
    import logging

    import parsedmarc

    logging.getLogger("parsedmarc").setLevel(logging.CRITICAL)  # its warnings about the quirky samples
    files = [(p.name, p.read_bytes()) for p in sorted(SAMPLES.iterdir())]
    large = [f for f in files if f[0].startswith("!large-example")]
    rows = []
    agree = True
    for label, subset in (("all aggregate samples", files), ("the 2,286-record report", large)):
        _ours(*subset[0])  # imports and first-use caches out of the figure, on both sides
        _theirs(*subset[0])
        ours_s, ours_t = _best(_ours, subset)
        theirs_s, theirs_t = _best(_theirs, subset)
        agree = agree and ours_t == theirs_t
        rows.append({"input": f"{label} ({len(subset)} files, {ours_t[0]:,} records, {ours_t[1]:,} messages)",
                     "omamori (ms)": ours_s * 1000, "parsedmarc (ms)": theirs_s * 1000,
                     "ratio (parsedmarc / omamori)": f"{theirs_s / ours_s:.1f}x",
                     "totals agree": "yes" if ours_t == theirs_t else f"NO: {ours_t} vs {theirs_t}"})
    return {
        "title": "DMARC aggregate reports: omamori vs parsedmarc on parsedmarc's real-world samples",
        "what": __doc__.split("\n\n")[1].replace("\n", " ") if __doc__ else "",
        "command": ".venv/bin/python -m bench dmarc",
        "rows": rows,
        "notes": f"Best of {PASSES} passes, one process, files already in memory; parsedmarc "
                 f"{parsedmarc.__version__} offline also looks each source address up in its bundled "
                 "IP-to-country and reverse-DNS maps (omamori names senders later, in the senders step). "
                 f"Totals {'agree' if agree else 'DISAGREE'} (records and messages).",
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1, ensure_ascii=False))
