"""Mail authentication of every sending domain (guideline IV.4(1); BIMI and S/MIME are best practices).

SPF, DMARC, TLS-RPT and the MTA-STS/BIMI TXT records are read and parsed by ``checkdmarc`` (a
well-kept library of this field) through a dnspython resolver pointed at the configured name servers
and port — the same ones ``ctx.resolver`` uses, so the lab and production differ only in config.
Every warning checkdmarc gives beside its verdict is a Finding of its own (``mailwarnings``). Parts
that are ours, and why:

- DKIM: checkdmarc has no DKIM check; keys are read with our resolver and sized with ``cryptography``.
- Files on the web (the MTA-STS policy, the BIMI logo and mark certificate): checkdmarc downloads
  them with ``requests`` straight to the internet; we fetch them through ``ctx.http()`` (the fetch
  guard, the configured egress proxy and CA) and judge them here (``bimi``, ``markcert``).
- DMARC ``pct``: checkdmarc 6 follows RFC 9989 and drops the tag, but receivers still apply it, so a
  ``pct`` below 100 is read from the record itself.
- The authorization record of an outside ``rua``/``ruf`` destination
  (``<domain>._report._dmarc.<destination>``): asked with our resolver and reported on its own, since
  without it no report ever arrives and the road to p=reject has no map.

Each aspect opens or resolves its own Finding, whose kind is the aspect's name (``spf``, ``dkim``,
``dmarc``, ``bimi``, ``mta_sts``, ``tlsrpt``: the dashboard groups mail findings by these), subject the
domain. Every sentence is a catalogue text (``watcher/core/texts/mail.py``). The job's summary
carries the posture per domain, which the weekly report shows.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from watcher.clients.http import read_capped
from watcher.context import Context
from watcher.core.models import Brand, FindingKind, Severity
from watcher.core.names import InvalidName, registrable
from watcher.core.texts import Text, text
from watcher.owned.bimi import check_domain
from watcher.owned.checks import CheckRun, run_checks
from watcher.owned.mailcommon import Problems, cd, report, resolver_of, sending_domains
from watcher.owned.mailwarnings import report_warnings
from watcher.owned.smime import check_notices
from watcher.owned.takeover import mx_hosts

TRANSIENT = re.compile(r"timed? ?out|timeout|servfail|no nameservers|network|temporar", re.I)


def transient(result: dict[str, Any]) -> str | None:
    """checkdmarc's error text when it is a DNS failure of this moment, not a fact about the record."""
    err = str(result.get("error") or "")
    return err if err and TRANSIENT.search(err) else None


# --- SPF -----------------------------------------------------------------------------------------


def check_spf(run: CheckRun) -> None:
    """SPF: present, valid, at most 10 DNS lookups (checkdmarc counts them), ending in ``-all``."""
    r = resolver_of(run)
    for brand, domain, _ in sending_domains(run):
        res = cd().spf.check_spf(domain, resolver=r)
        if transient(res):
            run.error("spf", domain, transient(res))
            continue
        problems: Problems = []
        if not res.get("valid"):
            problems.append((Severity.HIGH, text("mail.spf.invalid", error=str(res.get("error", "invalid"))[:300])))
        else:
            if (res.get("dns_lookups") or 0) > 10:
                problems.append((Severity.HIGH, text("mail.spf.too_many_lookups", n=res["dns_lookups"])))
            qualifier = (res.get("parsed") or {}).get("all")
            if qualifier == "pass":
                problems.append((Severity.CRITICAL, text("mail.spf.plus_all")))
            elif qualifier != "fail":
                shown = {"softfail": "~all", "neutral": "?all"}.get(str(qualifier), "no all")
                problems.append((Severity.MEDIUM, text("mail.spf.soft_all", qualifier=shown)))
        run.cache.setdefault("spf", {})[domain] = res
        report(run, FindingKind.SPF, domain, brand, problems,
               {"record": res.get("record"), "dns_lookups": res.get("dns_lookups"), "error": res.get("error")})
        report_warnings(run, brand, domain, "spf", list(res.get("warnings") or []))


# --- DKIM ----------------------------------------------------------------------------------------


