"""What a takedown request says and who it goes to, read from the evidence the snapshot kept.

The snapshot stored the registration (``Registration``) and the network (``Network``) records, the
DNS profile and the hosting service; this module reads them back, asks the RDAP client only for
what the snapshot lacks (the registrar's abuse address, the networks of further addresses), and
turns them into ``takedown`` facts: recipients (``contacts``) and the letter's facts (``notice``).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from sqlmodel import Session, col, select

from takedown import contacts, notice, policy
from watcher.clients.hosting import Hosting, classify
from watcher.clients.http import read_capped
from watcher.clients.records import Network, Registration, parse_date
from watcher.clients.resolver import DnsProfile
from watcher.context import Context
from watcher.core.brands import BrandSpec
from watcher.core.casefacts import live_evidence
from watcher.core.models import Brand, Candidate, Report, Snapshot
from watcher.core.names import show_name
from watcher.core.texts import text
from watcher.takedowns import letters, tables

log = logging.getLogger("omamori.takedowns")


def latest_snapshot(session: Session, cand: Candidate) -> Snapshot | None:
    """The snapshot a letter cites: the last one that showed the site live (its evidence), else the
    latest (a request about a site that never answered says what was seen)."""
    if cand.id is not None:
        live = live_evidence(session, cand.id)
        if live is not None:
            return live
    if cand.last_snapshot_id:
        snap = session.get(Snapshot, cand.last_snapshot_id)
        if snap is not None:
            return snap
    return session.exec(select(Snapshot).where(Snapshot.candidate_id == cand.id)
                        .order_by(sa.desc(col(Snapshot.taken_at)), sa.desc(col(Snapshot.id)))).first()


def brand_of(ctx: Context, session: Session, cand: Candidate) -> tuple[Brand | None, BrandSpec | None]:
    row = session.get(Brand, cand.brand_id) if cand.brand_id else None
    if row is None:
        return None, None
    spec = next((b for b in ctx.brands if b.slug == row.slug), None)
    if spec is None and row.spec:
        with contextlib.suppress(ValueError):
            spec = BrandSpec.model_validate(row.spec)
    return row, spec


def protected_domains(ctx: Context, session: Session) -> set[str]:
    """Every official and group domain of every brand: never a recipient."""
    out: set[str] = set()
    specs = list(ctx.brands)
    for row in session.exec(select(Brand)).all():
        with contextlib.suppress(ValueError):
            specs.append(BrandSpec.model_validate(row.spec))
    for b in specs:
        out.update(b.official_domains, b.group_domains, b.official_hosts, b.sending_domains)
    return out


# ---------------------------------------------------------------- what the snapshot kept


def addresses(snap: Snapshot) -> list[str]:
    """The site's IP addresses as the snapshot resolved them (A, then AAAA)."""
    return DnsProfile.from_dict(snap.dns).addresses


def cnames(snap: Snapshot) -> list[str]:
    return [str(v) for v in (((snap.dns or {}).get("records") or {}).get("CNAME", []) or [])]


def registration(ctx: Context, cand: Candidate, snap: Snapshot) -> Registration:
    """The registration the snapshot kept; asked again (RDAP or WHOIS) when it names no abuse address."""
    reg = Registration.from_dict((snap.rdap or {}).get("domain"), cand.registrable)
    if reg.abuse_email or (reg.registrar and is_jp(cand)):
        return reg
    live = ctx.rdap.domain(cand.registrable)
    return live if not live.error and live.exists else reg


def is_jp(cand: Candidate) -> bool:
    return cand.registrable.lower().rstrip(".").endswith(".jp")


def registrar_facts(ctx: Context, cand: Candidate, reg: Registration) -> contacts.RegistrarFacts:
    """Who suspends the domain. A .jp name's registrar is the designated registrar JPRS WHOIS names:
    its abuse desk comes from the designated-registrar table (what each registrar publishes), else
    from the WHOIS public contact; an empty address means "fall back to the registry" (JPRS)."""
    if not is_jp(cand):
        return contacts.RegistrarFacts(reg.registrar, reg.abuse_email, reg.source)
    address, _source = tables.jp_registrar_abuse(ctx.settings, reg.registrar)
    if address:
        return contacts.RegistrarFacts(reg.registrar, address, "jp-designated")
    return contacts.RegistrarFacts(reg.registrar, reg.abuse_email, "whois-contact" if reg.abuse_email else "whois")


