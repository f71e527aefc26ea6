"""Takedown requests: drafted from the latest Snapshot, approved, sent through a persistent outbox,
reminded, escalated, and closed when the site is down. ``takedown/`` decides who, what and when;
this module does the database, the evidence files and the sending. Every step is an Event with its actor.

Life of a request (``RequestStatus``)::

    DRAFT --approve--> QUEUED --claim--> SENDING --SMTP ok--> SENT --reply--> ANSWERED
                         ^  |                |  4xx: back to QUEUED with backoff (until max attempts)
                         |  |                |  5xx: FAILED with the reason
                         |  +-- web form: a person submits it, then ``mark_submitted`` --> SENT
                         +-- ``resend`` (a person, after an uncertain send)   any --> CLOSED (down / withdrawn)

Exactly-once, decided: the Message-ID is chosen when the request is drafted and stored before any
send. Sending claims the row first (QUEUED -> SENDING, a compare-and-set UPDATE, committed, with a
lease in ``next_attempt_at``), then talks SMTP, then records SENT. If the process dies inside that
window, the row stays SENDING and nobody can know whether the server accepted the DATA. We choose
**at-most-once**: an expired SENDING row is never re-sent automatically; it opens a Finding
(``takedown_send_uncertain``) for a person, who checks the sent folder and either marks it sent or
re-queues it with ``resend`` — which keeps the SAME Message-ID, so a recipient that did get the first
copy can recognise the second as a duplicate. Why not re-send automatically: a takedown request sent
twice to an abuse desk opens two tickets and looks like a bot; a request delayed by a person's check
costs minutes, and the window is a single SMTP transaction long.

The caller commits: functions that take a ``session`` add and flush, they do not commit, so the
dashboard and the CLI decide the transaction. ``send_due`` and ``run`` manage their own sessions.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from sqlmodel import Session, select

from takedown import contacts, notice, policy
from watcher.brands import BrandSpec
from watcher.context import Context
from watcher.events import record
from watcher.findings import finding_key, open_finding, resolve_finding
from watcher.mail import PermanentFailure, TemporaryFailure
from watcher.models import (
    Brand,
    Candidate,
    CandidateStatus,
    Channel,
    Finding,
    FindingStatus,
    RecipientKind,
    RequestStatus,
    Severity,
    Snapshot,
    TakedownRequest,
    utcnow,
)
from watcher.triage import decide, transition

log = logging.getLogger("omamori.takedowns")

R = RequestStatus
AUTO_ACTOR = "auto-rule"
OUTBOX_ACTOR = "outbox"
POLICY_ACTOR = "takedown-policy"
# A SENDING row whose claim is older than this is "uncertain" (see the module docstring).
SEND_LEASE = timedelta(minutes=10)
OPEN = (R.DRAFT, R.QUEUED, R.SENDING, R.SENT, R.ANSWERED)


class TakedownError(ValueError):
    """A request that cannot be drafted or moved (shown to the person who asked)."""


# ---------------------------------------------------------------- facts


def latest_snapshot(session: Session, cand: Candidate) -> Snapshot | None:
    if cand.last_snapshot_id:
        snap = session.get(Snapshot, cand.last_snapshot_id)
        if snap is not None:
            return snap
    return session.exec(select(Snapshot).where(Snapshot.candidate_id == cand.id)
                        .order_by(sa.desc(Snapshot.taken_at), sa.desc(Snapshot.id))).first()


def _brand(ctx: Context, session: Session, cand: Candidate) -> tuple[Brand | None, BrandSpec | None]:
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


def _addresses(snap: Snapshot) -> list[str]:
    dns = snap.dns or {}
    records = dns.get("records", dns)
    out = []
    for rtype in ("A", "AAAA"):
        for v in records.get(rtype, []) or []:
            with contextlib.suppress(ValueError):
                out.append(str(ipaddress.ip_address(str(v))))
    return out


def _cnames(snap: Snapshot) -> list[str]:
    dns = snap.dns or {}
    return [str(v) for v in (dns.get("records", dns).get("CNAME", []) or [])]


def _lookup(ctx: Context, kind: str, key: str) -> dict[str, Any] | None:
    """A live RDAP lookup when the snapshot lacks the facts: omamori's RDAP client (``ctx.rdap``),
    else a minimal one through the configured bootstrap files."""
    try:
        client = ctx.rdap
        found = client.ip(key) if kind == "ip" else client.domain(key)
        data = found.as_dict() if hasattr(found, "as_dict") else dict(found)
        if not data.get("error"):
            return data
    except Exception as e:  # the client is another module's; its failure must not stop a takedown
        log.info("RDAP client %s %s: %s", kind, key, e)
    return _rdap_get(ctx, kind, key)


def _rdap_get(ctx: Context, kind: str, key: str) -> dict[str, Any] | None:
    """A small RDAP lookup (domain or ip) through the IANA bootstrap files of the config, used only
    when the snapshot lacks the facts. Failures are None: a missing contact is data, not a crash."""
    import httpx

    rs = ctx.settings.rdap
    try:
        if kind == "ip":
            boot = json.loads(ctx.settings.path(rs.ip_bootstrap_file).read_text())
            addr = ipaddress.ip_address(key)
            bases = [urls for nets, urls in boot.get("services", [])
                     if any(addr in ipaddress.ip_network(n, strict=False) for n in nets)]
        else:
            tld = key.rsplit(".", 1)[-1].lower()
            bases = [[rs.overrides[tld]]] if tld in rs.overrides else []
            if not bases:
                boot = json.loads(ctx.settings.path(rs.bootstrap_file).read_text())
                bases = [urls for tlds, urls in boot.get("services", []) if tld in tlds]
        urls = [u for u in (bases[0] if bases else []) if u.startswith("https://") or rs.allow_http]
        if not urls:
            return None
        base = urls[0] if urls[0].endswith("/") else urls[0] + "/"
        with httpx.Client(timeout=rs.timeout) as client:
            r = client.get(f"{base}{kind}/{key}", headers={"Accept": "application/rdap+json"})
        return r.json() if r.status_code == 200 else None
    except (OSError, ValueError, httpx.HTTPError) as e:
        log.info("RDAP %s %s failed: %s", kind, key, e)
        return None


def _hosting(ctx: Context, snap: Snapshot) -> dict[str, Any] | None:
    """The CDN / free-hosting service the site sits behind: from the snapshot, else the shipped table."""
    h = dict(snap.hosting or {})
    if h.get("abuse_email") or h.get("form_url"):
        return h
    try:
        from watcher.hosting import classify  # the enrichment engineer's table (data/hosting-services.json)
    except ImportError:
        return None
    try:
        found = classify(_addresses(snap), _cnames(snap))
    except Exception as e:  # a broken table must not stop a takedown
        log.warning("hosting classify failed: %s", e)
        return None
    if found is None:
        return None
    data = found if isinstance(found, dict) else getattr(found, "__dict__", {})
    if hasattr(found, "_asdict"):
        data = found._asdict()
    return dict(data) if data and (data.get("abuse_email") or data.get("form_url")) else None


def recipients_for(ctx: Context, session: Session, cand: Candidate,
                   snap: Snapshot) -> tuple[list[contacts.Recipient], list[contacts.Cut]]:
    """Everyone to ask about ``cand`` (all levels), after the cut rules."""
    rdap = dict(snap.rdap or {})
    # The snapshot job stores {"domain": Registration, "ip": Network} (watcher.rdap, as dicts); a raw
    # RDAP answer is read too.
    rdap_domain = rdap.get("domain") if isinstance(rdap.get("domain"), dict) else rdap
    whois_text = str(rdap.get("whois") or rdap.get("whois_text") or "")
    if not contacts.registrar_from_rdap(rdap_domain)[1] and not whois_text:
        rdap_domain = _lookup(ctx, "domain", cand.registrable) or rdap_domain
    networks: list[dict[str, Any]] = [n for n in [rdap.get("ip"), *(snap.hosting or {}).get("networks", [])]
                                      if isinstance(n, dict) and contacts.network_from_rdap(n)[1]]
    looked_up = {str(n.get("address") or "") for n in networks}
    # The snapshot looks up the first address only; a site on several networks has several hosts.
    networks += [n for n in (_lookup(ctx, "ip", a) for a in dict.fromkeys(_addresses(snap)) if a not in looked_up)
                 if n]
    hosting = _hosting(ctx, snap)
    ts = ctx.settings.takedown
    found = contacts.gather(
        domain=cand.domain, registrable=cand.registrable, rdap=rdap_domain, whois_text=whois_text,
        networks=networks, hosting=hosting,
        always_inform=[p.model_dump() for p in ts.always_inform],
        escalate_to=[p.model_dump() for p in getattr(ts, "escalate_to", [])],
    )
    return contacts.cut(found, protected_domains=protected_domains(ctx, session), domain=cand.domain,
                        registrable=cand.registrable, hosting=hosting)


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _parse_time(v: Any) -> datetime | None:
    if isinstance(v, datetime):
        return v
    if isinstance(v, str) and v:
        with contextlib.suppress(ValueError):
            t = datetime.fromisoformat(v.replace("Z", "+00:00"))
            return t if t.tzinfo else None
    return None


def _reason_texts(reasons: Iterable[dict[str, Any]]) -> list[str]:
    out = []
    for r in reasons:
        text = r.get("detail") or r.get("text") or r.get("reason") or r.get("kind")
        if text and str(text) not in out:
            out.append(str(text))
    return out


def facts_for(ctx: Context, session: Session, cand: Candidate, snap: Snapshot, *, reference: str,
              auto: bool, evidence: Sequence[notice.EvidenceFile] = ()) -> notice.NoticeFacts:
    row, spec = _brand(ctx, session, cand)
    capture = snap.capture or {}
    urls = list(dict.fromkeys([*cand.urls, *([capture["final_url"]] if capture.get("final_url") else [])]))
    tls = capture.get("tls") or {}
    official = (spec.login_pages or spec.reference_pages) if spec else []
    if spec and not official:
        official = [f"https://{spec.official_domains[0]}/"]
    ts, smtp = ctx.settings.takedown, ctx.settings.smtp
    return notice.NoticeFacts(
        # The ASCII (punycode) name is what a registrar's systems know; the Unicode one is what a victim saw.
        reference=reference, urls=urls or [f"https://{cand.domain}/"],
        domain=cand.domain, domain_unicode=cand.unicode if cand.unicode != cand.domain else "",
        brand=(row.name if row else "") or "our company", brand_ja=row.name_ja if row else "",
        org=(row.name if row else "") or smtp.from_name, org_ja=row.name_ja if row else "",
        official_urls=official, official_domains=list(spec.official_domains) if spec else [],
        official_list_url=ctx.settings.report.official_list_url,
        reasons=_reason_texts(snap.reasons) or _reason_texts(cand.reasons),
        ips=_addresses(snap), first_seen_at=cand.first_seen_at,
        registered_at=cand.registered_at or _parse_time(_dict((snap.rdap or {}).get("domain")).get("created_at")),
        cert_not_before=_parse_time(cand.facts.get("not_before")) or _parse_time(tls.get("not_before")),
        taken_at=snap.taken_at, evidence=list(evidence), requester=ts.requester_name,
        requester_email=smtp.reply_to or smtp.from_address, requester_phone=ts.requester_phone, auto=auto,
    )


def _evidence_files(ctx: Context, session: Session, cand: Candidate, snap: Snapshot) -> list[notice.EvidenceFile]:
    """The snapshot's evidence files, plus the side-by-side PNG composed once and stored by hash."""
    files = []
    for role, sha, name, ctype in (("screenshot", snap.screenshot_sha256, "screenshot.png", "image/png"),
                                   ("fullpage", snap.fullpage_sha256, "fullpage.png", "image/png"),
                                   ("html", snap.html_sha256, "page.html", "text/html"),
                                   ("favicon", snap.favicon_sha256, "favicon.ico", "image/x-icon")):
        if sha and ctx.evidence.exists(sha):
            files.append(notice.EvidenceFile(role, name, sha, ctype))
    shot = next((f for f in files if f.role == "screenshot"), None)
    row, spec = _brand(ctx, session, cand)
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


