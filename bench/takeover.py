"""Subdomain takeover: omamori's engine v2 against baddns on the same dangling and claimed records.

Three sets of records are built in one lab (real DNS server, real HTTP proxy and web server):
omamori's own lab cases (a dangling and a claimed host for every service its signatures can prove,
made from each signature's example), the dangling records written from the providers' documentation
(``data/lab/takeover-independent.toml``), and records built from the peer's signatures — baddns ships
signatures converted from dnsReaper, its own research and nuclei templates; the dnsReaper and baddns
ones are the public vectors that none of omamori's sources wrote. omamori checks every host through
the lab (inventory DNS, then ``check_cname`` and ``check_ns``); baddns's own signature loader, identifier
matcher and HTTP matcher judge the same records from the same answers (the CNAME chain or delegation,
NXDOMAIN / missing SOA, and the page served), in its own virtualenv.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import unicodedata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEER = "baddns"
PEER_VERSION = "2.5.0"
PEER_VENV = Path(tempfile.gettempdir()) / f"omamori-bench-{PEER}-{PEER_VERSION}"
ISSUE_BASELINE = "issue 17: the peer tools recognised 116 CNAME patterns between them, omamori 55"

# Runs in the peer's virtualenv: its signatures, its identifier matching and its HTTP matcher decide.
# The decision logic around them follows baddns's cname and ns modules: a CNAME whose target is
# NXDOMAIN is flagged by a dns_nxdomain signature (suffix match), else suppressed by a negative one,
# else flagged as a generic dangling CNAME when it leaves our registered domain; an answering target is
# flagged by an http signature whose CNAME identifiers (if any) match and whose matchers hold; a
# delegation without SOA is flagged by a dns_nosoa signature, else suppressed by a negative one, else
# flagged as generic.
_DRIVER = textwrap.dedent("""
    import json, sys, types
    from baddns.lib.loader import load_signatures
    from baddns.lib.matcher import Matcher
    from baddns.lib.signature import any_identifier_matches

    sigs = [s.signature for s in load_signatures()]
    if sys.argv[1] == "signatures":
        json.dump(sigs, sys.stdout)
        sys.exit(0)
    cases = json.load(open(sys.argv[2]))
    out = {}
    for c in cases:
        names, verdict = c["names"], None
        if c["kind"] == "takeover_ns":
            if not c["soa"]:
                for s in sigs:
                    if s["mode"] == "dns_nosoa" and any(any_identifier_matches(s["identifiers"]["nameservers"], n)
                                                        for n in names):
                        verdict = "negative" if s.get("negative_signature") else s["service_name"]
                        if verdict != "negative":
                            break
                verdict = None if verdict == "negative" else (verdict or "GENERIC")
        elif c["nxdomain"]:
            target = names[-1]
            pos = [s for s in sigs if s["mode"] == "dns_nxdomain" and not s.get("negative_signature")
                   and not any_identifier_matches(s["identifiers"]["not_cnames"], target, mode="suffix")
                   and any_identifier_matches(s["identifiers"]["cnames"], target, mode="suffix")]
            neg = [s for s in sigs if s["mode"] == "dns_nxdomain" and s.get("negative_signature")
                   and any_identifier_matches(s["identifiers"]["cnames"], target, mode="suffix")]
            verdict = pos[0]["service_name"] if pos else (None if neg else "GENERIC")
        elif c["answer"] is not None:
            status, headers, body = c["answer"]
            response = types.SimpleNamespace(status=status, headers=[tuple(h) for h in headers], body=body,
                                             text=body, tls_error="")
            for s in sigs:
                if s["mode"] != "http" or s.get("negative_signature"):
                    continue
                ids = s["identifiers"]
                if ids["cnames"] and not any(any_identifier_matches(ids["cnames"], n) for n in names):
                    continue
                if ids["ips"] or any(any_identifier_matches(ids["not_cnames"], n) for n in names):
                    continue
                if Matcher(s).is_match(response):
                    verdict = s["service_name"]
                    break
        out[c["host"]] = verdict
    json.dump(out, sys.stdout)
""")


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "-"


def _peer_python() -> Path:
    """The peer in its own virtualenv (installed from PyPI once, then reused)."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True, timeout=300)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"{PEER}=={PEER_VERSION}"], check=True,
                       timeout=900, capture_output=True)
    return python