def owner_facts(cand: Candidate, reg: Registration) -> contacts.OwnerFacts:
    """A hacked site's owner: the registrant's published address (RDAP, or the .jp WHOIS public
    contact when it is the domain's own), else the site's ``webmaster@`` role mailbox (RFC 2142)."""
    extra = reg.extra or {}
    for key in ("registrant_email", "contact_email"):
        address = str(extra.get(key) or "")
        if contacts.valid_email(address):
            return contacts.OwnerFacts(str(extra.get("registrant") or ""), address, f"registration: {key}")
    return contacts.OwnerFacts(str(extra.get("registrant") or ""), f"webmaster@{cand.registrable}",
                               "RFC 2142 role mailbox (no address in the registration)")


def networks(ctx: Context, snap: Snapshot) -> list[Network]:
    """The network of every address: the snapshot looked up the first one, the rest are asked now."""
    kept = Network.from_dict((snap.rdap or {}).get("ip"))
    out = [kept] if kept.address and not kept.error else []
    for a in dict.fromkeys(addresses(snap)):
        if a not in {n.address for n in out}:
            net = ctx.rdap.ip(a)
            if not net.error:
                out.append(net)
    return out


def hosting(snap: Snapshot) -> Hosting:
    """The CDN / free-hosting service: the snapshot's classification, else the shipped table now."""
    kept = Hosting.from_dict(snap.hosting)
    if kept.abuse_email or kept.form_url:
        return kept
    try:
        return classify(addresses(snap), cnames(snap))
    except (OSError, ValueError) as e:  # a broken table must not stop a takedown
        log.warning("hosting classification failed: %s", e)
        return Hosting()


@dataclass
class Who:
    """Everyone to ask about a case, and what the asking found on the way."""

    recipients: list[contacts.Recipient]
    cuts: list[contacts.Cut]
    registrar: contacts.RegistrarFacts
    registry_fallback: bool = False  # a .jp name whose designated registrar published no address
    short_links: list[str] = field(default_factory=list)


def recipients_for(ctx: Context, session: Session, cand: Candidate, snap: Snapshot,
                   mode: str = contacts.SUSPEND) -> Who:
    """Everyone to ask about ``cand`` (all levels) in ``mode``, after the cut rules."""
    reg = registration(ctx, cand, snap)
    registrar = registrar_facts(ctx, cand, reg)
    host = hosting(snap)
    host_facts = contacts.HostingFacts(host.service, host.kind, host.abuse_email, host.form_url, host.source)
    ts = ctx.settings.takedown
    fallback = is_jp(cand) and not registrar.abuse_email and mode == contacts.SUSPEND
    links = shortener_links(ctx, session, cand)
    found = contacts.gather(
        domain=cand.domain, registrable=cand.registrable,
        registrar=registrar,
        networks=[contacts.NetworkFacts(n.org or n.name, n.handle, n.abuse_email, n.country)
                  for n in networks(ctx, snap)],
        hosting=host_facts,
        always_inform=[*(p.as_party() for p in tables.cert_parties(ctx.settings)),
                       *(p.model_dump() for p in ts.always_inform)],
        escalate_to=[p.model_dump() for p in ts.escalate_to],
        registry_fallback=[p.as_party() for p in tables.jp_fallback(ctx.settings)] if fallback else (),
        shorteners=links,
        owner=owner_facts(cand, reg) if mode == contacts.REMOVE_CONTENT else None,
        mode=mode,
    )
    kept, cuts = contacts.cut(found, protected_domains=protected_domains(ctx, session), domain=cand.domain,
                              registrable=cand.registrable, hosting=host_facts)
    return Who(kept, cuts, registrar, fallback, [s.url for s in links])


