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

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from takedown import contacts, notice
from watcher.capture.triage import decide
from watcher.context import Context
from watcher.core import cases
from watcher.core.events import record
from watcher.core.findings import open_finding, resolve_finding
from watcher.core.models import (
    Candidate,
    CandidateStatus,
    Channel,
    FindingKind,
    RecipientKind,
    RequestStatus,
    Severity,
    TakedownMode,
    TakedownRequest,
    utcnow,
)
from watcher.core.texts import Text, text
from watcher.takedowns.facts import evidence_files, facts_for, latest_snapshot, recipients_for, site_mode

log = logging.getLogger("omamori.takedowns")

R = RequestStatus
AUTO_ACTOR = "auto-rule"
OUTBOX_ACTOR = "outbox"
POLICY_ACTOR = "takedown-policy"
# A SENDING row whose claim is older than this is "uncertain" (see the module docstring).
SEND_LEASE = timedelta(minutes=10)
OPEN = (R.DRAFT, R.QUEUED, R.SENDING, R.SENT, R.ANSWERED)


class TakedownError(ValueError):
    """A request that cannot be drafted or moved (shown to the person who asked, in their language:
    ``said.render(lang)``; ``str()`` is the English, for logs)."""

    def __init__(self, said: Text) -> None:
        super().__init__(said.render("en"))
        self.said = said


# ---------------------------------------------------------------- drafting and decisions


def _requests(session: Session, cand: Candidate) -> list[TakedownRequest]:
    return list(session.exec(select(TakedownRequest).where(TakedownRequest.candidate_id == cand.id)
                             .order_by(col(TakedownRequest.id))).all())


def _case_requests(session: Session, cand: Candidate) -> list[TakedownRequest]:
    """The requests about the whole site: this candidate's and those of the other hostnames of its case."""
    out = _requests(session, cand)
    for other in cases.siblings(session, cand):
        out.extend(_requests(session, other))
    return out


def cut_text(cut: contacts.Cut) -> Text:
    """Why a recipient was left out, in the reader's language (the cut's English ``why`` is for the log)."""
    why = text(f"takedown.cut_{cut.code}") if cut.code else cut.why
    return text("takedown.recipient_cut", who=cut.recipient.address or cut.recipient.name, why=why)