# ---------------------------------------------------------------- drafting and decisions


def _requests(session: Session, cand: Candidate) -> list[TakedownRequest]:
    return list(session.exec(select(TakedownRequest).where(TakedownRequest.candidate_id == cand.id)
                             .order_by(TakedownRequest.id)).all())


def draft_requests(ctx: Context, session: Session, cand: Candidate, *, actor: str, level: int = 0,
                   auto: bool = False) -> list[TakedownRequest]:
    """Draft one request per recipient of ``level`` (idempotent: a recipient with an open request
    about this candidate is not drafted again; after a close — down, then back up — it is). Returns
    the new drafts."""
    snap = latest_snapshot(session, cand)
    if snap is None:
        raise TakedownError(f"{cand.domain}: no snapshot yet; a request needs evidence (check it first)")
    now = ctx.now()
    # One open request per recipient; a closed one (the site went down, then came back) may be asked again.
    asked = {r.recipient.lower() for r in _requests(session, cand) if r.status != R.CLOSED}
    recipients, cuts = recipients_for(ctx, session, cand, snap)
    new = [r for r in recipients if r.level == level and r.address.lower() not in asked]
    if level == 0 and not asked and not new:
        # Nobody to ask (no RDAP abuse contact, no network contact, nothing configured): a person must.
        open_finding(session, "takedown_no_recipient", cand.domain, f"no takedown recipient found for {cand.domain}",
                     severity=Severity.HIGH, now=now, data={"candidate_id": cand.id,
                                                             "cut": [c.recipient.address for c in cuts]},
                     detail="; ".join(c.why for c in cuts) or "RDAP/WHOIS and IP RDAP named no abuse contact")
    if not new:
        return []
    for c in cuts:
        record(session, actor, "takedown.recipient_cut", cand, {"recipient": c.recipient.address,
                                                                "kind": c.recipient.kind, "why": c.why}, at=now)
    evidence = _evidence_files(ctx, session, cand, snap)
    drafts = []
    for r in new:
        req = TakedownRequest(
            candidate_id=cand.id, snapshot_id=snap.id, recipient=r.address, recipient_name=r.name,
            recipient_kind=RecipientKind(r.kind), channel=Channel(r.channel), language=r.language,
            status=R.DRAFT, message_id=ctx.mailer.new_message_id(), escalation_level=level, auto=auto,
            created_by=actor, created_at=now,
        )
        session.add(req)
        session.flush()  # the id is the reference in the subject
        facts = facts_for(ctx, session, cand, snap, reference=f"TD-{req.id}", auto=auto, evidence=evidence)
        summary = notice.xarf_summary(facts, recipient_kind=r.kind)
        summary_sha = ctx.evidence.put(notice.xarf_json(summary))
        facts.evidence = [*evidence, notice.EvidenceFile("summary", "report.json", summary_sha, "application/json")]
        req.subject = notice.subject(facts, r.language)
        req.body = notice.body(facts, r.language, r.kind, r.name)
        req.attachments = [
            {"filename": e.filename, "sha256": e.sha256, "content_type": e.content_type, "role": e.role,
             # The summary's entry also carries the URLs, for web-form fields without a file read.
             **({"urls": facts.urls, "ips": facts.ips} if e.role == "summary" else {})}
            for e in facts.evidence if e.role in ("screenshot", "side_by_side", "summary")
        ]
        session.add(req)
        record(session, actor, "takedown.drafted", req,
               {"candidate": cand.domain, "recipient": r.address, "kind": r.kind, "channel": r.channel,
                "language": r.language, "source": r.source, "level": level, "auto": auto,
                "message_id": req.message_id}, at=now)
        drafts.append(req)
    session.flush()
    return drafts


