"""The road to p=reject: who sends as the brand, by name, and how far the legitimate mail aligns.

An aggregate report lists source IPs. To decide the move to ``p=reject`` (guideline IV.4(1)) a person
needs *senders*: "our own mail server", "SendGrid (marketing)", "Salesforce Marketing Cloud",
"an ISP in Brazil (spoofing)". ``enrich`` (run by the dmarc_reports job after ingestion) stores, with
each record, the facts that name its sender:

- reverse DNS through ``ctx.resolver`` (the lab in tests), forward-confirmed;
- which part of the domain's own SPF record authorises the IP (its own ``ip4:``, or an ``include:``
  of a mail platform, whose current ranges are read from DNS now);
- the platform (``data/mail-platforms.json``) by SPF include, reverse DNS or DKIM signing domain, and
  the organisation behind the reverse-DNS domain (parsedmarc's map).

``named_senders`` groups records into senders with volume and SPF/DKIM alignment; ``readiness`` gives,
per domain, the one figure management asks for — the share of *legitimate* volume that passes DMARC
(a sender is legitimate when the SPF record authorises it, the brand lists its platform in
``mail_platforms``, it carries a valid DKIM signature of the domain, or it is the firm's own server)
— with what still fails and how to fix it. Unauthorised mail that fails is what ``p=reject`` stops.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from watcher.context import Context
from watcher.core.brands import BrandSpec
from watcher.core.models import DmarcReport
from watcher.core.names import InvalidName, is_within, registrable
from watcher.core.texts import Text, text
from watcher.owned import platforms
from watcher.owned.mailcommon import cd, dns_resolver

log = logging.getLogger("omamori.senders")
MAX_IPS = 2000  # per enrichment run; the rest wait for the next run


def _reg(name: str) -> str:
    """The registrable domain of a name from a report (hostile input: "" when it is not a name)."""
    try:
        return registrable(name) if name else ""
    except InvalidName:
        return ""


# --- the firm's SPF, expanded ---------------------------------------------------------------------


@dataclass
class SpfMap:
    """Networks the domain's SPF authorises, each with the include it came from ("" = the record itself)."""

    networks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]] = field(default_factory=list)

    def source_of(self, ip: str) -> str | None:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return None
        for net, via in self.networks:
            if addr.version == net.version and addr in net:
                return via or "direct"
        return None


def _walk_spf(parsed: Any, via: str, out: SpfMap, depth: int = 0) -> None:
    """checkdmarc 6's parsed record: ``mechanisms`` (ip4/ip6 with ``value``; include with its own
    ``parsed``) and ``redirect``. Only ``pass`` mechanisms authorise."""
    if depth > 12 or not isinstance(parsed, dict):
        return
    for mech in parsed.get("mechanisms") or []:
        if not isinstance(mech, dict) or mech.get("action", "pass") != "pass":
            continue
        kind = mech.get("mechanism")
        if kind in ("ip4", "ip6"):
            try:
                out.networks.append((ipaddress.ip_network(str(mech.get("value")), strict=False), via))
            except ValueError:
                continue
        elif kind == "include":
            _walk_spf(mech.get("parsed"), via or str(mech.get("value") or ""), out, depth + 1)
    redirect = parsed.get("redirect")
    if isinstance(redirect, dict):
        _walk_spf(redirect.get("parsed"), via or str(redirect.get("value") or redirect.get("domain") or ""), out,
                  depth + 1)


def spf_map(ctx: Context, domain: str) -> SpfMap:
    out = SpfMap()
    try:
        res = cd().spf.check_spf(domain, resolver=dns_resolver(ctx.settings.dns))
    except Exception as e:  # a broken SPF record is the spf check's finding; here it just names no one
        log.warning("SPF of %s could not be expanded: %s", domain, e)
        return out
    _walk_spf(res.get("parsed"), "", out)
    return out


# --- facts per source IP ----------------------------------------------------------------------------


