"""Permutation resolution: omamori's asynchronous resolver against dnstwist's own scanner.

Every permutation of a realistic firm's three domains (hoshizora-sec.co.jp, hoshizora.jp, hzsec.com:
all of dnstwist's fuzzers with the shipped dictionary and TLD lists, plus omamori's own) is resolved
against the lab's authoritative DNS server with a 20 ms delay on every query, as a real recursive
resolver on the network would add. The lab server runs in its own process, so neither client shares
an interpreter (or the GIL) with it. A sample of the names is registered in the lab zone (SOA, NS and
an A record each); both tools must find exactly those.

dnstwist is driven the way its CLI does with ``--registered --nameservers``: ``dnstwist.Scanner``
threads (its default count, ``THREAD_COUNT_DEFAULT``) with ``option_extdns`` and a ``Do53Nameserver``
on the lab's port (its CLI takes no port). omamori uses ``Resolver.profile_many`` with the [dns]
settings written below (A, AAAA, CNAME, MX, NS for every name that exists).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ("hoshizora-sec.co.jp", "hoshizora.jp", "hzsec.com")
DELAY = 0.020
ROUNDS = 2
SAMPLE_EVERY = 37  # every 37th permutation is "registered" (~3%), plus the demo's known lookalikes
KNOWN = ("hoshizora-sec.co", "hoshizora-sec.jp", "hosizora-sec.co.jp", "xn--hoshizora-se-khk.com",
         "hoshizora-sec-login.top", "hzsec-login.top", "hoshizora-jp.com")

_SERVER = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {root!r})
    from lab.dns import LabDNS
    names = json.load(open({names!r}))
    dns = LabDNS(delay={delay}).start()
    for i, n in enumerate(names):
        dns.add_zone(n)
        dns.set(n, "A", f"203.0.113.{{i % 250 + 1}}")
    print(dns.port, flush=True)
    sys.stdin.read()  # until the parent closes stdin
    dns.stop()
""")


_CPU: dict[str, float] = {}


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "-"


def _names() -> tuple[list[str], list[str]]:
    from watcher.discovery.fuzzers import permutations

    names: list[str] = []
    for d in DOMAINS:
        names += [p.name for p in permutations(d)]
    names = list(dict.fromkeys(names))
    registered = sorted({n for i, n in enumerate(sorted(names)) if i % SAMPLE_EVERY == 0} | (set(KNOWN) & set(names)))
    return names, registered


def _omamori(names: list[str], port: int, concurrency: int, rate: float) -> tuple[float, set[str], int]:
    from watcher.clients.resolver import Resolver
    from watcher.core.config import DnsSettings

    r = Resolver(DnsSettings(nameservers=["127.0.0.1"], port=port, timeout=2.0, retries=2,
                             concurrency=concurrency, rate_limit=rate))
    t0, c0 = time.perf_counter(), time.process_time()
    res = r.profile_many(names)
    elapsed = time.perf_counter() - t0
    _CPU["omamori"] = time.process_time() - c0
    failed = sum(1 for p in res.values() if any(s in ("timeout", "servfail", "error") for s in p.statuses.values()))
    return elapsed, {n for n, p in res.items() if p.exists}, failed


def _dnstwist(names: list[str], port: int) -> tuple[float, set[str], int]:
    import dnstwist
    from dns.nameserver import Do53Nameserver

    jobs: queue.Queue[dict[str, Any]] = queue.Queue()
    tasks = [{"fuzzer": "bench", "domain": n} for n in names]
    for t in tasks:
        jobs.put(t)
    threads = []
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(dnstwist.THREAD_COUNT_DEFAULT):
        s = dnstwist.Scanner(jobs)
        s.option_extdns = True
        s.nameservers = [Do53Nameserver("127.0.0.1", port=port)]
        s.start()
        threads.append(s)
    for s in threads:
        s.join()
    elapsed = time.perf_counter() - t0
    _CPU["dnstwist"] = time.process_time() - c0

    def registered(t: dict[str, Any]) -> bool:
        return any(v and v != ["!ServFail"] for k, v in t.items() if k.startswith("dns_"))

    return elapsed, {t["domain"] for t in tasks if registered(t)}, dnstwist.THREAD_COUNT_DEFAULT


