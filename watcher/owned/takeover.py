"""Subdomain takeover: DNS records of ours that point at things nobody (or an attacker) controls.

Guideline IV.4(4)②. Engine v2 is driven by the signatures in ``data/takeover-signatures.json``
(``signatures``; converted from can-i-take-over-xyz and the nuclei templates by ``signature_sources``):

- ``takeover_cname``: an owned host's CNAME chain ends at a name that does not exist (NXDOMAIN) — a
  recognised service whose names anyone can create, or a domain anyone can register — or the host
  answers with a service's "unclaimed" page (body, headers and status as the signature says). Every
  host whose chain leaves our domains is fetched: services without a CNAME pattern of their own
  (custom domains on shared addresses) are recognised by their page alone, with specific words only.
  When a recognised provider answers with an error of its own and none of the firm's words, but not
  with the signature's words, the finding is a *possible* takeover (low confidence, "verify");
- ``takeover_ns``: a delegation to name servers that do not exist, or that refuse the zone
  (SERVFAIL/REFUSED) — at a provider whose accounts can create any zone, a takeover;
- ``takeover_mx``: an MX record naming a host that does not exist.

Pages are fetched only through ``ctx.http()`` (the configured egress proxy), without following
redirects: a redirect is itself evidence for some services.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx

from watcher.clients.http import read_capped
from watcher.core.models import FindingKind, Severity
from watcher.core.names import is_within, registrable
from watcher.core.texts import Text, text
from watcher.owned import signatures
from watcher.owned.signatures import Proof, Signature

if TYPE_CHECKING:
    from watcher.owned.checks import CheckRun

MAX_CHAIN = 10
# Resolver statuses that say nothing about the record (the network or a server failed this time).
UNDECIDED = ("timeout", "error", "servfail", "loop")
PAGE_LIMIT = 256 * 1024
SEVERITY = {"high": Severity.CRITICAL, "medium": Severity.HIGH, "low": Severity.MEDIUM}
Answer = tuple[int, str, str]  # status, headers as text, body


def severity_of(sig: Signature) -> Severity:
    return SEVERITY.get(sig.confidence, Severity.HIGH) if sig.vulnerable else Severity.MEDIUM


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


def _probe(run: CheckRun, host: str, candidates: list[Signature],
           preferred: int) -> tuple[tuple[Signature, Proof, int] | None, list[Answer], str]:
    """(hit, answers, error) for http://host/ then https://host/ through the configured proxy; HTTPS is
    asked only when HTTP proved nothing (some services answer only on one of them)."""
    answers: list[Answer] = []
    error = ""
    for scheme in ("http", "https"):
        try:
            with run.ctx.http(timeout=10.0, follow_redirects=False) as client, \
                    client.stream("GET", f"{scheme}://{host}/") as r:
                body = read_capped(r, PAGE_LIMIT).decode(r.encoding or "utf-8", "replace")
                answer = (r.status_code, signatures.header_text(r.headers.multi_items()), body)
        except httpx.HTTPError as e:
            error = f"{scheme}: {type(e).__name__}: {e}"[:300]
            continue
        answers.append(answer)
        hit = match_answers([answer], candidates, preferred)
        if hit is not None:
            return hit, answers, ""
    return None, answers, error


def firm_words(run: CheckRun, host: str) -> list[str]:
    """Words any page of the firm's would carry: the brand's names and keywords, the domain's label."""
    brand = run.brands().get(run.brand_of(host) or -1)
    words = [brand.name, brand.name_ja, *(brand.spec.get("keywords") or [])] if brand else []
    words.append((registrable(host) or host).split(".")[0])
    # A word of two letters matches anything; two kanji/kana are a name.
    return sorted({w.lower() for w in words if len(w) >= (3 if w.isascii() else 2)})


def provider_error(answers: list[Answer], words: list[str], names: list[str]) -> int | None:
    """The status when every answer is an error of the provider's own (``ERROR_STATUSES``) showing none
    of the firm's ``words`` — once the host's own ``names``, which error pages often echo, are taken out."""
    if not answers:
        return None
    for status, _, body in answers:
        if status not in signatures.ERROR_STATUSES:
            return None
        text = body.lower()
        for name in names:
            text = text.replace(name.lower(), " ")
        if any(w in text for w in words):
            return None
    return answers[0][0]


