"""Mail authentication of every sending domain (guideline IV.4(1); BIMI is best practice 1).

SPF, DMARC, TLS-RPT and the MTA-STS/BIMI TXT records are read and parsed by ``checkdmarc`` (a
well-kept library of this field) through a dnspython resolver pointed at the configured name servers
and port — the same ones ``ctx.resolver`` uses, so the lab and production differ only in config.
Two parts are ours, and why:

- DKIM: checkdmarc has no DKIM check; keys are read with our resolver and sized with ``cryptography``.
- The MTA-STS policy file: checkdmarc downloads it with ``requests`` straight to the internet; we fetch
  it through ``ctx.http()`` (the configured egress proxy and CA) and parse it with checkdmarc.
- DMARC ``pct``: checkdmarc 6 follows RFC 9989 and drops the tag, but receivers still apply it, so a
  ``pct`` below 100 is read from the record itself.

Each aspect opens or resolves its own Finding, whose kind is the aspect's name (``spf``, ``dkim``,
``dmarc``, ``bimi``, ``mta_sts``, ``tlsrpt``: the dashboard groups mail findings by these), subject the domain. The job's summary carries the posture
per domain, which the weekly report shows.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

import dns.nameserver
import dns.resolver
import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key
from sqlmodel import select

from watcher.clients.http import read_capped
from watcher.context import Context
from watcher.core.config import DnsSettings
from watcher.core.models import Brand, FindingKind, Severity
from watcher.owned.checks import CheckRun, run_checks
from watcher.owned.takeover import mx_hosts

SEVERITY_ORDER = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


def cd() -> Any:
    """checkdmarc, imported on first use: it takes half a second, and every CLI start loads this module."""
    import checkdmarc.bimi
    import checkdmarc.dmarc
    import checkdmarc.mta_sts
    import checkdmarc.smtp_tls_reporting
    import checkdmarc.spf
    import checkdmarc.utils

    return checkdmarc


def dns_resolver(settings: DnsSettings) -> dns.resolver.Resolver:
    """A blocking dnspython resolver on the configured name servers and port (for checkdmarc)."""
    r = dns.resolver.Resolver(configure=not settings.nameservers)
    if settings.nameservers:
        r.nameservers = [dns.nameserver.Do53Nameserver(ns, port=settings.port) for ns in settings.nameservers]
    r.timeout = settings.timeout
    r.lifetime = settings.timeout * (settings.retries + 1)
    return r


def sending_domains(run: CheckRun) -> list[tuple[Brand, str, list[str]]]:
    """(brand, domain, DKIM selectors) for every sending domain of every brand."""
    out = []
    for b in run.session.exec(select(Brand).order_by(Brand.slug)):
        for d in b.spec.get("sending_domains") or []:
            out.append((b, d, list(b.spec.get("dkim_selectors") or [])))
    return out


def _posture(run: CheckRun, domain: str) -> dict[str, Any]:
    return run.cache.setdefault("posture", {}).setdefault(domain, {})


def _worst(sevs: list[Severity]) -> Severity:
    return max(sevs, key=SEVERITY_ORDER.index)


def _report(run: CheckRun, kind: FindingKind, domain: str, brand: Brand, problems: list[tuple[Severity, str]],
            label: str, data: dict[str, Any]) -> None:
    """One finding per (aspect, domain), listing every problem found."""
    _posture(run, domain)[kind] = {
        "ok": not problems, "problems": [p for _, p in problems], **data}
    if not problems:
        run.ok(kind, domain)
        return
    run.fail(kind, domain, f"{domain}: {label} — {problems[0][1].split(' / ')[0]}",
             severity=_worst([s for s, _ in problems]), brand_id=brand.id, data=data,
             detail="\n".join(f"- {p}" for _, p in problems))


TRANSIENT = re.compile(r"timed? ?out|timeout|servfail|no nameservers|network|temporar", re.I)


def transient(result: dict[str, Any]) -> str | None:
    """checkdmarc's error text when it is a DNS failure of this moment, not a fact about the record."""
    err = str(result.get("error") or "")
    return err if err and TRANSIENT.search(err) else None