def confirm(ctx: Context, session: Session, cand: Candidate, *, actor: str, reason: str = "",
            auto: bool = False) -> list[TakedownRequest]:
    """A person's (or the auto rule's) decision that ``cand`` is phishing, then the drafts."""
    if cand.status not in (CandidateStatus.CONFIRMED, CandidateStatus.REPORTED):
        decide(session, cand, "confirm", actor=actor, reason=reason, now=ctx.now())
    if latest_snapshot(session, cand) is None:
        # The decision stands; the requests wait for evidence (draft again after a check).
        record(session, actor, "takedown.no_evidence", cand,
               {"why": "no snapshot yet: check the candidate, then draft the requests"}, at=ctx.now())
        return []
    return draft_requests(ctx, session, cand, actor=actor, auto=auto)


def approve(ctx: Context, session: Session, req: TakedownRequest, *, actor: str) -> TakedownRequest:
    """DRAFT -> QUEUED. An email goes out with the next outbox run; a web form waits, queued, for a
    person to paste ``webform_fields`` and call ``mark_submitted``."""
    if req.status != R.DRAFT:
        raise TakedownError(f"request {req.id} is {req.status.value}, only a draft can be approved")
    now = ctx.now()
    req.status = R.QUEUED
    req.next_attempt_at = now if req.channel == Channel.EMAIL else None
    session.add(req)
    record(session, actor, "takedown.approved", req,
           {"channel": req.channel.value, "auto": req.auto,
            **({"todo": "fill the web form by hand, then mark it submitted"} if req.channel == Channel.WEBFORM
               else {})}, at=now)
    return req