def match_answers(answers: list[tuple[int, str, str]], candidates: list[Signature],
                  preferred: int = 0) -> tuple[Signature, Proof, int] | None:
    """The best candidate whose HTTP proof holds for one of the answers: one of the first ``preferred``
    (recognised by their CNAME or address) if any holds, else the one whose proof says the most."""
    hits: list[tuple[int, int, Signature, Proof, int]] = []
    for rank, sig in enumerate(candidates):
        for status, headers, body in answers:
            proof = sig.http_hit(status, headers, body, strict=rank >= preferred)
            if proof is not None:
                weight = sum(len(c.values) if c.all else 1 for c in proof.when if not c.negative)
                hits.append((0 if rank < preferred else 1, -weight, sig, proof, status))
                break
    if not hits:
        return None
    best = min(hits, key=lambda h: (h[0], h[1]))
    return best[2], best[3], best[4]


def _available(run: CheckRun, domain: str) -> bool | None:
    """Whether the registry says ``domain`` is unregistered (None: could not tell)."""
    try:
        reg = run.registration(domain)
    except Exception:  # no RDAP client configured or reachable: the finding stands without this fact
        return None
    if reg.error:
        return None
    return not reg.exists


def _attack(service: Signature | None, target: str) -> Text:
    if service is None:
        return text("owned.takeover.attack_domain", domain=registrable(target) or target)
    return text("owned.takeover.attack_service", service=service.service)


def _leaves_our_domains(run: CheckRun, chain: list[str]) -> bool:
    ours = run.our_apexes()
    return any(not any(is_within(n, a) for a in ours) for n in chain)


def _chain_facts(run: CheckRun) -> dict[str, Any]:
    async def facts(name: str) -> tuple[list[str], str]:
        return await cname_chain(run.ctx.resolver, name)
    return {h.name: facts(h.name) for h in run.hosts()}


def check_cname(run: CheckRun) -> None:
    """Every owned host: CNAME chains to NXDOMAIN, and unclaimed pages of the signatures' services."""
    kind = FindingKind.TAKEOVER_CNAME
    hosts = {h.name: h for h in run.hosts()}
    by_page = signatures.by_page()
    for subject, (chain, status) in run.gather_each(kind, _chain_facts(run)):
        addresses = list(hosts[subject].dns.get("records", {}).get("A", [])) if subject in hosts else []
        by_address = signatures.for_address(addresses) if not chain else []
        if not chain and not by_address:
            run.ok(kind, subject)
            continue
        recognised = signatures.for_cname(chain)
        data: dict[str, Any] = {"chain": chain, "status": status, "target": chain[-1] if chain else "",
                                "service": recognised[0][1].service if recognised else ""}
        if chain and status == "nxdomain":
            _nxdomain(run, subject, chain, recognised, data)
            continue
        if status in UNDECIDED:
            run.error(kind, subject, f"{data['target']}: {status}")  # a transient failure proves nothing
            continue
        if chain and (status != "ok" or not _leaves_our_domains(run, chain)):
            run.ok(kind, subject)  # an internal alias, or a target with no address: nothing to claim
            continue
        candidates = [s for _, s in recognised if s.vulnerable and s.http_proofs] + by_address
        preferred = len(candidates)
        # Then every service by its page alone (specific proofs only), so a target name that no pattern
        # knows (a new regional endpoint) is still caught; recognised services win a tie.
        candidates += [s for s in by_page if s not in candidates and any(p.specific for p in s.http_proofs)]
        # Last, the weakest evidence: the recognised provider's own error page (its words differ from the
        # signature's: another wording, language or design), only for a service recognised by its CNAME.
        generic = next(((n, s) for n, s in recognised if s.vulnerable and s.proof("provider_error")), None)
        if not candidates and generic is None:
            run.ok(kind, subject)
            continue
        hit, answers, error = _probe(run, subject, candidates, preferred)
        if not answers:
            run.note("takeover_fetch_errors", text("owned.note.fetch_failed", host=subject, error=error))
            continue  # cannot tell: leave any open finding as it is
        if hit is None and generic is not None:
            code = provider_error(answers, firm_words(run, subject), [subject, *chain])
            if code is not None:
                _possible(run, subject, chain, generic, code, data)
                continue
        if hit is None:
            run.ok(kind, subject)
            continue
        sig, proof, code = hit
        target = next((n for n, s in recognised if s is sig), data["target"])
        data.update({"service": sig.service, "signature": sig.id, "target": target, "http_status": code,
                     "proof": proof.as_dict(), "confidence": sig.confidence, "sources": list(sig.sources),
                     "service_status": sig.status})
        run.fail(kind, subject, text("owned.takeover.unclaimed.title", host=subject, service=sig.service),
                 severity=severity_of(sig), data=data,
                 detail=text("owned.takeover.unclaimed.detail", chain=" → ".join([subject, *chain, *addresses]),
                             proof=proof.describe(), status=code, service=sig.service,
                             confidence=sig.confidence, sources=", ".join(sig.sources)))