# ---------------------------------------------------------------- the lure and its short links


def reports_of(session: Session, cand: Candidate) -> list[Report]:
    """The reports (a customer's forwarded mail, a URL someone submitted) that named this candidate."""
    ids = {cand.facts.get("report_id")} if isinstance(cand.facts, dict) else set()
    ids = {i for i in ids if isinstance(i, int)}
    if not ids:
        return []
    return list(session.exec(select(Report).where(col(Report.id).in_(ids))).all())


def shortener_links(ctx: Context, session: Session, cand: Candidate) -> list[contacts.ShortenerFacts]:
    """Every shortener link of the lure that led to this candidate, with the shortener's desk."""
    urls: list[str] = []
    via = cand.facts.get("via") if isinstance(cand.facts, dict) else None
    if isinstance(via, dict) and via.get("kind") == "shortener" and via.get("url"):
        urls.append(str(via["url"]))
    for rep in reports_of(session, cand):
        for entry in rep.urls or []:
            if isinstance(entry, dict) and entry.get("kind") == "shortener" and (
                    entry.get("candidate_id") == cand.id or entry.get("host") == cand.domain):
                urls.append(str(entry.get("url") or ""))
    out = []
    for u in dict.fromkeys(u for u in urls if u):
        desk = tables.shortener(ctx.settings, urlsplit(u).hostname or "")
        out.append(contacts.ShortenerFacts(u, desk.service if desk else "", desk.email if desk else "",
                                           desk.form_url if desk else "", desk.source if desk else ""))
    return out


def lure_message(ctx: Context, session: Session, cand: Candidate) -> bytes | None:
    """The phishing mail itself, as the customer received it: the message/rfc822 part a forward
    carries, else the report as it arrived. The forwarder's own wrapper (the customer's address,
    their words) is not sent on when the lure is inside it."""
    for rep in reports_of(session, cand):
        if not rep.raw_sha256 or not ctx.evidence.exists(rep.raw_sha256):
            continue
        raw = ctx.evidence.get(rep.raw_sha256)
        try:
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            for part in msg.walk():
                if part.get_content_type() == "message/rfc822":
                    inner = part.get_payload()
                    first = inner[0] if isinstance(inner, list) and inner else inner
                    if isinstance(first, email.message.Message):
                        return bytes(first.as_bytes(policy=email.policy.SMTP))
        except (ValueError, TypeError, LookupError) as e:  # a mangled report: send what arrived
            log.warning("lure of %s unreadable: %s", cand.domain, e)
        return raw
    return None


# ---------------------------------------------------------------- hacked site or phishing domain

_PASSWORD = re.compile(rb"<input[^>]+type\s*=\s*[\"']?password", re.I)
HOME_LIMIT = 512 * 1024


def home_page(ctx: Context, cand: Candidate, snap: Snapshot) -> dict[str, Any]:
    """A look at the site's home page (through the egress proxy), for ``policy.site_mode``."""
    capture = snap.capture or {}
    final = str(capture.get("final_url") or (cand.urls[0] if cand.urls else f"https://{cand.domain}/"))
    parts = urlsplit(final)
    home = f"{parts.scheme or 'https'}://{parts.netloc or cand.domain}/"
    try:
        with ctx.http(timeout=10.0) as client, client.stream("GET", home) as r:
            body = read_capped(r, HOME_LIMIT)
            status = r.status_code
    except (httpx.HTTPError, OSError, ValueError) as e:
        return {"url": home, "error": f"{type(e).__name__}: {e}"[:200]}
    same = bool(snap.html_sha256) and hashlib.sha256(body).hexdigest() == snap.html_sha256
    return {"url": home, "status": status, "has_password": bool(_PASSWORD.search(body)),
            "parked": snap.verdict == "parked", "same_as_reported": same or urlsplit(final).path in ("", "/"),
            "bytes": len(body)}