def run() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    names, registered = _names()
    with tempfile.TemporaryDirectory() as tmp:
        names_file = Path(tmp) / "registered.json"
        names_file.write_text(json.dumps(registered))
        script = _SERVER.format(root=str(ROOT), names=str(names_file), delay=DELAY)
        server = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            load_before = _load()
            # Best of ROUNDS for both, interleaved, so a load spike from another process on the
            # machine hits both tools alike; every round must find the same names.
            om_runs, dt_runs = [], []
            for _round in range(ROUNDS):
                om_runs.append((*_omamori(names, port, concurrency=100, rate=5000.0), _CPU["omamori"]))
                dt_runs.append(_dnstwist(names, port))
            om_time, om_found, om_failed, om_cpu = min(om_runs, key=lambda r: r[0])
            dt_time, dt_found, threads = min(dt_runs, key=lambda r: r[0])
            stable = all(r[1] == om_found for r in om_runs) and all(r[1] == dt_found for r in dt_runs)
            om_default_time, om_default_found, _ = _omamori(names, port, concurrency=100, rate=500.0)
        finally:
            if server.stdin:
                server.stdin.close()
            server.wait(timeout=10)
    expected = set(registered)
    same = om_found == dt_found == expected and stable
    ratio = dt_time / om_time
    rows = [
        {"measure": f"resolve {len(names):,} permutations (20 ms per query; best of {ROUNDS})", "omamori": f"{om_time:.2f} s",
         "dnstwist": f"{dt_time:.2f} s ({threads} threads)", "ratio (dnstwist / omamori)": f"{ratio:.1f}x"},
        {"measure": "names per second", "omamori": f"{len(names) / om_time:,.0f}",
         "dnstwist": f"{len(names) / dt_time:,.0f}", "ratio (dnstwist / omamori)": f"{ratio:.1f}x"},
        {"measure": "registered names found (of the lab's)", "omamori": f"{len(om_found)} / {len(expected)}",
         "dnstwist": f"{len(dt_found)} / {len(expected)}", "ratio (dnstwist / omamori)": "same" if same else "DIFFERENT"},
        {"measure": "omamori with the default rate limit (500 queries/s)", "omamori": f"{om_default_time:.2f} s",
         "dnstwist": f"{dt_time:.2f} s", "ratio (dnstwist / omamori)": f"{dt_time / om_default_time:.1f}x"},
    ]
    return {
        "title": "Permutations: resolving every lookalike of three domains (omamori vs dnstwist)",
        "what": __doc__.strip().split("\n\n")[0] if __doc__ else "",
        "rows": rows,
        "names": len(names),
        "registered_in_lab": len(expected),
        "rounds": ROUNDS,
        "omamori_seconds_each_round": [round(r[0], 2) for r in om_runs],
        "dnstwist_seconds_each_round": [round(r[0], 2) for r in dt_runs],
        "omamori_seconds": round(om_time, 3),
        "dnstwist_seconds": round(dt_time, 3),
        "ratio": round(ratio, 2),
        "same_results": same,
        "omamori_failed_lookups": om_failed,
        "omamori_client_cpu_seconds": round(om_cpu, 2),
        "dnstwist_client_cpu_seconds": round(_CPU.get("dnstwist", 0.0), 2),
        "load_average_at_start": load_before,
        "omamori_only": sorted(om_found - dt_found)[:10],
        "dnstwist_only": sorted(dt_found - om_found)[:10],
        "default_rate_same_results": om_default_found == expected,
        "command": ".venv/bin/python -m bench permutations",
        "notes": ("omamori: [dns] concurrency = 100, rate_limit = 5000 queries/s (the lab resolver's capacity; "
                  "set rate_limit to what your resolver allows), timeout 2 s, 2 retries; A first and nothing more for "
                  "NXDOMAIN names, then AAAA, CNAME, MX and NS in parallel. dnstwist 20250130: NS, then A and AAAA "
                  "(and MX when NS answered) per name, in its default thread count. The last row is omamori with "
                  "the shipped default rate limit, which bounds it to 500 queries per second. omamori's own CPU is a "
                  "fraction of its wall time: the rest is the lab server's work (dnslib, a thread per query), so the "
                  "ratio grows on a quieter machine; the load average at the start is shown."),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=1, default=str))