def approve_all(ctx: Context, session: Session, cand: Candidate, *, actor: str) -> list[TakedownRequest]:
    return [approve(ctx, session, r, actor=actor) for r in _requests(session, cand) if r.status == R.DRAFT]


def withdraw(session: Session, req: TakedownRequest, *, actor: str, reason: str,
             now: datetime | None = None) -> TakedownRequest:
    if not reason.strip():
        raise TakedownError("withdrawing needs a reason (it is kept in the audit log)")
    if req.status in (R.SENDING, R.CLOSED):
        raise TakedownError(f"request {req.id} is {req.status.value}; it cannot be withdrawn now")
    now = now or utcnow()
    old = req.status
    req.status, req.closed_at, req.next_attempt_at = R.CLOSED, now, None
    session.add(req)
    record(session, actor, "takedown.withdrawn", req, {"from": old.value, "reason": reason.strip()}, at=now)
    return req


def attach_reply(session: Session, req: TakedownRequest, text: str, *, actor: str,
                 now: datetime | None = None, bounce: bool = False) -> TakedownRequest:
    """Attach a reply pasted by a person: a sent request becomes ANSWERED. A bounce (``bounce=True``,
    the recipient's server refused it after accepting) makes it FAILED, with the bounce as the reason."""
    if not text.strip():
        raise TakedownError("an empty reply")
    now = now or utcnow()
    req.replies = [*req.replies, {"at": now.isoformat(), "by": actor, "text": text.strip()[:20000],
                                  "bounce": bounce}]
    if bounce and req.status in (R.SENT, R.ANSWERED):
        req.status, req.last_error = R.FAILED, "bounced: " + text.strip()[:1900]
    elif req.status == R.SENT:
        req.status = R.ANSWERED
    session.add(req)
    record(session, actor, "takedown.bounce" if bounce else "takedown.reply", req, {"chars": len(text.strip())},
           at=now)
    return req


def mark_answered(session: Session, req: TakedownRequest, *, actor: str,
                  now: datetime | None = None) -> TakedownRequest:
    if req.status not in (R.SENT, R.ANSWERED):
        raise TakedownError(f"request {req.id} is {req.status.value}; only a sent request can be answered")
    now = now or utcnow()
    req.status = R.ANSWERED
    session.add(req)
    record(session, actor, "takedown.answered", req, {}, at=now)
    return req


def mark_submitted(ctx: Context, session: Session, req: TakedownRequest, *, actor: str) -> TakedownRequest:
    """A person submitted the web form (or confirmed an uncertain email went out): now SENT."""
    if req.status not in (R.DRAFT, R.QUEUED, R.SENDING):
        raise TakedownError(f"request {req.id} is {req.status.value}; it cannot be marked sent")
    now = ctx.now()
    old = req.status
    req.status, req.sent_at, req.next_attempt_at = R.SENT, now, None
    session.add(req)
    record(session, actor, "takedown.sent", req, {"by_hand": True, "from": old.value}, at=now)
    resolve_finding(session, "takedown_send_uncertain", f"request:{req.id}", now=now)
    return req


def resend(ctx: Context, session: Session, req: TakedownRequest, *, actor: str) -> TakedownRequest:
    """Re-queue an uncertain (SENDING) or FAILED request with the SAME Message-ID (see the docstring)."""
    if req.status not in (R.SENDING, R.FAILED):
        raise TakedownError(f"request {req.id} is {req.status.value}; only uncertain or failed ones are re-sent")
    now = ctx.now()
    old = req.status
    req.status, req.next_attempt_at, req.attempts = R.QUEUED, now, 0 if old == R.FAILED else req.attempts
    session.add(req)
    record(session, actor, "takedown.requeued", req, {"from": old.value, "message_id": req.message_id}, at=now)
    resolve_finding(session, "takedown_send_uncertain", f"request:{req.id}", now=now)
    return req


def webform_fields(req: TakedownRequest) -> dict[str, str]:
    """What a person pastes into a recipient's report form: the usual fields of abuse forms."""
    summary = next((a for a in req.attachments if a.get("role") == "summary"), {})
    return {
        "form": req.recipient if req.channel == Channel.WEBFORM else "",
        "url": "\n".join(summary.get("urls", [])),
        "subject": req.subject,
        "description": req.body,
        "evidence_sha256": "\n".join(f"{a['filename']}: {a['sha256']}" for a in req.attachments),
        "reference": f"TD-{req.id}",
    }