def draft_requests(ctx: Context, session: Session, cand: Candidate, *, actor: str, level: int = 0,
                   auto: bool = False) -> list[TakedownRequest]:
    """Draft one request per recipient of ``level`` for the candidate's whole case (one site, however
    many hostnames: idempotent, a recipient with an open request about any hostname of the site is
    not drafted again; after a close — down, then back up — it is). Returns the new drafts.

    The case's mode (``takedown.policy.site_mode``: suspend a phishing domain, or have a hacked
    site's host and owner remove the content) is decided with its first requests and kept by the
    later ones (escalations, re-drafts), so one case never asks for both."""
    snap = latest_snapshot(session, cand)
    if snap is None:
        raise TakedownError(text("takedown.err.no_snapshot", domain=cand.domain))
    now = ctx.now()
    previous = _case_requests(session, cand)
    # One open request per recipient; a closed one (the site went down, then came back) may be asked again.
    asked = {r.recipient.lower() for r in previous if r.status != R.CLOSED}
    open_modes = [r.mode for r in previous if r.status != R.CLOSED]
    checks: list[tuple[str, bool]] = []
    home: dict[str, Any] = {}
    if open_modes:
        mode = open_modes[0].value
    else:
        mode, checks, home = site_mode(ctx, cand, snap)
    who = recipients_for(ctx, session, cand, snap, mode)
    new = [r for r in who.recipients if r.level == level and r.address.lower() not in asked]
    if level == 0 and who.registry_fallback:
        table = str(ctx.settings.takedown.jp_registrars_file)
        open_finding(session, FindingKind.TAKEDOWN_NO_REGISTRAR, cand.domain,
                     text("takedown.no_registrar_title", domain=cand.domain), severity=Severity.MEDIUM, now=now,
                     detail=text("takedown.no_registrar_detail", registrar=who.registrar.name or "?", table=table),
                     data={"candidate_id": cand.id, "registrar": who.registrar.name})
    if level == 0 and not asked and not new:
        # Nobody to ask (no RDAP abuse contact, no network contact, nothing configured): a person must.
        open_finding(session, FindingKind.TAKEDOWN_NO_RECIPIENT, cand.domain,
                     text("takedown.no_recipient", domain=cand.domain),
                     severity=Severity.HIGH, now=now, data={"candidate_id": cand.id,
                                                             "cut": [c.recipient.address for c in who.cuts]},
                     detail=text("takedown.no_recipient_cuts", cuts=[cut_text(c) for c in who.cuts]) if who.cuts
                     else text("takedown.no_recipient_detail"))
    if not new:
        return []
    if checks:
        record(session, actor, "takedown.mode", cand, {"mode": mode, "checks": dict(checks), "home": home}, at=now)
    for c in who.cuts:
        record(session, actor, "takedown.recipient_cut", cand, {"recipient": c.recipient.address,
                                                                "kind": c.recipient.kind, "why": c.why,
                                                                "code": c.code}, at=now)
    evidence = evidence_files(ctx, session, cand, snap)
    assert cand.id is not None  # stored: it has a snapshot
    drafts = []
    for r in new:
        req = TakedownRequest(
            candidate_id=cand.id, snapshot_id=snap.id, recipient=r.address, recipient_name=r.name,
            recipient_kind=RecipientKind(r.kind), channel=Channel(r.channel), language=r.language,
            status=R.DRAFT, message_id=ctx.mailer.new_message_id(), escalation_level=level, auto=auto,
            created_by=actor, created_at=now, mode=TakedownMode(mode),
        )
        session.add(req)
        session.flush()  # the id is the reference in the subject
        attached, withheld = fit_attachments(ctx, [e for e in evidence if r.kind in LURE_KINDS or e.role != "lure"])
        facts = facts_for(ctx, session, cand, snap, reference=f"TD-{req.id}", auto=auto, evidence=attached,
                          mode=mode, kind=r.kind, source=r.source, short_links=who.short_links)
        facts.urls = site_urls(session, cand, facts.urls)
        facts.withheld = withheld
        inline = ctx.settings.takedown.xarf_inline_bytes
        payloads = {e.sha256: ctx.evidence.get(e.sha256) for e in attached if e.size <= inline}
        summary = notice.xarf_report(facts, report_id=str(uuid.uuid4()), recipient_kind=r.kind, sent_at=now,
                                     payloads=payloads)
        data = notice.xarf_json(summary)
        summary_sha = ctx.evidence.put(data)
        facts.evidence = [*attached, notice.EvidenceFile(
            "summary", notice.evidence_filename("xarf", summary_sha, "application/json"), summary_sha,
            "application/json", len(data))]
        req.subject = notice.subject(facts, r.language)
        req.body = notice.body(facts, r.language, r.kind, r.name)
        req.attachments = [
            {"filename": e.filename, "sha256": e.sha256, "content_type": e.content_type, "role": e.role,
             "size": e.size,
             # The summary's entry also carries the URLs, for web-form fields without a file read.
             **({"urls": facts.urls, "ips": facts.ips} if e.role == "summary" else {})}
            for e in facts.evidence
        ]
        session.add(req)
        record(session, actor, "takedown.drafted", req,
               {"candidate": cand.domain, "recipient": r.address, "kind": r.kind, "channel": r.channel,
                "language": r.language, "source": r.source, "level": level, "auto": auto, "mode": mode,
                "message_id": req.message_id, "attached": [e.filename for e in attached],
                "withheld": [e.sha256 for e in withheld]}, at=now)
        drafts.append(req)
    session.flush()
    return drafts


