"""Subdomain takeover: DNS records of ours that point at things nobody (or an attacker) controls.

Guideline IV.4(4)②. Three kinds of dangling record, each a Finding that names the service and says
what an attacker could do:

- ``takeover_cname``: an owned host's CNAME chain ends at a name that does not exist (NXDOMAIN), or
  at a cloud service whose page says the resource is unclaimed (the fingerprint table shipped in
  ``data/takeover-fingerprints.json``, from can-i-take-over-xyz, CC BY 4.0);
- ``takeover_ns``: a delegation to name servers that do not exist or a zone that does not answer;
- ``takeover_mx``: an MX record naming a host that does not exist.

Pages are fetched only through ``ctx.http()`` (the configured egress proxy), and only for hosts that
have a CNAME: a dangling cloud pointer always goes through one.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from watcher.clients.http import read_capped
from watcher.core.config import DATA
from watcher.core.models import FindingKind, Severity
from watcher.core.names import is_within, registrable

if TYPE_CHECKING:
    from watcher.owned.checks import CheckRun

FINGERPRINTS = DATA / "takeover-fingerprints.json"
MAX_CHAIN = 10
# Resolver statuses that say nothing about the record (the network or a server failed this time).
UNDECIDED = ("timeout", "error", "servfail", "loop")
PAGE_LIMIT = 256 * 1024

# The upstream table leaves the CNAME list empty for a few services whose custom-domain CNAME targets
# are well known; without them a GitHub Pages or Heroku pointer would only be matched by page text.
EXTRA_CNAMES: dict[str, list[str]] = {
    "Github": ["github.io", "github.map.fastly.net"],
    "Heroku": ["herokuapp.com", "herokudns.com", "herokussl.com"],
}


@dataclass(frozen=True)
class Service:
    name: str
    cnames: tuple[str, ...]
    fingerprint: str  # text on the unclaimed page, or "NXDOMAIN"
    nxdomain: bool  # an NXDOMAIN target is itself the sign
    status: str  # Vulnerable, Edge case, Not vulnerable
    vulnerable: bool
    discussion: str

    def matches_target(self, target: str) -> bool:
        return any(is_within(target, c) for c in self.cnames)


@lru_cache(maxsize=4)
def load_services(path: Path = FINGERPRINTS) -> tuple[Service, ...]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    items = raw["items"] if isinstance(raw, dict) else raw
    out = []
    for it in items:
        cnames = tuple(dict.fromkeys([*it.get("cname", []), *EXTRA_CNAMES.get(it["service"], [])]))
        out.append(Service(it["service"], cnames, it.get("fingerprint") or "", bool(it.get("nxdomain")),
                           it.get("status", ""), bool(it.get("vulnerable")), it.get("discussion", "")))
    return tuple(out)


def validate_fingerprints(data: bytes) -> list[dict[str, Any]]:
    """refdata transform: the upstream fingerprints.json, checked and trimmed to the fields we use."""
    items = json.loads(data)
    if not isinstance(items, list) or len(items) < 30:
        raise ValueError("expected a list of at least 30 services")
    keys = ("service", "cname", "fingerprint", "nxdomain", "http_status", "status", "vulnerable", "discussion")
    out = []
    for it in items:
        if not isinstance(it, dict) or not isinstance(it.get("service"), str) or not isinstance(it.get("cname"), list):
            raise ValueError(f"not a fingerprint entry: {str(it)[:100]}")
        out.append({k: it.get(k) for k in keys})
    return out


def service_for(target: str, services: tuple[Service, ...] | None = None) -> Service | None:
    for s in services or load_services():
        if s.matches_target(target):
            return s
    return None


def match_page(body: str, target: str, services: tuple[Service, ...] | None = None) -> Service | None:
    """The service whose 'unclaimed' text is on the page (services matching the CNAME first)."""
    services = services or load_services()
    ordered = sorted(services, key=lambda s: not s.matches_target(target))
    for s in ordered:
        fp = s.fingerprint
        if not fp or fp == "NXDOMAIN" or len(fp) < 8:  # short strings match ordinary pages
            continue
        if (s.matches_target(target) or not s.cnames) and fp in body:
            return s
    return None


async def cname_chain(resolver: Any, name: str) -> tuple[list[str], str]:
    """Follow CNAMEs from ``name``: (chain of targets, status of the last name's A lookup)."""
    chain: list[str] = []
    current = name
    for _ in range(MAX_CHAIN):
        ans = await resolver.lookup(current, "CNAME")
        if ans.status != "ok" or not ans.values:
            break
        current = ans.values[0].rstrip(".").lower()
        if current in chain:
            return chain, "loop"
        chain.append(current)
    if not chain:
        return chain, "none"
    a = await resolver.lookup(current, "A")
    if a.status in ("nodata",):
        aaaa = await resolver.lookup(current, "AAAA")
        return chain, "ok" if aaaa.status == "ok" else "nodata"
    return chain, a.status


def _fetch(run: CheckRun, host: str) -> tuple[int, str, str]:
    """(status, body text, error) of http://host/ (then https) through the configured proxy."""
    error = ""
    for scheme in ("http", "https"):  # some services answer only on one of them
        try:
            with run.ctx.http(timeout=10.0) as client, client.stream("GET", f"{scheme}://{host}/") as r:
                body = read_capped(r, PAGE_LIMIT)
                return r.status_code, body.decode(r.encoding or "utf-8", "replace"), ""
        except httpx.HTTPError as e:
            error = f"{scheme}: {type(e).__name__}: {e}"[:300]
    return 0, "", error


def _available(run: CheckRun, domain: str) -> bool | None:
    """Whether the registry says ``domain`` is unregistered (None: could not tell)."""
    try:
        reg = run.registration(domain)
    except Exception:  # no RDAP client configured or reachable: the finding stands without this fact
        return None
    if reg.error:
        return None
    return not reg.exists


def _attack(service: Service | None, target: str) -> str:
    if service is None:
        reg = registrable(target) or target
        return (f"If {reg} can be registered, whoever registers it serves any content — a login page "
                f"included — under our name. / {reg} を第三者が取得すると、当社のホスト名で任意の内容"
                "（偽ログインページ等）を公開できます。")
    return (f"Anyone with an account at {service.name} can claim this resource and publish pages, or "
            f"receive mail and certificates, under our host name. / {service.name} のアカウントを持つ"
            "第三者がこのリソースを取得し、当社のホスト名でフィッシングページを公開できます。")


def check_cname(run: CheckRun) -> None:
    """Every owned host's CNAME chain: NXDOMAIN targets and unclaimed cloud resources."""
    kind = FindingKind.TAKEOVER_CNAME
    for subject, (chain, status) in run.gather_each(
            kind, {h.name: cname_chain(run.ctx.resolver, h.name) for h in run.hosts()}):
        if not chain:
            run.ok(kind, subject)
            continue
        # Cloud services chain through their own names (bucket.s3.amazonaws.com -> s3-website-*.amazonaws.com):
        # the service is the first name in the chain that one of them owns, the target the name it names.
        found = next(((n, svc) for n in chain if (svc := service_for(n)) is not None), None)
        target, service = found if found else (chain[-1], None)
        data = {"chain": chain, "target": target, "status": status, "service": service.name if service else ""}
        if status == "nxdomain":
            sev = Severity.CRITICAL if (service is None or service.vulnerable) else Severity.HIGH
            svc_name = f" ({service.name})" if service else ""
            if service is None:
                data["target_registrable"] = registrable(target) or target
                data["target_available"] = _available(run, data["target_registrable"])
            run.fail(kind, subject,
                     f"{subject} のCNAME先 {target}{svc_name} が存在しません / CNAME of {subject} points to "
                     f"{target}{svc_name}, which does not exist",
                     severity=sev, data=data,
                     detail=f"CNAME chain: {subject} → {' → '.join(chain)} (NXDOMAIN). "
                     + ("The registry says it is not registered: anyone can register it today. / 現在だれでも取得可能です。 "
                        if data.get("target_available") else "") + _attack(service, target)
                     + " Remove the record or re-create the resource. / レコードを削除するか、リソースを再作成してください。")
            continue
        if status in UNDECIDED:
            run.error(kind, subject, f"{target}: {status}")  # a transient failure proves nothing either way
            continue
        if status != "ok" or service is None:
            run.ok(kind, subject)  # resolves, and not to a cloud service we can test: nothing dangling
            continue
        code, body, error = _fetch(run, subject)
        if error:
            run.note("takeover_fetch_errors", f"{subject}: {error}")
            continue  # cannot tell: leave any open finding as it is
        hit = match_page(body, target)
        if hit is None:
            run.ok(kind, subject)
            continue
        data.update({"service": hit.name, "http_status": code, "fingerprint": hit.fingerprint,
                     "service_status": hit.status})
        run.fail(kind, subject,
                 f"{subject} は {hit.name} 上の未使用リソースを指しています（乗っ取り可能） / {subject} points to an "
                 f"unclaimed {hit.name} resource (subdomain takeover)",
                 severity=Severity.CRITICAL if hit.vulnerable else Severity.HIGH, data=data,
                 detail=f"CNAME chain: {subject} → {' → '.join(chain)}; the page says “{hit.fingerprint}” "
                 f"(HTTP {code}). " + _attack(hit, target)
                 + f" can-i-take-over-xyz status: {hit.status}. {hit.discussion}")


async def _ns_facts(resolver: Any, zone: str, ns_hosts: list[str]) -> dict[str, Any]:
    soa = await resolver.lookup(zone, "SOA")
    hosts = await asyncio.gather(*(resolver.lookup(h, "A") for h in ns_hosts))
    return {"soa": soa.status, "hosts": {h: a.status for h, a in zip(ns_hosts, hosts, strict=True)}}


def check_ns(run: CheckRun) -> None:
    """Name servers of every owned zone (apex or delegated subzone) exist, and the zone answers."""
    zones = {d.name: d for d in run.hosts() if d.dns.get("records", {}).get("NS")}
    kind = FindingKind.TAKEOVER_NS
    for subject, f in run.gather_each(
            kind, {d.name: _ns_facts(run.ctx.resolver, d.name, list(d.dns["records"]["NS"])) for d in zones.values()}):
        dead = sorted(h for h, st in f["hosts"].items() if st == "nxdomain")
        lame = f["soa"] == "servfail"  # every server of the zone refused or failed: a lame delegation
        if not dead and f["soa"] in ("timeout", "error"):
            run.error(kind, subject, f"SOA {f['soa']}")
            continue
        if not dead and not lame:
            run.ok(kind, subject)
            continue
        parts = []
        if dead:
            regs = sorted({registrable(h) or h for h in dead})
            parts.append(f"name server(s) {', '.join(dead)} do not exist: whoever registers {', '.join(regs)} "
                         "answers for this zone and can point every name in it anywhere, issue certificates "
                         "and receive mail / 存在しないネームサーバー：そのドメインを取得した第三者がゾーン全体を"
                         "乗っ取れます")
        if lame:
            parts.append(f"the zone does not answer ({f['soa']}): if the DNS provider account was closed, "
                         "someone else can create the zone there and take over every name in it / "
                         "ゾーンが応答しません（レイムデリゲーション）：DNSサービス側で第三者がゾーンを作成すると乗っ取られます")
        run.fail(kind, subject,
                 f"{subject} の委任先ネームサーバーが不正です / NS delegation of {subject} is dangling",
                 severity=Severity.CRITICAL if dead else Severity.HIGH, data={"ns": zones[subject].dns["records"]["NS"], **f},
                 detail="; ".join(parts))


async def _mx_facts(resolver: Any, mx_hosts: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for h in mx_hosts:
        a = await resolver.lookup(h, "A")
        if a.status == "nodata":
            aaaa = await resolver.lookup(h, "AAAA")
            out[h] = "ok" if aaaa.status == "ok" else "nodata"
        else:
            out[h] = a.status
    return out


def mx_hosts(values: list[str]) -> list[str]:
    hosts = []
    for v in values:
        parts = v.split()
        host = (parts[-1] if parts else "").rstrip(".").lower()
        if host and host != ".":  # "0 ." is a null MX (RFC 7505): no mail, on purpose
            hosts.append(host)
    return hosts


def check_mx(run: CheckRun) -> None:
    """Every MX host of an owned name exists (an MX to a dead host lets its new owner receive our mail)."""
    with_mx = {d.name: d for d in run.hosts() if mx_hosts(d.dns.get("records", {}).get("MX", []))}
    kind = FindingKind.TAKEOVER_MX
    for subject, f in run.gather_each(
            kind, {d.name: _mx_facts(run.ctx.resolver, mx_hosts(d.dns["records"]["MX"])) for d in with_mx.values()}):
        dead = sorted(h for h, st in f.items() if st in ("nxdomain", "nodata"))
        if not dead and any(st in UNDECIDED for st in f.values()):
            run.error(kind, subject, f"MX lookups: {f}")
            continue
        if not dead:
            run.ok(kind, subject)
            continue
        regs = sorted({registrable(h) or h for h in dead})
        run.fail(kind, subject,
                 f"{subject} のMXが存在しないホスト {', '.join(dead)} を指しています / MX of {subject} points to dead "
                 f"host(s) {', '.join(dead)}",
                 severity=Severity.HIGH, data={"mx": with_mx[subject].dns["records"]["MX"], "hosts": f},
                 detail=f"Whoever registers {', '.join(regs)} (or claims the host at its mail provider) receives "
                 "mail sent to this domain — password resets included — and can pass SPF/DKIM checks that trust "
                 "it. / 第三者がメールを受信できます（パスワード再設定メール等）。MXを修正してください。")