def _ip_facts(ctx: Context, ips: list[str], spf: dict[str, SpfMap]) -> dict[str, dict[str, Any]]:
    """Reverse DNS (forward-confirmed) and SPF source of each IP, asked concurrently."""
    resolver = ctx.resolver
    rev: dict[str, str] = {}
    for ip in ips:
        try:
            rev[ip] = ipaddress.ip_address(ip).reverse_pointer
        except ValueError:
            continue

    async def ptrs() -> list[Any]:
        import asyncio

        return await asyncio.gather(*(resolver.lookup(name, "PTR") for name in rev.values()), return_exceptions=True)

    ptr_answers = dict(zip(rev.keys(), resolver.run(ptrs()), strict=True)) if rev else {}
    names = {ip: (a.values[0].lower() if not isinstance(a, BaseException) and a.values else "")
             for ip, a in ptr_answers.items()}

    async def forwards() -> list[Any]:
        import asyncio

        jobs = [resolver.lookup(host, "AAAA" if ":" in ip else "A") for ip, host in names.items() if host]
        return await asyncio.gather(*jobs, return_exceptions=True)

    fwd_list = resolver.run(forwards()) if any(names.values()) else []
    fwd = dict(zip([ip for ip, host in names.items() if host], fwd_list, strict=True))
    out: dict[str, dict[str, Any]] = {}
    for ip in ips:
        host = names.get(ip, "")
        answer = fwd.get(ip)
        confirmed = bool(host) and not isinstance(answer, BaseException) and answer is not None and ip in answer.values
        status = ptr_answers.get(ip)
        facts: dict[str, Any] = {"ptr": host, "ptr_ok": confirmed,
                                 "dns_error": isinstance(status, BaseException) or
                                 getattr(status, "status", "") in ("timeout", "error", "servfail")}
        base = _reg(host) if host else ""
        if base:
            facts["base"] = base
            org = platforms.rdns_org(base)
            if org:
                facts["org"], facts["org_type"] = org
        facts["spf"] = {d: m.source_of(ip) for d, m in spf.items() if m.source_of(ip)}
        out[ip] = facts
    return out


def _platform_of(facts: dict[str, Any], record: dict[str, Any]) -> tuple[platforms.Platform | None, str]:
    for via in (facts.get("spf") or {}).values():
        if via and via != "direct":
            p = platforms.by_include(via)
            if p:
                return p, "spf"
    if facts.get("ptr"):
        p = platforms.by_rdns(facts["ptr"])
        if p:
            return p, "rdns"
    for d in record.get("auth_dkim") or []:
        p = platforms.by_dkim(str(d.get("domain") or ""))
        if p:
            return p, "dkim"
    return None, ""


def enrich(ctx: Context, days: int | None = None) -> dict[str, Any]:
    """Store sender facts with every record of recent reports that has none (or had a DNS failure)."""
    since = ctx.now() - timedelta(days=days or ctx.settings.mail.ready_days)
    with ctx.session() as s:
        reports = [r for r in s.exec(select(DmarcReport).where(col(DmarcReport.end_at) >= since))
                   if any("sender" not in rec or (rec.get("sender") or {}).get("dns_error") for rec in r.records)]
        ips = sorted({str(rec.get("source_ip")) for r in reports for rec in r.records if rec.get("source_ip")})[:MAX_IPS]
        if not ips:
            return {"reports": 0, "ips": 0}
        domains = sorted({r.domain for r in reports})
        spf = {d: spf_map(ctx, d) for d in domains}
        facts = _ip_facts(ctx, ips, spf)
        named = 0
        for r in reports:
            records = []
            for rec in r.records:
                f = facts.get(str(rec.get("source_ip")))
                if f is not None and ("sender" not in rec or (rec.get("sender") or {}).get("dns_error")):
                    sender = {**f, "spf": (f.get("spf") or {}).get(r.domain)}
                    p, via = _platform_of({**f, "spf": {r.domain: sender["spf"]}}, rec)
                    if p:
                        sender["platform"], sender["platform_name"], sender["platform_via"] = p.key, p.name, via
                    sender["name"] = display_name(sender)
                    rec = {**rec, "sender": sender}
                    named += 1
                records.append(rec)
            r.records = records  # a new list: the JSON column is written back
            s.add(r)
        s.commit()
    return {"reports": len(reports), "ips": len(ips), "records": named}


def display_name(sender: dict[str, Any]) -> str:
    if sender.get("platform_name"):
        return str(sender["platform_name"])
    if sender.get("org"):
        return f"{sender['org']} ({sender.get('org_type', '')})".replace(" ()", "")
    return str(sender.get("base") or sender.get("ptr") or "")