def dkim_tags(record: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in record.split(";"):
        k, sep, v = part.partition("=")
        if sep:
            tags[k.strip().lower()] = re.sub(r"\s+", "", v)
    return tags


def dkim_key_problems(record: str, selector: str = "") -> tuple[Problems, dict[str, Any]]:
    tags = dkim_tags(record)
    if tags.get("v", "DKIM1") != "DKIM1":
        return [(Severity.HIGH, text("mail.dkim.not_dkim", selector=selector, version=tags.get("v", "")))], {}
    p = tags.get("p")
    if p is None:
        return [(Severity.HIGH, text("mail.dkim.no_p", selector=selector))], {}
    if p == "":
        return [(Severity.HIGH, text("mail.dkim.revoked", selector=selector))], {"revoked": True}
    key_type = tags.get("k", "rsa").lower()
    try:
        der = base64.b64decode(p, validate=True)
        key = load_der_public_key(der)
    except (binascii.Error, ValueError) as e:
        return [(Severity.HIGH, text("mail.dkim.unparsable", selector=selector, error=type(e).__name__))], {}
    if isinstance(key, rsa.RSAPublicKey):
        bits = key.key_size
        if bits < 1024:
            return [(Severity.HIGH, text("mail.dkim.weak", selector=selector, bits=bits))], {"bits": bits}
        if bits < 2048:
            return [(Severity.LOW, text("mail.dkim.short", selector=selector, bits=bits))], {"bits": bits}
        return [], {"bits": bits, "type": "rsa"}
    return [], {"type": key_type}


def check_dkim(run: CheckRun) -> None:
    """DKIM: each configured selector publishes a usable key (not revoked, RSA ≥ 1024, better 2048 bits)."""
    domains = sending_domains(run)
    names = {f"{sel}._domainkey.{d}": (b, d, sel) for b, d, sels in domains for sel in sels}
    answers = run.gather({n: run.ctx.resolver.lookup(n, "TXT") for n in names})
    per_domain: dict[str, Problems] = {}
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
            problems.append((Severity.HIGH, text("mail.dkim.no_key", selector=sel, name=name)))
            keys[sel] = {"missing": True}
            continue
        found, info = dkim_key_problems(records[0], sel)
        problems.extend(found)
        keys[sel] = info
    for b, d, sels in domains:
        if not sels:
            per_domain.setdefault(d, []).append((Severity.MEDIUM, text("mail.dkim.no_selectors")))
        report(run, FindingKind.DKIM, d, b, per_domain.get(d, []), {"selectors": {s: keys.get(s, {}) for s in sels}})


# --- DMARC ---------------------------------------------------------------------------------------


def _tag(res: dict[str, Any], name: str) -> Any:
    return ((res.get("tags") or {}).get(name) or {}).get("value")


def dmarc_problems(res: dict[str, Any]) -> tuple[Problems, dict[str, Any]]:
    """Problems of a checkdmarc DMARC result against the guideline: ``p=reject`` at 100%, reports on."""
    if not res.get("valid") or not res.get("record"):
        return [(Severity.CRITICAL, text("mail.dmarc.missing", error=str(res.get("error", "missing"))[:300]))], {}
    record = str(res["record"])
    policy = _tag(res, "p")
    sp = _tag(res, "sp")
    m = re.search(r"(?:^|;)\s*pct\s*=\s*(\d+)", record, re.I)
    pct = int(m.group(1)) if m else 100
    rua = _tag(res, "rua") or []
    ruf = _tag(res, "ruf") or []
    facts = {"record": record, "p": policy, "sp": sp, "pct": pct, "rua": [u.get("address") for u in rua],
             "ruf": [u.get("address") for u in ruf]}
    out: Problems = []
    if policy == "none":
        out.append((Severity.HIGH, text("mail.dmarc.p_none")))
    elif policy == "quarantine":
        out.append((Severity.MEDIUM, text("mail.dmarc.p_quarantine")))
    if sp in ("none", "quarantine") and policy == "reject":
        out.append((Severity.MEDIUM, text("mail.dmarc.sp_weak", sp=sp)))
    if pct < 100:
        out.append((Severity.MEDIUM, text("mail.dmarc.pct", pct=pct)))
    if not rua:
        out.append((Severity.MEDIUM, text("mail.dmarc.no_rua")))
    return out, facts


def check_dmarc(run: CheckRun) -> None:
    r = resolver_of(run)
    for brand, domain, _ in sending_domains(run):
        res = cd().dmarc.check_dmarc(domain, resolver=r)
        if transient(dict(res)):
            run.error("dmarc", domain, transient(dict(res)))
            continue
        problems, facts = dmarc_problems(dict(res))
        run.cache.setdefault("dmarc", {})[domain] = facts
        run.cache.setdefault("dmarc_result", {})[domain] = dict(res)
        report(run, FindingKind.DMARC, domain, brand, problems, facts)
        report_warnings(run, brand, domain, "dmarc", list(res.get("warnings") or []))


def _org(name: str) -> str:
    try:
        return registrable(name)
    except InvalidName:
        return name

def _address_domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().lower().rstrip(".")


def check_report_authorization(run: CheckRun) -> None:
    """An outside ``rua``/``ruf`` destination must publish ``<domain>._report._dmarc.<destination>``
    with ``v=DMARC1`` (RFC 7489 section 7.1, RFC 9990 section 4), or reporters send it nothing."""
    facts = run.cache.get("dmarc", {})
    todo: dict[str, tuple[Brand, str, str]] = {}
    for brand, domain, _ in sending_domains(run):
        f = facts.get(domain)
        if not f:
            continue  # no DMARC record (its own finding), or DNS failed today
        for address in [*(f.get("rua") or []), *(f.get("ruf") or [])]:
            dest = _address_domain(str(address or ""))
            if dest and _org(dest) != _org(domain):
                todo[f"{domain}._report._dmarc.{dest}"] = (brand, domain, dest)
    answers = run.gather({name: run.ctx.resolver.lookup(name, "TXT") for name in todo})
    missing: dict[str, list[str]] = {}
    undecided: set[str] = set()
    for name, (_b, domain, dest) in todo.items():
        ans = answers.get(name)
        if isinstance(ans, BaseException) or ans is None or ans.status in ("timeout", "error", "servfail"):
            run.error("dmarc_report_auth", name, ans if isinstance(ans, BaseException) else getattr(ans, "error", ""))
            undecided.add(domain)
            continue
        if not any(v.replace(" ", "").lower().startswith("v=dmarc1") for v in ans.values):
            missing.setdefault(domain, []).append(dest)
    for brand, domain, _ in sending_domains(run):
        if domain in undecided or domain not in facts:
            continue
        dests = sorted(set(missing.get(domain, [])))
        if not dests:
            run.ok(FindingKind.DMARC_REPORT_AUTH, domain)
            continue
        records = ", ".join(f"{domain}._report._dmarc.{d}" for d in dests)
        run.fail(FindingKind.DMARC_REPORT_AUTH, domain,
                 text("mail.report_auth.title", domain=domain, destinations=", ".join(dests)),
                 severity=Severity.HIGH, brand_id=brand.id,
                 detail=text("mail.report_auth.detail", domain=domain, records=records),
                 data={"destinations": dests, "records": records.split(", ")})


# --- BIMI, MTA-STS, TLS-RPT ----------------------------------------------------------------------


def check_bimi(run: CheckRun) -> None:
    """BIMI proven: the record, the logo (SVG Tiny PS) and the mark certificate (see ``bimi``)."""
    r = resolver_of(run)
    for brand, domain, _ in sending_domains(run):
        check_domain(run, brand, domain, r)


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
    r = resolver_of(run)
    for brand, domain, _ in sending_domains(run):
        problems: Problems = []
        data: dict[str, Any] = {}
        warnings: list[Any] = []
        try:
            rec = cd().mta_sts.query_mta_sts_record(domain, resolver=r)
            data["record"] = rec.get("record")
            warnings += rec.get("warnings") or []
        except Exception as e:
            problems.append((Severity.LOW, text("mail.mta_sts.missing", error=str(e)[:300])))
            report(run, FindingKind.MTA_STS, domain, brand, problems, data)
            report_warnings(run, brand, domain, "mta_sts", warnings)
            continue
        body, error = fetch_mta_sts_policy(run, domain)
        if body is None:
            problems.append((Severity.MEDIUM, text("mail.mta_sts.fetch", error=error)))
        else:
            try:
                parsed = cd().mta_sts.parse_mta_sts_policy(body)
                warnings += parsed.get("warnings") or []
                policy = parsed["policy"]
                data["policy"] = policy
                if policy.get("mode") != "enforce":
                    problems.append((Severity.LOW, text("mail.mta_sts.mode", mode=str(policy.get("mode")))))
                answer = run.gather({domain: run.ctx.resolver.lookup(domain, "MX")}).get(domain)
                mx = mx_hosts(answer.values) if not isinstance(answer, BaseException) and answer else []
                uncovered = [h for h in mx if not cd().mta_sts.mx_in_mta_sts_patterns(h, policy.get("mx", []))]
                if uncovered:
                    problems.append((Severity.MEDIUM, text("mail.mta_sts.uncovered", hosts=", ".join(uncovered))))
            except Exception as e:
                problems.append((Severity.MEDIUM, text("mail.mta_sts.invalid", error=str(e)[:300])))
        report(run, FindingKind.MTA_STS, domain, brand, problems, data)
        report_warnings(run, brand, domain, "mta_sts", warnings)


def check_tlsrpt(run: CheckRun) -> None:
    """TLS-RPT (RFC 8460): reports of failed TLS deliveries to us."""
    r = resolver_of(run)
    for brand, domain, _ in sending_domains(run):
        res = cd().smtp_tls_reporting.check_smtp_tls_reporting(domain, resolver=r)
        if transient(dict(res)):
            run.error("tlsrpt", domain, transient(dict(res)))
            continue
        problems: Problems = []
        if not res.get("valid"):
            problems.append((Severity.LOW, text("mail.tlsrpt.missing", error=str(res.get("error"))[:300])))
        report(run, FindingKind.TLSRPT, domain, brand, problems, {"error": res.get("error")})
        report_warnings(run, brand, domain, "tlsrpt", list(res.get("warnings") or []))


def check_non_sending(run: CheckRun) -> None:
    """Owned apexes that send no mail must say so (``v=spf1 -all``, DMARC ``p=reject``), or they are free
    to spoof: a defensive or marketing domain is as credible in a From: line as the main one (M3AAWG)."""
    r = resolver_of(run)
    sending = {d for _b, d, _s in sending_domains(run)}
    for d in run.hosts():
        if not d.is_apex or d.name in sending:
            continue
        spf = cd().spf.check_spf(d.name, resolver=r)
        dm = cd().dmarc.check_dmarc(d.name, resolver=r)
        problems: list[Text] = []
        if not spf.get("valid") or (spf.get("parsed") or {}).get("all") != "fail":
            problems.append(text("mail.nonsending.spf", now=str(spf.get("record") or spf.get("error"))[:300]))
        policy = _tag(dict(dm), "p") if dm.get("valid") else None
        if policy != "reject":
            problems.append(text("mail.nonsending.dmarc", now=str(dm.get("record") or dm.get("error"))[:300]))
        if not problems:
            run.ok(FindingKind.NONSENDING_AUTH, d.name)
            continue
        run.fail(FindingKind.NONSENDING_AUTH, d.name, text("mail.nonsending.title", domain=d.name),
                 severity=Severity.MEDIUM, brand_id=d.brand_id,
                 data={"spf": spf.get("record"), "dmarc": dm.get("record")},
                 detail=text("mail.nonsending.detail", items=problems))


def check_smime(run: CheckRun) -> None:
    """S/MIME: the sample customer notices are signed by a valid certificate of the firm (see ``smime``)."""
    check_notices(run)


CHECKS: tuple[Callable[[CheckRun], None], ...] = (
    check_spf, check_dkim, check_dmarc, check_report_authorization, check_bimi, check_mta_sts, check_tlsrpt,
    check_non_sending, check_smime,
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
    """The dmarc_reports job: read aggregate, failure and TLS reports from the folder and the IMAP
    mailbox, then name the senders of the new aggregate records."""
    from watcher.owned.dmarc import ingest
    from watcher.owned.senders import enrich

    out = ingest(ctx)
    out["senders"] = enrich(ctx)
    return out