def _possible(run: CheckRun, subject: str, chain: list[str], found: tuple[str, Signature], code: int,
              data: dict[str, Any]) -> None:
    """A possible takeover: the recognised provider answers with its own error, none of the firm's words."""
    target, sig = found
    proof = sig.proof("provider_error") or Proof("provider_error")
    data.update({"service": sig.service, "signature": sig.id, "target": target, "http_status": code,
                 "proof": proof.as_dict(), "confidence": "low", "possible": True, "sources": list(sig.sources),
                 "service_status": sig.status})
    run.fail(FindingKind.TAKEOVER_CNAME, subject,
             text("owned.takeover.possible.title", host=subject, service=sig.service),
             severity=SEVERITY["low"], data=data,
             detail=text("owned.takeover.possible.detail", chain=" → ".join([subject, *chain]), status=code,
                         service=sig.service, sources=", ".join(sig.sources)))


def _nxdomain(run: CheckRun, subject: str, chain: list[str], recognised: list[tuple[str, Signature]],
              data: dict[str, Any]) -> None:
    kind = FindingKind.TAKEOVER_CNAME
    # The service is the first one in the chain that names an NXDOMAIN proof (or any recognised one).
    found = next(((n, s) for n, s in recognised if s.proof("nxdomain")), recognised[0] if recognised else None)
    target, sig = found if found else (chain[-1], None)
    data.update({"target": target, "service": sig.service if sig else ""})
    if sig is not None:
        data.update({"signature": sig.id, "confidence": sig.confidence, "sources": list(sig.sources)})
        sev = severity_of(sig) if sig.proof("nxdomain") else Severity.HIGH
    else:
        sev = Severity.CRITICAL
        data["target_registrable"] = registrable(target) or target
        data["target_available"] = _available(run, data["target_registrable"])
    run.fail(kind, subject,
             text("owned.takeover.nxdomain.title", host=subject, target=target,
                  service=f" ({sig.service})" if sig else ""),
             severity=sev, data=data,
             detail=text("owned.takeover.nxdomain.detail", chain=" → ".join([subject, *chain]),
                         available=text("owned.takeover.available") if data.get("target_available") else "",
                         attack=_attack(sig, target)))


async def _ns_facts(resolver: Any, zone: str, ns_hosts: list[str]) -> dict[str, Any]:
    soa = await resolver.lookup(zone, "SOA")
    hosts = await asyncio.gather(*(resolver.lookup(h, "A") for h in ns_hosts))
    return {"soa": soa.status, "rcode": soa.error or soa.status.upper(),
            "hosts": {h: a.status for h, a in zip(ns_hosts, hosts, strict=True)}}


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
        ns = list(zones[subject].dns["records"]["NS"])
        provider = signatures.for_ns(ns) if lame else None
        parts: list[Text] = []
        if dead:
            regs = sorted({registrable(h) or h for h in dead})
            parts.append(text("owned.takeover_ns.dead", hosts=", ".join(dead), domains=", ".join(regs)))
        if lame and provider is not None and provider.proof("ns_refused"):
            parts.append(text("owned.takeover_ns.provider", service=provider.service, rcode=f["rcode"]))
        elif lame:
            parts.append(text("owned.takeover_ns.lame", rcode=f["rcode"]))
        data = {"ns": ns, **f}
        if provider is not None:
            data.update({"service": provider.service, "signature": provider.id, "sources": list(provider.sources)})
        sev = Severity.CRITICAL if dead or (provider is not None and provider.vulnerable) else Severity.HIGH
        run.fail(kind, subject, text("owned.takeover_ns.title", zone=subject), severity=sev, data=data,
                 detail=parts[0] if len(parts) == 1 else text("owned.takeover_ns.both", a=parts[0], b=parts[1]))


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
        run.fail(kind, subject, text("owned.takeover_mx.title", domain=subject, hosts=", ".join(dead)),
                 severity=Severity.HIGH, data={"mx": with_mx[subject].dns["records"]["MX"], "hosts": f},
                 detail=text("owned.takeover_mx.detail", domains=", ".join(regs)))