# ---------------------------------------------------------------- the message


def render_message(ctx: Context, req: TakedownRequest, *, reminder: bool = False,
                   body: str | None = None, subject: str | None = None) -> EmailMessage:
    """Exactly what will be sent for ``req`` (the mailer adds an S/MIME signature when configured)."""
    smtp = ctx.settings.smtp
    msg = EmailMessage()
    msg["From"] = formataddr((smtp.from_name, smtp.from_address))
    msg["To"] = formataddr((req.recipient_name, req.recipient)) if req.recipient_name else req.recipient
    if smtp.reply_to:
        msg["Reply-To"] = smtp.reply_to
    msg["Subject"] = subject or req.subject
    sent_at = _parse_time(req.sent_at) if isinstance(req.sent_at, str) else req.sent_at  # a dict from a UI cache
    msg["Date"] = format_datetime(sent_at or ctx.now())
    if reminder:
        msg["Message-ID"] = _reminder_id(req.message_id, req.reminders_sent)
        msg["In-Reply-To"] = req.message_id
        msg["References"] = req.message_id
    else:
        msg["Message-ID"] = req.message_id
    msg["X-Omamori-Reference"] = f"TD-{req.id}"
    text = body if body is not None else req.body
    # Non-ASCII text goes base64: intact through any relay, and safe inside an S/MIME signature.
    msg.set_content(text, charset="utf-8", cte=None if text.isascii() else "base64")
    for a in req.attachments:
        maintype, _, subtype = str(a.get("content_type", "application/octet-stream")).partition("/")
        msg.add_attachment(ctx.evidence.get(a["sha256"]), maintype=maintype, subtype=subtype or "octet-stream",
                           filename=a["filename"])
    return msg


def _reminder_id(message_id: str, n: int) -> str:
    local, _, domain = message_id.strip("<>").partition("@")
    return f"<{local}.reminder{n}@{domain}>"


# ---------------------------------------------------------------- the outbox


def _recover_uncertain(ctx: Context) -> int:
    now = ctx.now()
    n = 0
    with ctx.session() as s:
        stale = s.exec(select(TakedownRequest).where(TakedownRequest.status == R.SENDING,
                                                     TakedownRequest.next_attempt_at.is_not(None),  # type: ignore[union-attr]
                                                     TakedownRequest.next_attempt_at < now)).all()
        for req in stale:
            req.next_attempt_at = None  # flagged: waits for a person (mark_submitted or resend)
            req.last_error = "uncertain: the sender stopped between claiming and confirming the send"
            s.add(req)
            open_finding(s, "takedown_send_uncertain", f"request:{req.id}",
                         f"takedown request TD-{req.id} to {req.recipient} may or may not have been sent",
                         severity=Severity.MEDIUM, now=now,
                         detail=f"Message-ID {req.message_id}. Check the sent folder or ask the recipient; then "
                                f"mark it sent, or re-send it (same Message-ID).",
                         data={"request_id": req.id, "message_id": req.message_id})
            record(s, OUTBOX_ACTOR, "takedown.send_uncertain", req, {"message_id": req.message_id}, at=now)
            n += 1
        s.commit()
    return n


def _claim(ctx: Context, req_id: int) -> bool:
    """QUEUED -> SENDING, atomically: only one sender (thread, process, host) wins a row."""
    now = ctx.now()
    with ctx.session() as s:
        result = s.execute(sa.update(TakedownRequest).where(
            TakedownRequest.id == req_id, TakedownRequest.status == R.QUEUED  # type: ignore[arg-type]
        ).values(status=R.SENDING.value, next_attempt_at=now + SEND_LEASE))
        s.commit()
        return result.rowcount == 1  # type: ignore[attr-defined]


def _send_one(ctx: Context, req_id: int) -> str:
    if not _claim(ctx, req_id):
        return "skipped"
    with ctx.session() as s:
        req = s.get(TakedownRequest, req_id)
        assert req is not None
        outcome, error = "sent", ""
        try:
            msg = render_message(ctx, req)
            ctx.mailer.send(msg)
        except TemporaryFailure as e:
            outcome, error = "retry", str(e)
        except PermanentFailure as e:
            outcome, error = "failed", str(e)
        except (OSError, ValueError, KeyError) as e:  # e.g. an evidence file missing: a person must look
            outcome, error = "failed", f"{type(e).__name__}: {e}"
        now = ctx.now()
        req.attempts += 1
        if outcome == "sent":
            req.status, req.sent_at, req.next_attempt_at, req.last_error = R.SENT, now, None, ""
            record(s, OUTBOX_ACTOR, "takedown.sent", req,
                   {"message_id": req.message_id, "recipient": req.recipient, "attempt": req.attempts,
                    "auto": req.auto, "signed": bool(ctx.mailer.signs)}, at=now)
        elif outcome == "retry" and req.attempts < ctx.settings.takedown.max_send_attempts:
            req.status, req.last_error = R.QUEUED, error[:2000]
            req.next_attempt_at = now + policy.backoff(req.attempts)
            record(s, OUTBOX_ACTOR, "takedown.send_retry", req,
                   {"error": error[:500], "attempt": req.attempts, "next_attempt_at": req.next_attempt_at.isoformat()},
                   at=now)
        else:
            outcome = "failed"
            req.status, req.next_attempt_at, req.last_error = R.FAILED, None, error[:2000]
            record(s, OUTBOX_ACTOR, "takedown.failed", req, {"error": error[:500], "attempt": req.attempts}, at=now)
        s.add(req)
        s.commit()
    return outcome