def _resolver(run: CheckRun) -> dns.resolver.Resolver:
    if "dns_resolver" not in run.cache:
        # checkdmarc caches answers process-wide; a daily check must see today's records.
        cd().utils.DNS_CACHE.clear()
        run.cache["dns_resolver"] = dns_resolver(run.ctx.settings.dns)
    return run.cache["dns_resolver"]


# --- SPF -----------------------------------------------------------------------------------------


def check_spf(run: CheckRun) -> None:
    """SPF: present, valid, at most 10 DNS lookups (checkdmarc counts them), ending in ``-all``."""
    r = _resolver(run)
    for brand, domain, _ in sending_domains(run):
        res = cd().spf.check_spf(domain, resolver=r)
        if transient(res):
            run.error("spf", domain, transient(res))
            continue
        problems: list[tuple[Severity, str]] = []
        record = res.get("record")
        if not res.get("valid"):
            err = str(res.get("error", "invalid"))
            sev = Severity.HIGH
            problems.append((sev, f"SPF record missing or invalid: {err} / SPFレコードが無いか不正です。"
                             "受信側は当社ドメインを騙るメールを拒否できません"))
        else:
            if (res.get("dns_lookups") or 0) > 10:
                problems.append((Severity.HIGH, f"{res['dns_lookups']} DNS lookups (limit 10): receivers return "
                                 "permerror and SPF fails for our real mail / DNS参照が10回を超えています"))
            qualifier = (res.get("parsed") or {}).get("all")
            if qualifier == "pass":
                problems.append((Severity.CRITICAL, "`+all`: every server on the internet may send as us / "
                                 "全送信元を許可しています"))
            elif qualifier != "fail":
                problems.append((Severity.MEDIUM, f"ends in {qualifier or 'no all'} instead of `-all`: mail from "
                                 "servers not listed is not rejected / `-all` で終わっていません"))
        _report(run, FindingKind.SPF, domain, brand, problems, "SPF",
                {"record": record, "dns_lookups": res.get("dns_lookups"), "error": res.get("error")})


# --- DKIM ----------------------------------------------------------------------------------------


