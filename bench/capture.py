"""Capture speed and detection quality on the lab's web hosts.

* pages captured per minute: one crawler process (one browser, reused) over the lab's sites
  through the lab proxy, pinned to one core with ``taskset`` when available;
* hashes compared per second (pHash + dHash + colour hash distances, ssdeep and TLSH);
* dnstwist's own screenshot path (``--phash``: Selenium + chromedriver) on the same pages, as a ratio,
  when selenium and chromium-driver are installed;
* quality: every lab clone (exact, recoloured, re-laid-out, partial, logo-only) and every
  non-phishing page (parked, for sale, suspended, unrelated, another firm's genuine login page,
  blank, unclaimed cloud pages) goes through the full snapshot (DNS, capture, score, verdict).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench._cpu import TreeCPU

ROOT = Path(__file__).resolve().parent.parent
HEADLESS_SHELL = Path("/usr/lib/chromium/chromium-headless-shell")

OFFICIAL = {"trade.hoshizora-sec.co.jp": "official", "www.hoshizora-sec.co.jp": "official"}
CLONES = {
    "hoshizora-sec-login.top": "clone-exact",
    "www-hoshizora-sec-co-jp.k7x2.top": "clone-recolored",
    "hoshizora-sec.co.jp.login-check.cn": "clone-relayout",
    "k3v9q.xyz": "clone-partial",
    "xn--hoshizora-se-khk.com": "clone-logo",
}
NON_PHISHING = {
    "hoshizora-sec.co": "parked-sedo",
    "hoshizora-sec.jp": "parked-godaddy",
    "hosizora-sec.co.jp": "forsale",
    "hoshizora-fx.jp": "parked-onamae",
    "hoshizora-invest.net": "parked-bodis",
    "hoshizora-secure.top": "suspended",
    "tsubame-sec.co.jp": "tsubame",
    "hoshizora-bakery.jp": "corporate",
    "hoshizora-blank.net": "blank",
    "hoshizora-assets.s3.example": "takeover-s3",
}


@contextlib.contextmanager
def lab_context(workdir: Path, **crawl: Any) -> Iterator[tuple[Any, Any, Any, Any]]:
    """(ctx, web, dns, rdap): the lab web (all sets published), lab DNS and RDAP (clones registered days
    ago, the rest years ago), and a Context in lab mode on SQLite with the brands synced."""
    import datetime as dt

    from lab.dns import LabDNS
    from lab.rdap import LabRDAP
    from lab.web import LabWeb
    from watcher.context import build_context
    from watcher.core.brands import sync_brands
    from watcher.core.config import load_settings
    from watcher.core.names import normalize_host

    now = dt.datetime.now(dt.UTC)
    with LabWeb() as web, LabDNS() as dns, LabRDAP() as rdap:
        for i, (host, kind) in enumerate({**OFFICIAL, **CLONES, **NON_PHISHING}.items()):
            web.publish(host, kind, **({"text": "焼きたてパンの店 ほしぞらベーカリー", "title": "Bakery"}
                                       if kind == "corporate" else {}))
            dns.set(host, "A", [f"203.0.113.{10 + i}"])
            age = dt.timedelta(days=4) if host in CLONES else dt.timedelta(days=900)
            for name in {host, normalize_host(host).registrable or host}:
                rdap.set_domain(name, created=now - age, expires=now + dt.timedelta(days=300))
        tlds = sorted({h.rsplit(".", 1)[-1] for h in {**OFFICIAL, **CLONES, **NON_PHISHING}})
        empty = workdir / "config.toml"
        empty.write_text("")
        exe = str(HEADLESS_SHELL) if HEADLESS_SHELL.exists() else "/usr/bin/chromium"
        settings = load_settings(empty, environ={}, overrides={
            "service": {"state_dir": str(workdir / "state"), "lab_mode": True,
                        "brands_file": str(ROOT / "data" / "brands.example.toml")},
            "dns": {"nameservers": [dns.host], "port": dns.port, "timeout": 1.0, "retries": 0},
            "rdap": {"overrides": {t: rdap.url for t in tlds}, "allow_http": True, "timeout": 3.0},
            "crawl": {"proxy": web.proxy_url, "browser_executable": exe, "page_timeout_seconds": 12,
                      "settle_seconds": 0.5, "ignore_https_errors": True, **crawl},
        })
        ctx = build_context(settings)
        with ctx.transaction() as s:
            sync_brands(s, ctx.brands)
        try:
            yield ctx, web, dns, rdap
        finally:
            ctx.engine.dispose()


def add_candidates(ctx: Any, hosts: list[str], brand: str = "hoshizora") -> dict[str, int]:
    from sqlmodel import select

    from watcher.core.models import Brand, Candidate
    from watcher.core.names import normalize_host

    ids = {}
    with ctx.transaction() as s:
        bid = s.exec(select(Brand.id).where(Brand.slug == brand)).first()
        for h in hosts:
            n = normalize_host(h)
            c = Candidate(domain=n.ascii, registrable=n.registrable or n.ascii, brand_id=bid, next_check_at=ctx.now())
            s.add(c)
            s.flush()
            ids[h] = c.id
    return ids


def quality(ctx: Any) -> dict[str, Any]:
    """Every clone and non-phishing host through check_candidates; verdicts, scores and reasons."""
    from watcher.capture.references import capture_references
    from watcher.capture.snapshot import check_candidates

    refs = capture_references(ctx)
    ids = add_candidates(ctx, [*CLONES, *NON_PHISHING])
    snaps = check_candidates(ctx, list(ids.values()))
    by_id = {s.candidate_id: s for s in snaps}
    rows = []
    for host, cid in ids.items():
        sn = by_id[cid]
        kind = CLONES.get(host) or NON_PHISHING[host]
        rows.append({"host": host, "kind": kind, "set": "clone" if host in CLONES else "non-phishing",
                     "verdict": sn.verdict.value, "score": sn.score,
                     "reasons": "; ".join(f"{r['kind']} +{r['points']}" for r in sn.reasons if r["points"])})
    clones = [r for r in rows if r["set"] == "clone"]
    others = [r for r in rows if r["set"] != "clone"]
    detected = sum(r["verdict"] == "phishing" for r in clones)
    false_pos = sum(r["verdict"] in ("phishing", "suspicious") for r in others)
    return {"references": refs, "rows": rows, "detected": detected, "clones": len(clones),
            "false_positives": false_pos, "non_phishing": len(others)}


def speed(ctx: Any, web: Any, pages: int = 24, concurrency: int | None = None) -> dict[str, Any]:
    """Pages per minute for one crawler process (browser reused) on one core."""
    import json

    from watcher.capture.crawl import job_dict

    hosts = list({**OFFICIAL, **CLONES, **NON_PHISHING})
    targets = [{"id": str(i), "url": f"http://{hosts[i % len(hosts)]}/", "addresses": [], "profile": "desktop"}
               for i in range(pages)]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        job = job_dict(ctx.settings, work / "files")
        job["concurrency"] = concurrency or job["concurrency"]
        (work / "job.json").write_text(json.dumps(job))
        (work / "t.jsonl").write_text("".join(json.dumps(t) + "\n" for t in targets))
        cmd = [sys.executable, "-m", "crawlers", "--job", str(work / "job.json"), "--targets", str(work / "t.jsonl"),
               "--records", str(work / "r.jsonl")]
        if shutil.which("taskset"):
            cmd = ["taskset", "-c", "0", *cmd]
        t0 = time.monotonic()
        with TreeCPU() as used:
            subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False, timeout=900)
        wall, cpu = time.monotonic() - t0, used.seconds
        recs = [json.loads(x) for x in (work / "r.jsonl").read_text().splitlines()]
    ok = sum(bool(r.get("ok") and r.get("browser_used")) for r in recs)
    return {"pages": pages, "captured_in_browser": ok, "seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
            "pages_per_minute": round(60 * ok / wall, 1), "pages_per_cpu_minute": round(60 * ok / max(cpu, 0.01), 1)}


def speed_served(ctx: Any, pages: int = 48, workers: int = 1, batch: int = 12) -> dict[str, Any]:
    """Pages per minute of ``workers`` long-lived crawlers (a worker's task slots), each pinned to one
    core (round robin over the machine's cores), fed batches at once; process and browser start
    included, as a worker pays them once."""
    import json
    import threading

    from watcher.capture.crawl import CrawlerServer, job_dict

    hosts = list({**OFFICIAL, **CLONES, **NON_PHISHING})
    cores = os.cpu_count() or 1
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        job = job_dict(ctx.settings, work / "files")

        def one(w: int) -> None:
            prefix = ("taskset", "-c", str(w % cores)) if shutil.which("taskset") else ()
            server = CrawlerServer(job, prefix=prefix)
            try:
                for b in range(0, pages // workers, batch):
                    d = work / f"w{w}-b{b}"
                    d.mkdir()
                    targets = [{"id": f"{w}-{b}-{i}", "url": f"http://{hosts[(w + b + i) % len(hosts)]}/",
                                "addresses": [], "profile": "desktop"} for i in range(batch)]
                    (d / "targets.jsonl").write_text("".join(json.dumps(t) + "\n" for t in targets))
                    server.batch(ctx, d / "targets.jsonl", d / "records.jsonl", d / "files", 600)
                    results.extend(json.loads(x) for x in (d / "records.jsonl").read_text().splitlines())
            finally:
                server.close()

        t0 = time.monotonic()
        with TreeCPU() as used:
            threads = [threading.Thread(target=one, args=(w,)) for w in range(workers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        wall, cpu = time.monotonic() - t0, used.seconds
    ok = sum(bool(r.get("ok") and r.get("browser_used")) for r in results)
    return {"workers": workers, "pages": len(results), "captured_in_browser": ok, "seconds": round(wall, 1),
            "cpu_seconds": round(cpu, 1), "pages_per_minute": round(60 * ok / wall, 1),
            "pages_per_cpu_minute": round(60 * ok / max(cpu, 0.01), 1), "split": used.split()}


def hash_rate(n: int = 3000) -> dict[str, float]:
    """Comparisons per second: perceptual (pHash + dHash + colour hash of one screenshot pair), ssdeep,
    TLSH, and whole logo searches (SIFT over a 1280x800 screenshot)."""
    import random

    import imagehash
    import ppdeep
    import tlsh
    from PIL import Image

    from watcher.capture.score import _color_distance, _distance, find_logo

    rnd = random.Random(1)
    imgs = [Image.frombytes("RGB", (64, 64), bytes(rnd.randrange(256) for _ in range(64 * 64 * 3))) for _ in range(4)]
    ph = [str(imagehash.phash(i)) for i in imgs]
    dh = [str(imagehash.dhash(i)) for i in imgs]
    ch = [str(imagehash.colorhash(i, binbits=3)) for i in imgs]
    page = ("<html><body>" + "".join(f"<p>ログイン {i} パスワード</p>" for i in range(400)) + "</body></html>").encode()
    ss = [ppdeep.hash(page + bytes([65 + i]) * 400) for i in range(4)]
    tl = [tlsh.hash(page + bytes([65 + i]) * 400) for i in range(4)]

    def rate(fn: Any, count: int) -> float:
        t0 = time.perf_counter()
        for i in range(count):
            fn(i % 4, (i + 1) % 4)
        return round(count / (time.perf_counter() - t0), 1)

    out = {
        "perceptual (pHash+dHash+colour) per second": rate(
            lambda a, b: (_distance(ph[a], ph[b]), _distance(dh[a], dh[b]), _color_distance(ch[a], ch[b])), n),
        "ssdeep (ppdeep) compares per second": rate(lambda a, b: ppdeep.compare(ss[a], ss[b]), n),
        "TLSH diffs per second": rate(lambda a, b: tlsh.diff(tl[a], tl[b]), n),
    }
    logo = Image.open(ROOT / "data" / "lab" / "sites" / "hoshizora-logo.png").convert("RGB").resize((210, 56))
    screen = Image.new("RGB", (1280, 800), "#f4f6fb")
    screen.paste(logo, (300, 200))
    out["logo searches (SIFT, 1280x800) per second"] = rate(lambda a, b: find_logo(screen, logo), 5)
    return out


def dnstwist_pages(proxy: str, urls: list[str]) -> dict[str, Any]:
    """dnstwist's scan loop for pages (its HeadlessBrowser: Selenium + chromedriver, one browser
    reused, get + screenshot + its pHash per page), in this process: run by ``dnstwist_ratio`` as a
    child so that its CPU (Selenium, chromedriver, Chromium) is counted as omamori's crawler's is."""
    import io

    import dnstwist

    # dnstwist reads the proxy from the environment (urllib.request.getproxies).
    os.environ.update(http_proxy=proxy, https_proxy=proxy, SE_OFFLINE="true",
                      no_proxy="localhost,127.0.0.1")  # Selenium talks to chromedriver directly
    t0 = time.monotonic()
    browser = dnstwist.HeadlessBrowser()
    done = 0
    try:
        for url in urls:
            try:
                browser.get(url)
                dnstwist.pHash(io.BytesIO(browser.screenshot()))
                done += 1
            except Exception:  # dnstwist itself skips a page that fails
                pass
    finally:
        browser.stop()
    return {"done": done, "wall": time.monotonic() - t0}


def dnstwist_ratio(web: Any, pages: int = 24) -> dict[str, Any]:
    """dnstwist's own --phash path on the same lab pages, on one core (``dnstwist_pages`` in a child
    process pinned with taskset; process start and browser start included, as for omamori)."""
    import json

    try:
        import selenium  # noqa: F401
    except ImportError:
        return {"dnstwist": "not run: selenium is not installed (pip install selenium; apt-get install chromium-driver)"}
    if not shutil.which("chromedriver"):
        return {"dnstwist": "not run: chromium-driver is not installed"}
    hosts = list({**OFFICIAL, **CLONES, **NON_PHISHING})
    urls = [f"http://{hosts[i % len(hosts)]}/" for i in range(pages)]
    cmd = [sys.executable, "-m", "bench.capture", "--dnstwist", web.proxy_url, *urls]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    t0 = time.monotonic()
    with TreeCPU() as used:
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False, timeout=900)
    wall, cpu = time.monotonic() - t0, used.seconds
    try:
        done = int(json.loads(out.stdout.strip().splitlines()[-1])["done"])
    except (ValueError, KeyError, IndexError):
        return {"dnstwist": f"failed: {out.stderr.strip()[-300:]}"}
    return {"dnstwist_pages_per_minute": round(60 * done / wall, 1), "dnstwist_pages": done, "dnstwist_split": used.split(),
            "dnstwist_cpu_seconds": round(cpu, 1), "dnstwist_pages_per_cpu_minute": round(60 * done / max(cpu, 0.01), 1)}


def _table(rows: list[dict[str, Any]]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def _split(split: dict[str, float] | None) -> str:
    return ", ".join(f"{k} {v:.1f} s" for k, v in (split or {}).items() if v >= 0.05) or "n/a"


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="omamori-bench-") as tmp, lab_context(Path(tmp)) as (ctx, web, _dns, _rdap):
        q = quality(ctx)
        # Two interleaved rounds, best of each: the machine is shared, and one stalled round (another
        # process on the pinned core) says nothing about either tool.
        sp: dict[str, Any] = {}
        sp4: dict[str, Any] = {}
        dt: dict[str, Any] = {}
        ll: dict[str, Any] = {}
        for _round in range(2):
            sp = max(sp, speed(ctx, web, concurrency=2), key=lambda r: r.get("pages_per_minute", 0))
            sp4 = max(sp4, speed(ctx, web, concurrency=4), key=lambda r: r.get("pages_per_minute", 0))
            ll = max(ll, speed_served(ctx, pages=48, workers=1), key=lambda r: r.get("pages_per_minute", 0))
            dt = max(dt, dnstwist_ratio(web, pages=sp["pages"]), key=lambda r: r.get("dnstwist_pages_per_minute", 0))
        # A worker's long-lived crawler, then 2 and 3 of them on the machine's cores (one round each).
        served = {1: ll, **{w: speed_served(ctx, pages=48 * w, workers=w) for w in (2, 3)}}
        ctx_conc = ctx.settings.crawl.concurrency
        rates = hash_rate()
    rows = [{"host": r["host"], "lab kind": r["kind"], "set": r["set"], "verdict": r["verdict"], "score": r["score"],
             "reasons (points)": r["reasons"]} for r in q["rows"]]
    d_wall, d_cpu = dt.get("dnstwist_pages_per_minute"), dt.get("dnstwist_pages_per_cpu_minute")
    speed_rows = [
        {"path (one core: taskset)": "omamori, a worker's long-lived crawler (crawl.concurrency = "
                                     f"{ctx_conc}, the default; 4 batches of 12)",
         "pages / wall minute": ll["pages_per_minute"], "pages / CPU minute (= per core)": ll["pages_per_cpu_minute"],
         "vs dnstwist (wall / CPU)": f"{_ratio(ll['pages_per_minute'], d_wall)} / "
                                     f"{_ratio(ll['pages_per_cpu_minute'], d_cpu)}"},
        {"path (one core: taskset)": "omamori, one-shot crawler process (crawl.concurrency = 2)",
         "pages / wall minute": sp["pages_per_minute"], "pages / CPU minute (= per core)": sp["pages_per_cpu_minute"],
         "vs dnstwist (wall / CPU)": f"{_ratio(sp['pages_per_minute'], d_wall)} / "
                                     f"{_ratio(sp['pages_per_cpu_minute'], d_cpu)}"},
        {"path (one core: taskset)": "omamori, one-shot, 4 pages open at once (crawl.concurrency = 4)",
         "pages / wall minute": sp4["pages_per_minute"], "pages / CPU minute (= per core)": sp4["pages_per_cpu_minute"],
         "vs dnstwist (wall / CPU)": f"{_ratio(sp4['pages_per_minute'], d_wall)} / "
                                     f"{_ratio(sp4['pages_per_cpu_minute'], d_cpu)}"},
        {"path (one core: taskset)": "dnstwist --phash (its HeadlessBrowser: Selenium + chromedriver, same pages)",
         "pages / wall minute": d_wall if d_wall else dt.get("dnstwist", "n/a"),
         "pages / CPU minute (= per core)": d_cpu or "n/a", "vs dnstwist (wall / CPU)": "1.00x / 1.00x"},
    ]
    worker_rows = [{"long-lived crawlers (a worker's task slots)": w, "pages": served[w]["captured_in_browser"],
                    "wall s": served[w]["seconds"], "CPU s": served[w]["cpu_seconds"],
                    "pages / wall minute": served[w]["pages_per_minute"],
                    "pages / CPU minute": served[w]["pages_per_cpu_minute"],
                    "wall speed-up vs 1": f"{served[w]['pages_per_minute'] / max(ll['pages_per_minute'], 0.1):.2f}x"}
                   for w in (1, 2, 3)]
    return {
        "title": "Capture and visual comparison (lab web hosts)",
        "what": __doc__.split("\n\n")[0] if __doc__ else "",
        "command": "python -m bench capture",
        "goal: >= 200 pages per core-minute with the full evidence set, >= 1.0x dnstwist": (
            "met" if ll["pages_per_cpu_minute"] >= 200 and d_cpu and ll["pages_per_cpu_minute"] >= d_cpu
            else "not met in this run (see the CPU column)"),
        "pages captured in the browser / asked (one-shot)":
            f"{sp['captured_in_browser']} / {sp['pages']} in {sp['seconds']} s",
        **rates,
        "clones detected (verdict phishing)": f"{q['detected']} / {q['clones']}",
        "false positives on the non-phishing set (phishing or suspicious)": f"{q['false_positives']} / {q['non_phishing']}",
        "notes": ("Speed, one core each (best of two interleaved rounds; process and browser start included). "
                  "Pages per CPU minute count the CPU of the crawler process and every process below it (browser, "
                  "driver, renderers; bench/_cpu.py samples /proc), so they hold on a shared machine; pages per wall minute also measure the other tenants of the core.\n\n"
                  + _table(speed_rows) + "\n\nCapture throughput with 1, 2 and 3 long-lived crawlers (each "
                  f"pinned to a core, round robin over {os.cpu_count()} cores; 48 pages each; one round):\n\n"
                  + _table(worker_rows) + "\n\n"
                  "Where the CPU went (seconds per process kind, bench/_cpu.py; the rounds above): omamori's "
                  f"long-lived crawler, {ll['captured_in_browser']} pages: {_split(ll.get('split'))}; dnstwist, "
                  f"{dt.get('dnstwist_pages', 0)} pages: {_split(dt.get('dnstwist_split'))}.\n\n"
                  "dnstwist's path keeps a screenshot and one pHash per page; omamori's keeps the redirect chain, "
                  "TLS, forms, text, links, a viewport and a full-page screenshot, the HTML, the favicon and five "
                  "hashes, waits for the page to settle, and guards every request. Both through the lab proxy."),
        "rows": rows,
    }


if __name__ == "__main__":
    import json

    if sys.argv[1:2] == ["--dnstwist"]:
        print(json.dumps(dnstwist_pages(sys.argv[2], sys.argv[3:])))
    else:
        print(json.dumps(run(), ensure_ascii=False, indent=2, default=str))