# The lure (the customer's phishing mail) goes to those who act on mail and links, not to the registrar.
LURE_KINDS = frozenset({"cert", "hosting", "cdn", "shortener", "owner"})
# What an abuse desk looks at first; what does not fit the size limit is named by its hash instead.
ATTACH_ORDER = ("screenshot", "side_by_side", "html", "lure", "fullpage", "favicon")
SUMMARY_RESERVE = 32 * 1024  # the XARF report's own text


def fit_attachments(ctx: Context, files: list[notice.EvidenceFile]
                    ) -> tuple[list[notice.EvidenceFile], list[notice.EvidenceFile]]:
    """(attached, withheld): the evidence files in ``ATTACH_ORDER`` while they fit
    ``takedown.max_attachment_bytes``, counting each file twice when the XARF report inlines it."""
    ts = ctx.settings.takedown
    budget = ts.max_attachment_bytes - SUMMARY_RESERVE
    attached, withheld = [], []
    for f in sorted(files, key=lambda f: ATTACH_ORDER.index(f.role) if f.role in ATTACH_ORDER else 99):
        cost = f.size + (f.size * 4 // 3 + 4 if f.size <= ts.xarf_inline_bytes else 0)
        if cost <= budget:
            attached.append(f)
            budget -= cost
        else:
            withheld.append(f)
    return attached, withheld


def site_urls(session: Session, cand: Candidate, urls: list[str]) -> list[str]:
    """The letter names every hostname of the site (``www.`` and bare, same page), this one first."""
    more = [u for other in cases.siblings(session, cand) if other.status not in cases.ENDED
            for u in (other.urls or [f"https://{other.domain}/"])]
    return list(dict.fromkeys([*urls, *more]))


class AlreadyReported(TakedownError):
    """Confirming a case whose requests are already out: refused, with what was sent."""


@dataclass
class ConfirmPreview:
    """What confirming ``cand`` would do, before it is done: the claims its letters will make, who
    they go to, and why an expected recipient (the registrar, the hosting network) is missing."""

    refused: str = ""  # why it may not be confirmed now ("" when it may)
    claims: list[dict[str, Any]] = field(default_factory=list)  # stored reasons (Reason.as_dict), with points
    recipients: list[contacts.Recipient] = field(default_factory=list)
    cuts: list[contacts.Cut] = field(default_factory=list)
    missing: list[tuple[str, Text]] = field(default_factory=list)  # (kind, why) of an expected recipient not asked
    verdict: str = ""
    page_kind: str = ""
    open_requests: int = 0
    mode: str = contacts.SUSPEND  # what the letters ask: suspend the domain, or remove a hacked site's kit


# A phishing domain is suspended by its registrar; a hacked site's kit is removed by its host and owner.
EXPECTED_KINDS = {contacts.SUSPEND: (contacts.REGISTRAR, contacts.HOSTING),
                  contacts.REMOVE_CONTENT: (contacts.HOSTING, contacts.OWNER)}


def preview_confirm(ctx: Context, session: Session, cand: Candidate) -> ConfirmPreview:
    """The second step of a person's confirmation: nothing is written."""
    out = ConfirmPreview(verdict=str(cand.verdict.value if hasattr(cand.verdict, "value") else cand.verdict))
    out.open_requests = sum(1 for r in _case_requests(session, cand) if r.status != R.CLOSED)
    if cand.status == CandidateStatus.REPORTED and out.open_requests:
        out.refused = f"{cand.domain} is already reported ({out.open_requests} open requests)"
        return out
    snap = latest_snapshot(session, cand)
    if snap is None:
        return out
    out.page_kind = str((snap.capture or {}).get("page_kind") or "")
    out.claims = [r for r in [*(snap.reasons or []), *(cand.reasons or [])] if int(r.get("points") or 0) > 0]
    out.mode = site_mode(ctx, cand, snap)[0]
    who = recipients_for(ctx, session, cand, snap, out.mode)
    out.cuts = who.cuts
    out.recipients = [r for r in who.recipients if r.level == 0]
    for kind in EXPECTED_KINDS[out.mode]:
        if any(r.kind == kind for r in out.recipients):
            continue
        cut = next((c for c in out.cuts if c.recipient.kind == kind), None)
        if cut is not None:
            out.missing.append((kind, cut_text(cut)))
        elif kind == contacts.REGISTRAR:
            out.missing.append((kind, text("takedown.no_registrar_contact_jp") if who.registry_fallback
                                else text("takedown.no_registrar_contact")))
        elif kind == contacts.OWNER:
            out.missing.append((kind, text("takedown.no_owner_contact")))
        else:
            out.missing.append((kind, text("takedown.no_network_contact")))
    return out


def confirm(ctx: Context, session: Session, cand: Candidate, *, actor: str, reason: str | Text = "",
            auto: bool = False) -> list[TakedownRequest]:
    """A person's (or the auto rule's) decision that ``cand`` is phishing, then the drafts. A case
    whose requests are out already is refused (``AlreadyReported``): its requests say what was sent."""
    if cand.status == CandidateStatus.REPORTED:
        n = sum(1 for r in _case_requests(session, cand) if r.status != R.CLOSED)
        if n:
            raise AlreadyReported(text("takedown.err.already_reported", domain=cand.domain, n=n))
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
        raise TakedownError(text("takedown.err.not_draft", id=req.id, status=text(f"takedown.status.{req.status.value}")))
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
        raise TakedownError(text("takedown.err.withdraw_reason"))
    if req.status in (R.SENDING, R.CLOSED):
        raise TakedownError(text("takedown.err.not_withdrawable", id=req.id, status=text(f"takedown.status.{req.status.value}")))
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
        raise TakedownError(Text("takedown.err.empty_reply"))  # `text` is the reply here
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
        raise TakedownError(text("takedown.err.not_sent", id=req.id, status=text(f"takedown.status.{req.status.value}")))
    now = now or utcnow()
    req.status = R.ANSWERED
    session.add(req)
    record(session, actor, "takedown.answered", req, {}, at=now)
    return req


def mark_submitted(ctx: Context, session: Session, req: TakedownRequest, *, actor: str) -> TakedownRequest:
    """A person submitted the web form (or confirmed an uncertain email went out): now SENT."""
    if req.status not in (R.DRAFT, R.QUEUED, R.SENDING):
        raise TakedownError(text("takedown.err.not_markable", id=req.id, status=text(f"takedown.status.{req.status.value}")))
    now = ctx.now()
    old = req.status
    req.status, req.sent_at, req.next_attempt_at = R.SENT, now, None
    session.add(req)
    record(session, actor, "takedown.sent", req, {"by_hand": True, "from": old.value}, at=now)
    resolve_finding(session, FindingKind.TAKEDOWN_SEND_UNCERTAIN, f"request:{req.id}", now=now)
    resolve_finding(session, FindingKind.TAKEDOWN_SEND_FAILED, f"request:{req.id}", now=now)
    return req


def resend(ctx: Context, session: Session, req: TakedownRequest, *, actor: str) -> TakedownRequest:
    """Re-queue an uncertain (SENDING) or FAILED request with the SAME Message-ID (see the docstring)."""
    if req.status not in (R.SENDING, R.FAILED):
        raise TakedownError(text("takedown.err.not_resendable", id=req.id, status=text(f"takedown.status.{req.status.value}")))
    now = ctx.now()
    old = req.status
    req.status, req.next_attempt_at, req.attempts = R.QUEUED, now, 0 if old == R.FAILED else req.attempts
    session.add(req)
    record(session, actor, "takedown.requeued", req, {"from": old.value, "message_id": req.message_id}, at=now)
    resolve_finding(session, FindingKind.TAKEDOWN_SEND_UNCERTAIN, f"request:{req.id}", now=now)
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