def site_mode(ctx: Context, cand: Candidate, snap: Snapshot) -> tuple[str, list[tuple[str, bool]], dict[str, Any]]:
    """(mode, the policy's checks, the home page facts) for this case (``takedown.policy.site_mode``)."""
    reg = registration(ctx, cand, snap)
    registered = cand.registered_at or reg.created_at
    urls = [*cand.urls, *([str((snap.capture or {})["final_url"])] if (snap.capture or {}).get("final_url") else [])]
    min_age = ctx.settings.takedown.hacked_min_age_days
    if registered is None or ctx.now() - registered < timedelta(days=min_age) or not policy.kit_paths(urls):
        home: dict[str, Any] = {}  # decided without a look: no need to fetch anything
    else:
        home = home_page(ctx, cand, snap)
    mode, checks = policy.site_mode(registered_at=registered, checked_at=ctx.now(), urls=urls, home=home,
                                    min_age_days=min_age)
    return mode, checks, home


# ---------------------------------------------------------------- the letter's facts


def _time(v: Any) -> datetime | None:
    if isinstance(v, datetime):
        return v
    return parse_date(v) if isinstance(v, str) else None


def reason_texts(reasons: Iterable[dict[str, Any]], lang: str = "en") -> list[str]:
    """The reasons as sentences of a letter in ``lang`` (``letters.reason_sentences``)."""
    return letters.reason_sentences(reasons, lang)