def _peer(args: list[str]) -> Any:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(_DRIVER)
    done = subprocess.run([str(_peer_python()), f.name, *args], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{PEER}: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def _domain(value: str) -> str | None:
    value = value.strip(".").lower()
    return value if "." in value and all(ch.isalnum() or ch in ".-" for ch in value) else None


def peer_records(sigs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """A dangling record and its claimed twin for each positive peer signature the lab can build: the
    first CNAME (or name-server) identifier as the target, the page its matchers describe (all matchers
    when they are and-ed, the first page-text one when or-ed; all words of an and-ed word list, the first
    of an or-ed one; 404 when no status is named). Signatures with only regex or address identifiers, or
    regex page matchers, are counted as not buildable."""
    records: list[dict[str, Any]] = []
    skipped: dict[str, int] = {}
    for n, s in enumerate(sigs):
        if s.get("negative_signature"):
            continue
        ids = s.get("identifiers") or {}
        label = f"p{n}"
        source = str(s.get("source") or "?")
        base = {"service": s.get("service_name", "?"), "source": source}
        if s.get("mode") == "dns_nosoa":
            dom = next((d for i in ids.get("nameservers", []) if i.get("type") == "word"
                        and (d := _domain(i["value"]))), None)
            if dom is None:
                skipped["no name-server domain"] = skipped.get("no name-server domain", 0) + 1
                continue
            # An identifier that is a name server's own name ("ns1.reg.ru") is used as it is.
            ns = [dom] if dom.startswith("ns") and dom.count(".") >= 2 else [f"ns1.{dom}", f"ns2.{dom}"]
            records += [{**base, "label": label, "ns": ns}, {**base, "label": label + "c", "ns": ns, "claimed": True}]
            continue
        dom = next((d for i in ids.get("cnames", []) if i.get("type") == "word" and (d := _domain(i["value"]))), None)
        if dom is None:
            skipped["no CNAME domain (regex, address or page only)"] = (
                skipped.get("no CNAME domain (regex, address or page only)", 0) + 1)
            continue
        target, claimed_target = f"hz-campaign.{dom}", f"hz-campaign-claimed.{dom}"
        if s.get("mode") == "dns_nxdomain":
            records += [{**base, "label": label, "cname": target, "nxdomain": True},
                        {**base, "label": label + "c", "cname": claimed_target, "nxdomain": True, "claimed": True}]
            continue
        rule = s.get("matcher_rule") or {}
        matchers = [m for m in rule.get("matchers", []) if not m.get("negative")]
        if rule.get("matchers-condition", "and") == "or":
            # One alternative is enough: the first page-text matcher (what a real unclaimed page shows),
            # a bare status only when the signature has nothing else.
            words_first = [m for m in matchers if m["type"] == "word" and m.get("part", "body") in ("body", "header")]
            matchers = (words_first or matchers)[:1]
        status, headers, words = 404, {}, []
        buildable = bool(matchers)
        for m in matchers:
            if m["type"] == "status":
                status = int(m["status"][0] if isinstance(m["status"], list) else m["status"])
            elif m["type"] == "word" and m.get("part", "body") in ("body", "header"):
                chosen = m["words"] if m.get("condition", "and") == "and" else m["words"][:1]
                if m.get("part") == "header":
                    for k, w in enumerate(chosen):
                        name, sep, value = w.partition(":")
                        headers[name.strip() if sep else f"X-Lab-{k}"] = value.strip() if sep else w
                else:
                    words += chosen
            elif m["type"] == "word" and m.get("part") in ("host", "cname"):
                continue
            else:
                buildable = False
        if not buildable:
            skipped["regex or TLS page matcher"] = skipped.get("regex or TLS page matcher", 0) + 1
            continue
        body = "<html><body>\n" + "\n".join(words) + "\n</body></html>\n"
        records += [{**base, "label": label, "cname": target, "status": status, "headers": headers, "body": body},
                    {**base, "label": label + "c", "cname": claimed_target, "claimed": True}]
    return records, skipped


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", name).lower())


def _same_service(peer_name: str, ours: tuple[Any, ...]) -> str:
    """" [omamori: X]" when omamori has a signature for the service the peer names (by its first word)."""
    first = _key(re.split(r"[\s.]", peer_name.strip())[0])
    if len(first) < 3:
        return ""
    hit = next((s.service for s in ours if first in _key(s.service) or first in _key(s.id)
                or (len(_key(s.service)) >= 4 and _key(s.service) in first)), None)
    return f" [omamori: {hit}]" if hit else ""


def _omamori(cases: list[Any], dns: Any, web: Any, workdir: Path) -> tuple[dict[tuple[str, str], Any], float, dict]:
    from sqlmodel import Session, select

    from watcher.context import build_context
    from watcher.core.brands import add_owned, sync_brands
    from watcher.core.config import load_settings
    from watcher.core.models import Brand, Finding, FindingStatus, OwnedSource
    from watcher.owned import takeover
    from watcher.owned.checks import run_checks
    from watcher.owned.inventory import source_dns

    empty = workdir / "config.toml"
    empty.write_text("")
    settings = load_settings(empty, environ={}, overrides={
        "service": {"state_dir": str(workdir / "state"), "lab_mode": True,
                    "brands_file": str(ROOT / "data" / "brands.example.toml")},
        "dns": {"nameservers": [dns.host], "port": dns.port, "timeout": 2.0, "retries": 1},
        "crawl": {"proxy": web.proxy_url, "ca_file": web.ca_file},
    })
    ctx = build_context(settings)
    with Session(ctx.engine) as s:
        sync_brands(s, ctx.brands)
        brand = s.exec(select(Brand).where(Brand.slug == "hoshizora")).one()
        for c in cases:
            add_owned(s, brand, c.host, OwnedSource.ZONEFILE)
        s.commit()
    t0 = time.perf_counter()
    summary = run_checks(ctx, (takeover.check_cname, takeover.check_ns), sources=(source_dns,))
    seconds = time.perf_counter() - t0
    with Session(ctx.engine) as s:
        found = {(f.kind.value, f.subject): f.data for f in s.exec(select(Finding)) if f.status == FindingStatus.OPEN}
    ctx.engine.dispose()
    return found, seconds, summary


def _row(name: str, cases: list[Any], found: dict[tuple[str, str], Any], peer: dict[str, str | None],
         right: Any) -> dict[str, Any]:
    dangling = [c for c in cases if c.dangling]
    claimed = [c for c in cases if not c.dangling]
    om = [c for c in dangling if (c.kind, c.host) in found]
    om_right = [c for c in om if right(c, found[(c.kind, c.host)])]
    om_possible = [c for c in om if found[(c.kind, c.host)].get("possible")]
    om_fp = [c for c in claimed if (c.kind, c.host) in found]
    pf = [c for c in dangling if peer.get(c.host)]
    pf_named = [c for c in pf if peer.get(c.host) != "GENERIC"]
    p_fp = [c for c in claimed if peer.get(c.host)]

    def pct(k: int, n: int) -> str:
        return f"{k}/{n} ({100 * k / n:.0f}%)" if n else "-"

    return {"records": name, "dangling / claimed": f"{len(dangling)} / {len(claimed)}",
            "omamori found": pct(len(om), len(dangling)),
            "of which 'possible, verify' (provider's own error page)": f"{len(om_possible)}/{len(om)}" if om else "-",
            "omamori named the service": pct(len(om_right), len(dangling)),
            "omamori false positives": pct(len(om_fp), len(claimed)) if claimed else "-",
            f"{PEER} flagged": pct(len(pf), len(dangling)), f"{PEER} by a named signature": pct(len(pf_named), len(dangling)),
            f"{PEER} false positives": pct(len(p_fp), len(claimed)) if claimed else "-",
            "ratio found (omamori / peer)": f"{len(om) / len(pf):.2f}" if pf else "-"}


def run() -> dict[str, Any]:
    from lab import takeover as lab_takeover
    from lab.dns import LabDNS
    from lab.web import LabWeb
    from watcher.owned import signatures

    load_before = _load()
    peer_sigs: list[dict[str, Any]] = _peer(["signatures"])
    records, skipped = peer_records(peer_sigs)
    with tempfile.TemporaryDirectory() as tmp, LabDNS() as dns, LabWeb() as web:
        dns.add_zone(lab_takeover.ZONE)
        own = lab_takeover.signature_cases(dns, web)
        independent = lab_takeover.independent_cases(dns, web)
        # Each independent record's claimed twin: same DNS shape, the firm's page (or a served zone).
        independent += lab_takeover.install_records(
            dns, web, [{**r, "claimed": True} for r in lab_takeover.independent_records()], prefix="ic")
        peer_cases = lab_takeover.install_records(dns, web, records, prefix="p")
        sources = {f"p-{r['label']}.{lab_takeover.ZONE}": r["source"] for r in records}
        everything = [*own, *independent, *peer_cases]
        found, seconds, summary = _omamori(everything, dns, web, Path(tmp))
    facts = [{"host": c.host, "kind": c.kind, "names": list(c.names),
              "nxdomain": c.evidence == "nxdomain" and c.dangling, "soa": not c.dangling,
              "answer": list(c.answer) if c.answer else None} for c in everything]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(facts, f)
    t0 = time.perf_counter()
    peer: dict[str, str | None] = _peer(["judge", f.name])
    peer_seconds = time.perf_counter() - t0

    def by_signature(c: Any, data: dict) -> bool:
        return bool(data.get("signature") == c.signature or (c.kind == "takeover_ns" and data.get("service") == c.service))

    def by_service(c: Any, data: dict) -> bool:
        return bool(data.get("service"))

    def of(src: str) -> list[Any]:
        return [c for c in peer_cases if sources[c.host] == src]

    rows = [_row("omamori's lab cases (from its signatures' examples)", own, found, peer, by_signature),
            _row("independent records (providers' documentation)", independent, found, peer,
                 lambda c, d: str(d.get("service", "")).startswith(c.service)),
            _row(f"{PEER}'s dnsReaper signatures", of("dnsreaper"), found, peer, by_service),
            _row(f"{PEER}'s own signatures", of("self"), found, peer, by_service),
            _row(f"{PEER}'s nuclei-template signatures (a source omamori shares)", of("nucleitemplates"), found, peer,
                 by_service)]
    ours = signatures.load()
    missed = [c for c in peer_cases if c.dangling and (c.kind, c.host) not in found]
    known = [c for c in missed if signatures.for_cname(c.names) or signatures.for_ns(c.names)]
    peer_cname = sum(len((s.get("identifiers") or {}).get("cnames", [])) for s in peer_sigs
                     if not s.get("negative_signature"))
    return {
        "title": f"Subdomain takeover: omamori vs {PEER} on the same dangling and claimed records",
        "what": __doc__.strip().split("\n\n")[0] if __doc__ else "",
        "rows": rows,
        "omamori services (provable)": f"{len(ours)} ({sum(s.detectable for s in ours)})",
        "omamori CNAME patterns (suffixes + regexes)": sum(len(s.cnames) + len(s.cname_regex) for s in ours),
        "omamori name-server patterns": sum(len(s.ns) for s in ours),
        f"{PEER} {PEER_VERSION} positive signatures": sum(not s.get("negative_signature") for s in peer_sigs),
        f"{PEER} CNAME identifiers": peer_cname,
        "baseline before engine v2": ISSUE_BASELINE,
        f"{PEER} signatures the lab could not build": "; ".join(f"{k}: {v}" for k, v in sorted(skipped.items())),
        "omamori missed (peer-built records), service recognised but the page text differs": (
            ", ".join(sorted(f"{c.service} ({sources[c.host]})" for c in known)) or "none"),
        "omamori missed (peer-built records), no CNAME pattern of omamori's matches and the page text differs "
        "([omamori: the service it knows by another page text])": (
            ", ".join(sorted(f"{c.service} ({sources[c.host]})" + _same_service(c.service, ours)
                             for c in missed if c not in known)) or "none"),
        "hosts checked by omamori": len(everything),
        "omamori seconds (inventory DNS + CNAME + NS checks, through the lab proxy)": round(seconds, 1),
        "omamori hosts per second": round(len(everything) / seconds, 1),
        f"{PEER} seconds (matching only, no network)": round(peer_seconds, 1),
        "omamori check errors": summary.get("errors", 0),
        "load average at start": load_before,
        "command": "flock /work/bench.lock .venv/bin/python -m bench takeover",
        "notes": (f"{PEER} {PEER_VERSION} (GPL-3.0) is installed from PyPI into its own virtualenv and only run, as a "
                  "coverage reference; nothing of it is copied into omamori. Its network clients (blastdns, blasthttp) "
                  "take neither the lab proxy nor a resolver port, so it is given the answers the lab serves instead of "
                  "fetching them: its figures are what its signatures and matchers decide on those answers, and its "
                  "speed is not comparable. 'Named the service': omamori's finding names the signature the case was "
                  "built from (own cases), the documented service (independent records) or any service (peer-built "
                  "records); a peer finding 'by a named signature' is one that is not its GENERIC dangling CNAME/NS. A page "
                  "built from a signature carries only that signature's matcher words, not a whole page as served, so a "
                  "miss on the other tool's records means the two tools' fingerprints differ (different text, or a "
                  "service one of them does not know), not necessarily a miss on the real service's page. omamori "
                  "takes fingerprints only from MIT / CC BY sources and provider documentation; the peer's own and "
                  "dnsReaper-derived fingerprints (GPL) are a coverage reference, never copied. 'Possible, verify': "
                  "omamori's weakest tier, a recognised provider's own 4xx answer (400/404/409/410/421; not 401/403, a resource that refuses us exists) with none "
                  "of the firm's words and not the signature's words; it is reported at low confidence (medium "
                  "severity), never as proven. On these records (thin pages of a signature's words) it finds what the "
                  "words would not; its cost on real claimed sites that answer 4xx at / cannot be measured here (no "
                  "internet): every claimed twin above serves the firm's page, so its false-positive column is the "
                  "lab's, not the world's."),
    }