# --- reading ---------------------------------------------------------------------------------------


@dataclass
class Sender:
    domain: str
    name: str
    legitimate: bool
    why: str  # spf, platform, dkim, own, forwarded, "" (not legitimate)
    messages: int = 0
    passing: int = 0  # DMARC pass (aligned SPF or DKIM)
    spf_aligned: int = 0
    dkim_aligned: int = 0
    ips: set[str] = field(default_factory=set)
    reporters: set[str] = field(default_factory=set)
    dkim_domains: set[str] = field(default_factory=set)
    envelope_domains: set[str] = field(default_factory=set)
    spf_listed: bool = False
    fix: Text | None = None

    @property
    def failing(self) -> int:
        return self.messages - self.passing

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {"domain": self.domain, "sender": self.name or text("mail.sender.unknown").render(lang),
                "legitimate": self.legitimate, "why": self.why,
                "messages": self.messages, "passing": self.passing, "failing": self.failing,
                "spf_aligned": self.spf_aligned, "dkim_aligned": self.dkim_aligned,
                "ips": ", ".join(sorted(self.ips)[:5]) + (" …" if len(self.ips) > 5 else ""),
                "reporters": ", ".join(sorted(self.reporters)), "fix": self.fix.render(lang) if self.fix else ""}


def _brand_for(brands: list[BrandSpec], domain: str) -> BrandSpec | None:
    return next((b for b in brands if any(is_within(domain, d) for d in b.sending_domains + b.official_domains)), None)


def _legitimate(rec: dict[str, Any], sender: dict[str, Any], domain: str, brand: BrandSpec | None) -> str:
    if sender.get("spf"):
        return "spf"
    configured = {platforms.by_key(k).key for k in (brand.mail_platforms if brand else [])  # type: ignore[union-attr]
                  if platforms.by_key(k) is not None}
    if sender.get("platform") in configured:
        return "platform"
    ptr = str(sender.get("ptr") or "")
    if ptr and sender.get("ptr_ok") and brand and any(is_within(ptr, d) for d in brand.official_domains):
        return "own"
    ours = _reg(domain)
    if any(d.get("result") == "pass" and _reg(str(d.get("domain") or "")) == ours
           for d in rec.get("auth_dkim") or []):
        return "forwarded" if sender.get("org_type") in ("Email Provider", "Email Security") else "dkim"
    return ""


def named_senders(session: Session, since: datetime, brands: list[BrandSpec],
                  domain: str | None = None) -> list[Sender]:
    """Records of reports whose period ends after ``since``, grouped by (domain, sender name)."""
    q = select(DmarcReport).where(col(DmarcReport.end_at) >= since)
    if domain:
        q = q.where(DmarcReport.domain == domain)
    groups: dict[tuple[str, str], Sender] = {}  # (domain, name or "ip:<address>")
    for rep in session.exec(q):
        brand = _brand_for(brands, rep.domain)
        ours = _reg(rep.domain)
        for rec in rep.records:
            sender = rec.get("sender") or {}
            name = sender.get("name") or display_name(sender)  # "" = no name known (shown as "unknown sender")
            why = _legitimate(rec, sender, rep.domain, brand)
            # Without a name, each IP is its own sender: a spoofer must not hide in a legitimate group.
            key = (rep.domain, name or f"ip:{rec.get('source_ip', '')}")
            g = groups.get(key)
            if g is None:
                g = groups[key] = Sender(rep.domain, name, bool(why), why)
            elif why and not g.legitimate:
                g.legitimate, g.why = True, why
            count = int(rec.get("count") or 0)
            g.messages += count
            spf_ok, dkim_ok = str(rec.get("spf", "")).lower() == "pass", str(rec.get("dkim", "")).lower() == "pass"
            g.passing += count if spf_ok or dkim_ok else 0
            g.spf_aligned += count if spf_ok else 0
            g.dkim_aligned += count if dkim_ok else 0
            g.ips.add(str(rec.get("source_ip", "")))
            g.reporters.add(rep.org_name)
            g.spf_listed = g.spf_listed or bool(sender.get("spf"))
            if not (spf_ok or dkim_ok):
                g.dkim_domains.update(str(d.get("domain") or "") for d in rec.get("auth_dkim") or []
                                      if d.get("result") == "pass" and _reg(str(d.get("domain") or "")) != ours)
                env = str(rec.get("envelope_from") or "") or next(
                    (str(s.get("domain") or "") for s in rec.get("auth_spf") or [] if s.get("result") == "pass"), "")
                if env and _reg(env) != ours:
                    g.envelope_domains.add(env)
    out = sorted(groups.values(), key=lambda g: (g.domain, -g.failing if g.legitimate else 0, -g.messages))
    for g in out:
        g.fix = _fix(g)
    return out