def send_due(ctx: Context) -> dict[str, int]:
    """The outbox: send every QUEUED email request that is due. Returns counts."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0, "uncertain": _recover_uncertain(ctx)}
    now = ctx.now()
    with ctx.session() as s:
        due = s.exec(select(TakedownRequest.id).where(
            TakedownRequest.status == R.QUEUED, TakedownRequest.channel == Channel.EMAIL,
            sa.or_(TakedownRequest.next_attempt_at.is_(None), TakedownRequest.next_attempt_at <= now),  # type: ignore[union-attr]
        ).order_by(TakedownRequest.id)).all()
    for req_id in due:
        assert req_id is not None
        counts[_send_one(ctx, req_id)] += 1
    counts["reported"] = _mark_reported(ctx)
    return counts


# ---------------------------------------------------------------- the job


def _mark_reported(ctx: Context) -> int:
    """CONFIRMED candidates with a sent request are now REPORTED (re-checked every few hours)."""
    now, n = ctx.now(), 0
    with ctx.session() as s:
        sent = select(TakedownRequest.candidate_id).where(
            TakedownRequest.status.in_([R.SENT, R.ANSWERED]))  # type: ignore[attr-defined]
        for cand in s.exec(select(Candidate).where(Candidate.status == CandidateStatus.CONFIRMED,
                                                   Candidate.id.in_(sent))).all():  # type: ignore[union-attr]
            transition(s, cand, CandidateStatus.REPORTED, actor=POLICY_ACTOR, reason="takedown requests sent",
                       now=now, recheck_hours=ctx.settings.takedown.recheck_hours)
            n += 1
        s.commit()
    return n


def _auto_candidates(ctx: Context) -> int:
    """The per-brand auto rule (see takedown.policy): confirm, draft and queue, as "auto-rule"."""
    slugs = {b.slug for b in ctx.brands if b.auto_takedown}
    if not slugs:
        return 0
    n = 0
    with ctx.session() as s:
        ids = s.exec(select(Candidate.id).join(Brand, Brand.id == Candidate.brand_id).where(  # type: ignore[arg-type]
            Candidate.status == CandidateStatus.CHECKED, Brand.slug.in_(slugs))).all()  # type: ignore[attr-defined]
    for cid in ids:
        with ctx.session() as s:
            cand = s.get(Candidate, cid)
            snap = latest_snapshot(s, cand) if cand else None
            if cand is None or snap is None:
                continue
            ok, why = policy.auto_rule(verdict=str(snap.verdict), snapshot_reasons=snap.reasons,
                                       capture=snap.capture or {}, candidate_reasons=cand.reasons)
            if not ok:
                continue
            try:
                confirm(ctx, s, cand, actor=AUTO_ACTOR, reason="auto rule: " + "; ".join(why), auto=True)
                approve_all(ctx, s, cand, actor=AUTO_ACTOR)
                s.commit()
                n += 1
            except (TakedownError, ValueError) as e:
                s.rollback()
                record(s, AUTO_ACTOR, "takedown.auto_failed", cand, {"error": str(e)[:500]}, at=ctx.now())
                s.commit()
    return n


def _close_down(ctx: Context) -> int:
    """Requests of DOWN candidates close; sent ones record time-to-down (sent_at -> down_at)."""
    now, n = ctx.now(), 0
    with ctx.session() as s:
        rows = s.exec(select(TakedownRequest, Candidate).join(Candidate, Candidate.id == TakedownRequest.candidate_id)
                      .where(Candidate.status == CandidateStatus.DOWN,  # type: ignore[arg-type]
                             TakedownRequest.status.in_([R.DRAFT, R.QUEUED, R.SENT, R.ANSWERED]))).all()  # type: ignore[attr-defined]
        for req, cand in rows:
            down_at = cand.down_at or now
            detail: dict[str, Any] = {"candidate": cand.domain, "down_at": down_at.isoformat(), "from": req.status.value}
            if req.sent_at is not None:
                req.time_to_down_seconds = max(0.0, (down_at - req.sent_at).total_seconds())
                detail["time_to_down_seconds"] = req.time_to_down_seconds
            else:
                detail["reason"] = "the site went down before this request was sent"
            req.status, req.closed_at, req.next_attempt_at = R.CLOSED, now, None
            s.add(req)
            record(s, POLICY_ACTOR, "takedown.closed", req, detail, at=now)
            n += 1
        s.commit()
    return n


def _remind(ctx: Context) -> dict[str, int]:
    ts, now = ctx.settings.takedown, ctx.now()
    counts = {"reminded": 0, "remind_failed": 0}
    with ctx.session() as s:
        rows = s.exec(select(TakedownRequest).join(Candidate, Candidate.id == TakedownRequest.candidate_id).where(
            TakedownRequest.status == R.SENT, TakedownRequest.channel == Channel.EMAIL,
            Candidate.status == CandidateStatus.REPORTED)).all()  # type: ignore[arg-type]
        due = [r.id for r in rows if policy.reminder_due(
            sent_at=r.sent_at, last_reminder_at=r.last_reminder_at, reminders_sent=r.reminders_sent, now=now,
            remind_after_hours=ts.remind_after_hours)]
    for rid in due:
        with ctx.session() as s:
            req = s.get(TakedownRequest, rid)
            cand = s.get(Candidate, req.candidate_id) if req else None
            snap = s.get(Snapshot, req.snapshot_id) if req and req.snapshot_id else None
            if req is None or cand is None or snap is None or req.sent_at is None:
                continue
            # Claim first (at-most-once, as for requests): count the reminder with a compare-and-set,
            # commit, then send; a second sender running at the same time loses the claim.
            previous, n = req.last_reminder_at, req.reminders_sent
            claimed = s.execute(sa.update(TakedownRequest).where(
                TakedownRequest.id == rid, TakedownRequest.reminders_sent == n  # type: ignore[arg-type]
            ).values(reminders_sent=n + 1, last_reminder_at=now))
            s.commit()
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue
            s.refresh(req)
            facts = facts_for(ctx, s, cand, snap, reference=f"TD-{req.id}", auto=req.auto)
            text = notice.reminder_body(facts, req.language, req.recipient_name, sent_at=req.sent_at, checked_at=now)
            try:
                ctx.mailer.send(render_message(ctx, req, reminder=True, body=text,
                                               subject=notice.subject(facts, req.language, reminder=True)))
            except (TemporaryFailure, PermanentFailure, OSError, KeyError) as e:
                if isinstance(e, TemporaryFailure):  # not sent: the next run tries again
                    req.reminders_sent -= 1
                    req.last_reminder_at = previous
                record(s, POLICY_ACTOR, "takedown.remind_failed", req, {"error": str(e)[:500]}, at=now)
                counts["remind_failed"] += 1
            else:
                record(s, POLICY_ACTOR, "takedown.reminded", req,
                       {"n": req.reminders_sent, "message_id": _reminder_id(req.message_id, req.reminders_sent)},
                       at=now)
                counts["reminded"] += 1
            s.add(req)
            s.commit()
    return counts


def _escalate(ctx: Context) -> dict[str, int]:
    """After ``escalate_after_hours`` without the site going down, ask the next level."""
    ts, now = ctx.settings.takedown, ctx.now()
    counts = {"escalated": 0, "escalation_exhausted": 0}
    with ctx.session() as s:
        cands = s.exec(select(Candidate).where(Candidate.status == CandidateStatus.REPORTED)).all()
        for cand in cands:
            reqs = [r for r in _requests(s, cand) if r.status in OPEN]
            level = max((r.escalation_level for r in reqs), default=0)
            first = min((r.sent_at for r in reqs if r.escalation_level == level and r.sent_at), default=None)
            if not policy.escalation_due(first_sent_at=first, now=now, escalate_after_hours=ts.escalate_after_hours):
                continue
            try:
                drafts = draft_requests(ctx, s, cand, actor=POLICY_ACTOR, level=level + 1,
                                        auto=any(r.auto for r in reqs))
            except TakedownError:
                drafts = []
            if drafts:
                for d in drafts:
                    approve(ctx, s, d, actor=POLICY_ACTOR)
                record(s, POLICY_ACTOR, "takedown.escalated", cand,
                       {"to_level": level + 1, "recipients": [d.recipient for d in drafts]}, at=now)
                counts["escalated"] += 1
            else:
                known = s.exec(select(Finding).where(Finding.key == finding_key("takedown_stalled", cand.domain))).first()
                if known is not None and known.status == FindingStatus.OPEN:
                    continue
                open_finding(
                    s, "takedown_stalled", cand.domain,
                    f"{cand.domain} is still up {ts.escalate_after_hours:g} h after the takedown requests",
                    severity=Severity.HIGH, now=now, data={"candidate_id": cand.id, "level": level},
                    detail="No further recipient is configured (takedown.escalate_to). Call the registrar or "
                           "the hosting provider, or report to JPCERT/CC by phone.")
                record(s, POLICY_ACTOR, "takedown.escalation_exhausted", cand, {"level": level}, at=now)
                counts["escalation_exhausted"] += 1
        s.commit()
    return counts


def run(ctx: Context) -> dict[str, Any]:
    """The ``takedowns`` job: auto rule, close when down, escalations, outbox (and REPORTED), reminders.

    Closing comes before sending, so a site that went down is not reported; escalations come before
    the outbox, so the next level is asked in the same run."""
    summary: dict[str, Any] = {"auto_confirmed": _auto_candidates(ctx)}
    summary["closed"] = _close_down(ctx)
    summary.update(_escalate(ctx))
    summary.update(send_due(ctx))
    summary.update(_remind(ctx))
    return summary


def time_to_down(session: Session) -> dict[str, dict[str, float]]:
    """Per recipient: how many closed requests, and the median / fastest time-to-down in hours."""
    rows = session.exec(select(TakedownRequest.recipient, TakedownRequest.time_to_down_seconds).where(
        TakedownRequest.time_to_down_seconds.is_not(None))).all()  # type: ignore[union-attr]
    by: dict[str, list[float]] = {}
    for recipient, secs in rows:
        by.setdefault(recipient, []).append(float(secs))
    out = {}
    for recipient, values in by.items():
        values.sort()
        mid = len(values) // 2
        median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
        out[recipient] = {"count": len(values), "median_hours": round(median / 3600, 2),
                          "fastest_hours": round(values[0] / 3600, 2)}
    return out


# ---------------------------------------------------------------- CLI

cli = typer.Typer(help="Takedown requests: confirm, approve, send, follow up.", no_args_is_help=True)


def _ctx() -> Context:
    from watcher.cli import context

    return context()


def _console() -> Any:
    from rich.console import Console

    return Console()


def _candidate(s: Session, domain: str) -> Candidate:
    from watcher.names import normalize_host

    name = domain
    with contextlib.suppress(ValueError):
        name = normalize_host(domain).ascii
    cand = s.exec(select(Candidate).where(Candidate.domain == name)).first()
    if cand is None:
        raise typer.BadParameter(f"no candidate {domain}")
    return cand


def _actor() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


@cli.command("list")
def list_cmd(status: Annotated[str, typer.Option(help="only this status")] = "") -> None:
    """List requests (newest first)."""
    from rich.table import Table

    ctx = _ctx()
    with ctx.session() as s:
        q = select(TakedownRequest, Candidate).join(Candidate, Candidate.id == TakedownRequest.candidate_id)  # type: ignore[arg-type]
        if status:
            q = q.where(TakedownRequest.status == RequestStatus(status))
        rows = s.exec(q.order_by(sa.desc(TakedownRequest.id))).all()
    t = Table("id", "domain", "recipient", "kind", "lang", "status", "sent", "attempts", "error")
    for req, cand in rows:
        t.add_row(str(req.id), cand.domain, req.recipient, req.recipient_kind.value, req.language, req.status.value,
                  f"{req.sent_at:%Y-%m-%d %H:%M}" if req.sent_at else "", str(req.attempts), req.last_error[:40])
    _console().print(t)


@cli.command()
def show(request_id: int) -> None:
    """Show a request: the message exactly as it will be sent (or the web-form fields)."""
    ctx = _ctx()
    with ctx.session() as s:
        req = s.get(TakedownRequest, request_id)
        if req is None:
            raise typer.BadParameter(f"no request {request_id}")
        typer.echo(f"# TD-{req.id} {req.status.value} {req.channel.value} -> {req.recipient} ({req.recipient_kind.value})")
        if req.channel == Channel.WEBFORM:
            for k, v in webform_fields(req).items():
                typer.echo(f"## {k}\n{v}\n")
            return
        msg = render_message(ctx, req)
        for k in ("From", "To", "Subject", "Date", "Message-ID"):
            typer.echo(f"{k}: {msg[k]}")
        typer.echo("")
        typer.echo(req.body)
        for a in req.attachments:
            typer.echo(f"[attachment] {a['filename']} {a['content_type']} sha256={a['sha256']}")


@cli.command("confirm")
def confirm_cmd(domain: str, reason: Annotated[str, typer.Option(help="why (kept in the audit log)")] = "") -> None:
    """Confirm a candidate as phishing and draft its requests."""
    ctx = _ctx()
    with ctx.session() as s:
        cand = _candidate(s, domain)
        try:
            drafts = confirm(ctx, s, cand, actor=_actor(), reason=reason)
        except (TakedownError, ValueError) as e:
            raise typer.BadParameter(str(e)) from None
        s.commit()
        for d in drafts:
            typer.echo(f"drafted TD-{d.id} -> {d.recipient} ({d.recipient_kind.value}, {d.language}, {d.channel.value})")
        if not drafts:
            typer.echo("no new requests (already drafted, or no recipient found)")


@cli.command("approve")
def approve_cmd(request_id: Annotated[int | None, typer.Argument()] = None,
                all_for: Annotated[str, typer.Option("--all", help="every draft of this domain")] = "") -> None:
    """Approve a draft (ID) or every draft of a domain (--all DOMAIN)."""
    ctx = _ctx()
    with ctx.session() as s:
        if all_for:
            done = approve_all(ctx, s, _candidate(s, all_for), actor=_actor())
        elif request_id is not None:
            req = s.get(TakedownRequest, request_id)
            if req is None:
                raise typer.BadParameter(f"no request {request_id}")
            try:
                done = [approve(ctx, s, req, actor=_actor())]
            except TakedownError as e:
                raise typer.BadParameter(str(e)) from None
        else:
            raise typer.BadParameter("give a request ID or --all DOMAIN")
        s.commit()
    for r in done:
        typer.echo(f"queued TD-{r.id} -> {r.recipient}" + (" (web form: fill it by hand)" if r.channel == Channel.WEBFORM
                                                           else ""))


@cli.command()
def send() -> None:
    """Run the outbox now."""
    typer.echo(json.dumps(send_due(_ctx())))


@cli.command()
def reply(request_id: int, file: Annotated[Path, typer.Option("--file", exists=True, readable=True)],
          bounce: Annotated[bool, typer.Option("--bounce", help="it is a bounce: the request failed")] = False,
          ) -> None:
    """Attach a reply or bounce (a text or .eml file) to a request."""
    ctx = _ctx()
    with ctx.session() as s:
        req = s.get(TakedownRequest, request_id)
        if req is None:
            raise typer.BadParameter(f"no request {request_id}")
        attach_reply(s, req, file.read_text(encoding="utf-8", errors="replace"), actor=_actor(), now=ctx.now(),
                     bounce=bounce)
        s.commit()
    typer.echo(f"reply attached to TD-{request_id}")


@cli.command()
def submitted(request_id: int) -> None:
    """Mark a web-form request submitted (or an uncertain email confirmed sent)."""
    ctx = _ctx()
    with ctx.session() as s:
        req = s.get(TakedownRequest, request_id)
        if req is None:
            raise typer.BadParameter(f"no request {request_id}")
        mark_submitted(ctx, s, req, actor=_actor())
        s.commit()
    typer.echo(f"TD-{request_id} marked sent")


__all__ = [
    "approve",
    "approve_all",
    "attach_reply",
    "cli",
    "confirm",
    "draft_requests",
    "mark_answered",
    "mark_submitted",
    "render_message",
    "resend",
    "run",
    "send_due",
    "time_to_down",
    "webform_fields",
    "withdraw",
]