def dkim_tags(record: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in record.split(";"):
        k, sep, v = part.partition("=")
        if sep:
            tags[k.strip().lower()] = re.sub(r"\s+", "", v)
    return tags


def dkim_key_problems(record: str) -> tuple[list[tuple[Severity, str]], dict[str, Any]]:
    tags = dkim_tags(record)
    if tags.get("v", "DKIM1") != "DKIM1":
        return [(Severity.HIGH, f"not a DKIM key record (v={tags.get('v')})")], {}
    p = tags.get("p")
    if p is None:
        return [(Severity.HIGH, "no p= tag: not a usable DKIM key")], {}
    if p == "":
        return [(Severity.HIGH, "key revoked (empty p=): mail signed with it fails DKIM")], {"revoked": True}
    key_type = tags.get("k", "rsa").lower()
    try:
        der = base64.b64decode(p, validate=True)
        key = load_der_public_key(der)
    except (binascii.Error, ValueError) as e:
        return [(Severity.HIGH, f"the public key does not parse ({type(e).__name__})")], {}
    if isinstance(key, rsa.RSAPublicKey):
        bits = key.key_size
        if bits < 1024:
            return [(Severity.HIGH, f"RSA key of {bits} bits: can be factored; receivers ignore it")], {"bits": bits}
        if bits < 2048:
            return [(Severity.LOW, f"RSA key of {bits} bits: use 2048 bits")], {"bits": bits}
        return [], {"bits": bits, "type": "rsa"}
    return [], {"type": key_type}


def check_dkim(run: CheckRun) -> None:
    """DKIM: each configured selector publishes a usable key (not revoked, RSA ≥ 1024, better 2048 bits)."""
    domains = sending_domains(run)
    names = {f"{sel}._domainkey.{d}": (b, d, sel) for b, d, sels in domains for sel in sels}
    answers = run.gather({n: run.ctx.resolver.lookup(n, "TXT") for n in names})
    per_domain: dict[str, list[tuple[Severity, str]]] = {}
    keys: dict[str, dict[str, Any]] = {}
    for name, (_b, d, sel) in names.items():
        ans = answers.get(name)
        problems = per_domain.setdefault(d, [])
        if isinstance(ans, BaseException) or ans is None or ans.status in ("timeout", "error", "servfail"):
            run.error("dkim", name, ans if isinstance(ans, BaseException) else getattr(ans, "error", ""))
            keys[sel] = {"error": "lookup failed"}
            continue
        records = [v for v in ans.values if "p=" in v]
        if not records:
            problems.append((Severity.HIGH, f"selector {sel}: no DKIM key at {name} / DKIM公開鍵がありません"))
            keys[sel] = {"missing": True}
            continue
        found, info = dkim_key_problems(records[0])
        problems.extend((s, f"selector {sel}: {p}") for s, p in found)
        keys[sel] = info
    for b, d, sels in domains:
        if not sels:
            per_domain.setdefault(d, []).append((Severity.MEDIUM, "no DKIM selectors configured (dkim_selectors in "
                                                 "the brands file): DKIM cannot be checked / DKIMセレクタが未設定です"))
        _report(run, FindingKind.DKIM, d, b, per_domain.get(d, []), "DKIM",
                {"selectors": {s: keys.get(s, {}) for s in sels}})


# --- DMARC ---------------------------------------------------------------------------------------


def _tag(res: dict[str, Any], name: str) -> Any:
    return ((res.get("tags") or {}).get(name) or {}).get("value")


def dmarc_problems(res: dict[str, Any]) -> tuple[list[tuple[Severity, str]], dict[str, Any]]:
    """Problems of a checkdmarc DMARC result against the guideline: ``p=reject`` at 100%, reports on."""
    if not res.get("valid") or not res.get("record"):
        return [(Severity.CRITICAL, f"no valid DMARC record ({res.get('error', 'missing')}): anyone can send "
                 "mail as us and receivers deliver it / DMARCレコードがありません。なりすましメールが届きます")], {}
    record = str(res["record"])
    policy = _tag(res, "p")
    sp = _tag(res, "sp")
    m = re.search(r"(?:^|;)\s*pct\s*=\s*(\d+)", record, re.I)
    pct = int(m.group(1)) if m else 100
    rua = _tag(res, "rua") or []
    ruf = _tag(res, "ruf") or []
    facts = {"record": record, "p": policy, "sp": sp, "pct": pct, "rua": [u.get("address") for u in rua],
             "ruf": [u.get("address") for u in ruf]}
    out: list[tuple[Severity, str]] = []
    if policy == "none":
        out.append((Severity.HIGH, "p=none: spoofed mail is delivered; the guideline requires p=reject "
                    "(quarantine is a step) / p=none のため、なりすましメールが配信されます。p=reject が必要です"))
    elif policy == "quarantine":
        out.append((Severity.MEDIUM, "p=quarantine: spoofed mail lands in spam, still reachable; move to p=reject "
                    "after reviewing reports / quarantine は途中段階です。レポート確認後 p=reject にしてください"))
    if sp in ("none", "quarantine") and policy == "reject":
        out.append((Severity.MEDIUM, f"sp={sp}: subdomains (e.g. login.<domain>) can be spoofed / "
                    "サブドメインのポリシーが弱いです"))
    if pct < 100:
        out.append((Severity.MEDIUM, f"pct={pct}: the policy applies to only {pct}% of failing mail / "
                    f"ポリシー適用が{pct}%に限られています"))
    if not rua:
        out.append((Severity.MEDIUM, "no rua: we receive no aggregate reports, so we cannot see who sends as us "
                    "/ 集計レポート(rua)の送付先がありません"))
    return out, facts


def check_dmarc(run: CheckRun) -> None:
    r = _resolver(run)
    for brand, domain, _ in sending_domains(run):
        res = cd().dmarc.check_dmarc(domain, resolver=r)
        if transient(dict(res)):
            run.error("dmarc", domain, transient(dict(res)))
            continue
        problems, facts = dmarc_problems(dict(res))
        run.cache.setdefault("dmarc", {})[domain] = facts
        _report(run, FindingKind.DMARC, domain, brand, problems, "DMARC", facts)


# --- BIMI, MTA-STS, TLS-RPT ----------------------------------------------------------------------


def check_bimi(run: CheckRun) -> None:
    """BIMI record with an https SVG logo (best practice: the brand's logo shows in mail clients)."""
    r = _resolver(run)
    for brand, domain, _ in sending_domains(run):
        problems: list[tuple[Severity, str]] = []
        data: dict[str, Any] = {}
        try:
            rec = cd().bimi.query_bimi_record(domain, resolver=r)
            data["record"] = rec.get("record")
            tags = dkim_tags(str(rec.get("record") or ""))
            logo = tags.get("l", "")
            if not logo.startswith("https://") or not logo.lower().endswith(".svg"):
                problems.append((Severity.LOW, f"l= should be an https URL of an SVG logo (got {logo or 'none'})"))
            if not tags.get("a"):
                data["vmc"] = False  # without a mark certificate, Gmail and Apple do not show the logo
            policy = (run.cache.get("dmarc", {}).get(domain) or {}).get("p")
            if policy not in ("quarantine", "reject"):
                problems.append((Severity.LOW, "BIMI is only honoured with DMARC p=quarantine or p=reject"))
        except Exception as e:  # checkdmarc raises its own classes for missing or broken records
            problems.append((Severity.LOW, f"no BIMI record ({e}): customers do not see our logo, which helps "
                             "them tell our mail from phishing / BIMI未設定（ベストプラクティス）"))
        _report(run, FindingKind.BIMI, domain, brand, problems, "BIMI", data)


def fetch_mta_sts_policy(run: CheckRun, domain: str) -> tuple[str | None, str]:
    """(policy text, error). RFC 8461: https, status 200, no redirects followed."""
    url = f"https://mta-sts.{domain}/.well-known/mta-sts.txt"
    try:
        with run.ctx.http(timeout=15.0, follow_redirects=False) as client, client.stream("GET", url) as resp:
            body = read_capped(resp, 64 * 1024).decode("utf-8", "replace")
            if resp.status_code != 200:
                return None, f"{url}: HTTP {resp.status_code}"
            return body, ""
    except httpx.HTTPError as e:
        return None, f"{url}: {type(e).__name__}: {e}"[:300]


def check_mta_sts(run: CheckRun) -> None:
    """MTA-STS: the _mta-sts TXT record, and a policy in enforce mode that covers our MX hosts."""
    r = _resolver(run)
    for brand, domain, _ in sending_domains(run):
        problems: list[tuple[Severity, str]] = []
        data: dict[str, Any] = {}
        try:
            rec = cd().mta_sts.query_mta_sts_record(domain, resolver=r)
            data["record"] = rec.get("record")
        except Exception as e:
            problems.append((Severity.LOW, f"no MTA-STS record ({e}): mail to us can be downgraded to plain text "
                             "or redirected by an attacker on the path / MTA-STS未設定"))
            _report(run, FindingKind.MTA_STS, domain, brand, problems, "MTA-STS", data)
            continue
        text, error = fetch_mta_sts_policy(run, domain)
        if text is None:
            problems.append((Severity.MEDIUM, f"the policy file cannot be fetched: {error}; senders treat MTA-STS "
                             "as absent / ポリシーファイルを取得できません"))
        else:
            try:
                policy = cd().mta_sts.parse_mta_sts_policy(text)["policy"]
                data["policy"] = policy
                if policy.get("mode") != "enforce":
                    problems.append((Severity.LOW, f"mode {policy.get('mode')}: TLS is not enforced / "
                                     "enforce モードではありません"))
                answer = run.gather({domain: run.ctx.resolver.lookup(domain, "MX")}).get(domain)
                mx = mx_hosts(answer.values) if not isinstance(answer, BaseException) and answer else []
                uncovered = [h for h in mx if not cd().mta_sts.mx_in_mta_sts_patterns(h, policy.get("mx", []))]
                if uncovered:
                    problems.append((Severity.MEDIUM, f"MX host(s) {', '.join(uncovered)} not covered by the policy: "
                                     "enforcing senders will refuse to deliver to them / ポリシーにMXが含まれていません"))
            except Exception as e:
                problems.append((Severity.MEDIUM, f"the policy file is invalid: {e} / ポリシーファイルが不正です"))
        _report(run, FindingKind.MTA_STS, domain, brand, problems, "MTA-STS", data)


def check_tlsrpt(run: CheckRun) -> None:
    """TLS-RPT (RFC 8460): reports of failed TLS deliveries to us."""
    r = _resolver(run)
    for brand, domain, _ in sending_domains(run):
        res = cd().smtp_tls_reporting.check_smtp_tls_reporting(domain, resolver=r)
        if transient(dict(res)):
            run.error("tlsrpt", domain, transient(dict(res)))
            continue
        problems: list[tuple[Severity, str]] = []
        if not res.get("valid"):
            problems.append((Severity.LOW, f"no valid TLS-RPT record ({res.get('error')}): failed or downgraded TLS "
                             "deliveries go unnoticed / TLS-RPT未設定"))
        _report(run, FindingKind.TLSRPT, domain, brand, problems, "TLS-RPT", {"error": res.get("error")})


def check_non_sending(run: CheckRun) -> None:
    """Owned apexes that send no mail must say so (``v=spf1 -all``, DMARC ``p=reject``), or they are free
    to spoof: a defensive or marketing domain is as credible in a From: line as the main one (M3AAWG)."""
    r = _resolver(run)
    sending = {d for _b, d, _s in sending_domains(run)}
    for d in run.hosts():
        if not d.is_apex or d.name in sending:
            continue
        spf = cd().spf.check_spf(d.name, resolver=r)
        dm = cd().dmarc.check_dmarc(d.name, resolver=r)
        problems = []
        if not spf.get("valid") or (spf.get("parsed") or {}).get("all") != "fail":
            problems.append(f"SPF should be `v=spf1 -all` (now: {spf.get('record') or spf.get('error')})")
        policy = _tag(dict(dm), "p") if dm.get("valid") else None
        if policy != "reject":
            problems.append(f"DMARC should be `p=reject` (now: {dm.get('record') or dm.get('error')})")
        if not problems:
            run.ok(FindingKind.NONSENDING_AUTH, d.name)
            continue
        run.fail(FindingKind.NONSENDING_AUTH, d.name,
                 f"メール送信しない {d.name} がなりすまし対策をしていません / {d.name} sends no mail but does not "
                 "forbid spoofing", severity=Severity.MEDIUM, brand_id=d.brand_id,
                 data={"spf": spf.get("record"), "dmarc": dm.get("record")},
                 detail="\n".join(f"- {p}" for p in problems) + "\nPhishing mail can use this domain in From: "
                 "and receivers have no policy to reject it. / 当社ドメインを騙るメールを受信側が拒否できません。")


CHECKS: tuple[Callable[[CheckRun], None], ...] = (
    check_spf, check_dkim, check_dmarc, check_bimi, check_mta_sts, check_tlsrpt, check_non_sending,
)


def run(ctx: Context) -> dict[str, Any]:
    """The mailauth job: every check over every sending domain; the summary carries the posture."""
    captured: dict[str, Any] = {}

    def keep_posture(r: CheckRun) -> None:
        captured.update(r.cache.get("posture", {}))

    summary = run_checks(ctx, (*CHECKS, keep_posture), job="mailauth")
    summary["posture"] = captured
    return summary


def ingest_reports(ctx: Context) -> dict[str, Any]:
    """The dmarc_reports job: read aggregate reports from the folder and the IMAP mailbox."""
    from watcher.owned.dmarc import ingest

    return ingest(ctx)