def credential_fields(capture: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for form in capture.get("forms") or []:
        if not isinstance(form, dict):
            continue
        if form.get("has_password") or any(isinstance(f, dict) and str(f.get("type", "")).lower() == "password"
                                           for f in form.get("fields") or []):
            out += ["username", "password"]
        if form.get("has_pin"):
            out.append("pin")
    return list(dict.fromkeys(out))


def name_reason(cand: Candidate, official: Sequence[str], lang: str) -> list[str]:
    """A look-alike name said plainly in the letter: which characters imitate which official domain."""
    shown = show_name(cand.domain, official)
    if not shown.looks_like:
        return []
    return [text("takedown.name_lookalike", name=shown.bracketed(), alabel=shown.alabel,
                 official=shown.looks_like).render(lang)]


def facts_for(ctx: Context, session: Session, cand: Candidate, snap: Snapshot, *, reference: str,
              auto: bool, evidence: Sequence[notice.EvidenceFile] = (), mode: str = contacts.SUSPEND,
              kind: str = contacts.OTHER, source: str = "", short_links: Sequence[str] = ()) -> notice.NoticeFacts:
    """The letter's facts for one recipient kind in ``mode``; the claims and the ask in both languages."""
    row, spec = brand_of(ctx, session, cand)
    capture = snap.capture or {}
    urls = list(dict.fromkeys([*cand.urls, *([capture["final_url"]] if capture.get("final_url") else [])]))
    tls = capture.get("tls") or {}
    official = (spec.login_pages or spec.reference_pages) if spec else []
    if spec and not official:
        official = [f"https://{spec.official_domains[0]}/"]
    ts, smtp = ctx.settings.takedown, ctx.settings.smtp
    reg = Registration.from_dict((snap.rdap or {}).get("domain"), cand.registrable)
    kit = policy.kit_paths(urls)
    return notice.NoticeFacts(
        # The ASCII (punycode) name is what a registrar's systems know; the Unicode one is what a victim saw.
        reference=reference, urls=urls or [f"https://{cand.domain}/"],
        domain=cand.domain, domain_unicode=cand.unicode if cand.unicode != cand.domain else "",
        brand=(row.name if row else "") or "our company", brand_ja=row.name_ja if row else "",
        org=(row.name if row else "") or smtp.from_name, org_ja=row.name_ja if row else "",
        official_urls=official, official_domains=list(spec.official_domains) if spec else [],
        official_list_url=ctx.settings.report.official_list_url,
        reasons=_letter_reasons(cand, snap, spec, "en"), reasons_ja=_letter_reasons(cand, snap, spec, "ja"),
        ips=addresses(snap), first_seen_at=cand.first_seen_at,
        registered_at=cand.registered_at or reg.created_at,
        cert_not_before=_time(cand.facts.get("not_before")) or _time(tls.get("not_before")),
        taken_at=snap.taken_at, evidence=list(evidence), requester=ts.requester_name,
        requester_email=smtp.reply_to or smtp.from_address, requester_phone=ts.requester_phone, auto=auto,
        ask={lang: letters.ask(kind, lang, mode=mode, paths=kit, links=[notice.defang(u) for u in short_links],
                               source=source) for lang in ("en", "ja")},
        ask_kind=kind,
        mode=mode, kit_paths=kit if mode == contacts.REMOVE_CONTENT else [], short_links=list(short_links),
        registrar=reg.registrar, nameservers=list(reg.nameservers),
        credential_fields=credential_fields(capture), submission_url=_submission_url(capture),
        evidence_source="user_report" if cand.source in ("report", "feed") else "crawler",
    )


def _letter_reasons(cand: Candidate, snap: Snapshot, spec: BrandSpec | None, lang: str) -> list[str]:
    """What the letter claims, in ``lang``: the look-alike name said plainly, then the counted reasons."""
    official = list(spec.official_domains) if spec else []
    return [*name_reason(cand, official, lang),
            *(reason_texts(snap.reasons or [], lang) or reason_texts(cand.reasons or [], lang))]


def _submission_url(capture: dict[str, Any]) -> str:
    for form in capture.get("forms") or []:
        if isinstance(form, dict) and str(form.get("action_url") or "").startswith(("http://", "https://")):
            return str(form["action_url"])
    return ""


def evidence_files(ctx: Context, session: Session, cand: Candidate, snap: Snapshot) -> list[notice.EvidenceFile]:
    """The snapshot's evidence files, plus the side-by-side PNG composed once and stored by hash."""
    files = []
    for role, sha, ctype in (("screenshot", snap.screenshot_sha256, "image/png"),
                             ("fullpage", snap.fullpage_sha256, "image/png"),
                             ("html", snap.html_sha256, "text/html"),
                             ("favicon", snap.favicon_sha256, "image/x-icon")):
        if sha and ctx.evidence.exists(sha):
            files.append(notice.EvidenceFile(role, notice.evidence_filename(role, sha, ctype), sha, ctype,
                                             ctx.evidence.size(sha)))
    shot = next((f for f in files if f.role == "screenshot"), None)
    row, spec = brand_of(ctx, session, cand)
    ref = _reference(ctx, row.references if row else [], spec, str((snap.capture or {}).get("profile") or "desktop"))
    if shot and ref:
        try:
            png = notice.side_by_side(ctx.evidence.get(ref["screenshot_sha256"]), ctx.evidence.get(shot.sha256),
                                      official_label=f"OFFICIAL: {ref.get('url', '')}",
                                      phishing_label=f"REPORTED: {cand.domain} ({snap.taken_at:%Y-%m-%d %H:%M} UTC)")
        except (OSError, ValueError) as e:  # an unreadable image: the request goes without the composite
            log.warning("side-by-side for %s failed: %s", cand.domain, e)
        else:
            sha = ctx.evidence.put(png)
            files.append(notice.EvidenceFile("side_by_side", notice.evidence_filename("side_by_side", sha, "image/png"),
                                             sha, "image/png", len(png)))
    lure = lure_message(ctx, session, cand)
    if lure:
        sha = ctx.evidence.put(lure)
        files.append(notice.EvidenceFile("lure", notice.evidence_filename("lure", sha, "message/rfc822"), sha,
                                         "message/rfc822", len(lure)))
    return files


def _reference(ctx: Context, refs: list[dict[str, Any]], spec: BrandSpec | None,
               profile: str) -> dict[str, Any] | None:
    """The official capture to show beside the site: same profile (desktop/mobile), a login page first."""
    usable = [r for r in refs if ctx.evidence.exists(str(r.get("screenshot_sha256") or ""))]
    login = set(spec.login_pages) if spec else set()
    usable.sort(key=lambda r: (r.get("profile", "desktop") != profile, r.get("url") not in login))
    return usable[0] if usable else None
