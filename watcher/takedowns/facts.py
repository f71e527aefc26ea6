"""What a takedown request says and who it goes to, read from the evidence the snapshot kept.

The snapshot stored the registration (``Registration``) and the network (``Network``) records, the
DNS profile and the hosting service; this module reads them back, asks the RDAP client only for
what the snapshot lacks (the registrar's abuse address, the networks of further addresses), and
turns them into ``takedown`` facts: recipients (``contacts``) and the letter's facts (``notice``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from takedown import contacts, notice
from watcher.clients.hosting import Hosting, classify
from watcher.clients.records import Network, Registration, parse_date
from watcher.clients.resolver import DnsProfile
from watcher.context import Context
from watcher.core.brands import BrandSpec
from watcher.core.casefacts import live_evidence
from watcher.core.models import Brand, Candidate, Snapshot
from watcher.core.names import show_name
from watcher.core.reasons import reason_text
from watcher.core.texts import text

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
    if reg.abuse_email:
        return reg
    live = ctx.rdap.domain(cand.registrable)
    return live if not live.error and live.exists else reg


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


def recipients_for(ctx: Context, session: Session, cand: Candidate,
                   snap: Snapshot) -> tuple[list[contacts.Recipient], list[contacts.Cut]]:
    """Everyone to ask about ``cand`` (all levels), after the cut rules."""
    reg = registration(ctx, cand, snap)
    host = hosting(snap)
    host_facts = contacts.HostingFacts(host.service, host.kind, host.abuse_email, host.form_url, host.source)
    ts = ctx.settings.takedown
    found = contacts.gather(
        domain=cand.domain, registrable=cand.registrable,
        registrar=contacts.RegistrarFacts(reg.registrar, reg.abuse_email, reg.source),
        networks=[contacts.NetworkFacts(n.org or n.name, n.handle, n.abuse_email, n.country)
                  for n in networks(ctx, snap)],
        hosting=host_facts,
        always_inform=[p.model_dump() for p in ts.always_inform],
        escalate_to=[p.model_dump() for p in ts.escalate_to],
    )
    return contacts.cut(found, protected_domains=protected_domains(ctx, session), domain=cand.domain,
                        registrable=cand.registrable, hosting=host_facts)


# ---------------------------------------------------------------- the letter's facts


def _time(v: Any) -> datetime | None:
    if isinstance(v, datetime):
        return v
    return parse_date(v) if isinstance(v, str) else None


def reason_texts(reasons: Iterable[dict[str, Any]], lang: str = "en") -> list[str]:
    """The reasons a letter states, in the letter's language: only those that counted (points > 0;
    "not counted" and bookkeeping reasons are the analyst's, not the recipient's)."""
    out = []
    for r in reasons:
        if int(r.get("points") or 0) <= 0:
            continue
        said = reason_text(r, lang) or str(r.get("reason") or r.get("kind") or "")
        if said and said not in out:
            out.append(said)
    return out


def name_reason(cand: Candidate, official: Sequence[str], lang: str) -> list[str]:
    """A look-alike name said plainly in the letter: which characters imitate which official domain."""
    shown = show_name(cand.domain, official)
    if not shown.looks_like:
        return []
    return [text("takedown.name_lookalike", name=shown.bracketed(), alabel=shown.alabel,
                 official=shown.looks_like).render(lang)]


def facts_for(ctx: Context, session: Session, cand: Candidate, snap: Snapshot, *, reference: str,
              auto: bool, evidence: Sequence[notice.EvidenceFile] = ()) -> notice.NoticeFacts:
    row, spec = brand_of(ctx, session, cand)
    capture = snap.capture or {}
    urls = list(dict.fromkeys([*cand.urls, *([capture["final_url"]] if capture.get("final_url") else [])]))
    tls = capture.get("tls") or {}
    official = (spec.login_pages or spec.reference_pages) if spec else []
    if spec and not official:
        official = [f"https://{spec.official_domains[0]}/"]
    ts, smtp = ctx.settings.takedown, ctx.settings.smtp
    reg = Registration.from_dict((snap.rdap or {}).get("domain"), cand.registrable)
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
    )


def _letter_reasons(cand: Candidate, snap: Snapshot, spec: BrandSpec | None, lang: str) -> list[str]:
    official = list(spec.official_domains) if spec else []
    return [*name_reason(cand, official, lang),
            *(reason_texts(snap.reasons or [], lang) or reason_texts(cand.reasons or [], lang))]


def evidence_files(ctx: Context, session: Session, cand: Candidate, snap: Snapshot) -> list[notice.EvidenceFile]:
    """The snapshot's evidence files, plus the side-by-side PNG composed once and stored by hash."""
    files = []
    for role, sha, name, ctype in (("screenshot", snap.screenshot_sha256, "screenshot.png", "image/png"),
                                   ("fullpage", snap.fullpage_sha256, "fullpage.png", "image/png"),
                                   ("html", snap.html_sha256, "page.html", "text/html"),
                                   ("favicon", snap.favicon_sha256, "favicon.ico", "image/x-icon")):
        if sha and ctx.evidence.exists(sha):
            files.append(notice.EvidenceFile(role, name, sha, ctype))
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
            files.append(notice.EvidenceFile("side_by_side", "side-by-side.png", ctx.evidence.put(png), "image/png"))
    return files


def _reference(ctx: Context, refs: list[dict[str, Any]], spec: BrandSpec | None,
               profile: str) -> dict[str, Any] | None:
    """The official capture to show beside the site: same profile (desktop/mobile), a login page first."""
    usable = [r for r in refs if ctx.evidence.exists(str(r.get("screenshot_sha256") or ""))]
    login = set(spec.login_pages) if spec else set()
    usable.sort(key=lambda r: (r.get("profile", "desktop") != profile, r.get("url") not in login))
    return usable[0] if usable else None