def _fix(g: Sender) -> Text | None:
    if not g.legitimate or not g.failing:
        return None
    name: str | Text = g.name or text("mail.sender.unknown")
    if g.why == "forwarded":
        return text("mail.fix.forwarded", sender=name)
    if g.dkim_domains:
        return text("mail.fix.dkim", sender=name, dkim=", ".join(sorted(g.dkim_domains)[:3]))
    if g.envelope_domains:
        return text("mail.fix.spf", sender=name, envelope=", ".join(sorted(g.envelope_domains)[:3]))
    if not g.spf_listed:
        return text("mail.fix.spf_not_listed", sender=name, ip=", ".join(sorted(g.ips)[:3]))
    return None


@dataclass
class Readiness:
    """The one figure per domain: how much legitimate mail would survive ``p=reject`` today."""

    domain: str
    days: int
    legit_messages: int = 0
    legit_passing: int = 0
    unauthorised_messages: int = 0  # not legitimate: what p=reject stops
    unauthorised_failing: int = 0
    policy: str = ""
    target: float = 0.98
    failing_senders: list[Sender] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        return self.legit_passing / self.legit_messages if self.legit_messages else None

    @property
    def ready(self) -> bool:
        return self.share is not None and self.share >= self.target

    def verdict(self) -> Text:
        pct = f"{self.share:.1%}" if self.share is not None else "-"
        if self.share is None:
            return text("mail.ready.no_data", days=self.days)
        if self.policy == "reject":
            return text("mail.ready.already", share=pct)
        if self.ready:
            return text("mail.ready.ready", share=pct)
        return text("mail.ready.not_ready", share=pct, target=f"{self.target:.0%}")

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {"domain": self.domain, "policy": self.policy or "?", "days": self.days,
                "share": round(self.share, 4) if self.share is not None else None, "ready": self.ready,
                "legit_messages": self.legit_messages, "legit_passing": self.legit_passing,
                "legit_failing": self.legit_messages - self.legit_passing,
                "unauthorised_messages": self.unauthorised_messages,
                "unauthorised_failing": self.unauthorised_failing, "verdict": self.verdict().render(lang),
                "failing_senders": [s.as_dict(lang) for s in self.failing_senders]}


def readiness(session: Session, brands: list[BrandSpec], now: datetime, days: int = 30,
              target: float = 0.98) -> list[Readiness]:
    """The "ready for p=reject" figure of every sending domain over the last ``days``."""
    since = now - timedelta(days=days)
    senders = named_senders(session, since, brands)
    latest: dict[str, str] = {}
    for rep in session.exec(select(DmarcReport).where(col(DmarcReport.end_at) >= since)
                            .order_by(col(DmarcReport.end_at))):
        if rep.policy.get("p"):
            latest[rep.domain] = str(rep.policy["p"])
    domains = sorted({d for b in brands for d in b.sending_domains} | {s.domain for s in senders})
    out = []
    for d in domains:
        r = Readiness(d, days, policy=latest.get(d, ""), target=target)
        for s in senders:
            if s.domain != d:
                continue
            if s.legitimate:
                r.legit_messages += s.messages
                r.legit_passing += s.passing
                if s.failing:
                    r.failing_senders.append(s)
            else:
                r.unauthorised_messages += s.messages
                r.unauthorised_failing += s.failing
        r.failing_senders.sort(key=lambda s: -s.failing)
        out.append(r)
    return out


def ready_for_reject(ctx: Context, session: Session, now: datetime | None = None) -> list[Readiness]:
    """``readiness`` with the Context's brands and settings: what the weekly report and the CLI call."""
    conf = ctx.settings.mail
    return readiness(session, ctx.brands, now or ctx.now(), conf.ready_days, conf.ready_share)
