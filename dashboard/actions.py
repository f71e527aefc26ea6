"""Every write the dashboard makes, each through a ``watcher`` function, as the signed-in user.

The dashboard never changes a row itself: ``watcher.capture.triage`` moves statuses and writes notes,
``watcher.takedowns.requests`` confirms, drafts, approves and withdraws requests, ``watcher.discovery.intake`` takes a
reported URL. Those functions write the audit Event with ``actor="dashboard:<user>"``.

The role is checked here as well as by hiding buttons, because a hidden button is not a permission.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import streamlit as st
from sqlmodel import Session

from dashboard import data
from dashboard.ui import UI, flash
from dashboard.widgets import esc
from watcher.capture import snapshot, triage
from watcher.context import Context
from watcher.core import findings
from watcher.core.events import record
from watcher.core.models import Candidate, TakedownRequest
from watcher.discovery import intake
from watcher.sharing import evidence
from watcher.takedowns import requests
from watcher.takedowns.requests import AlreadyReported, TakedownError

log = logging.getLogger("omamori.dashboard")

# Who may do what: viewer reads; analyst triages; approver confirms and sends; admin everything.
ROLES: dict[str, str] = {
    "watch": "analyst", "dismiss": "analyst", "reopen": "analyst", "note": "analyst", "recheck": "analyst",
    "submit": "analyst", "attach_reply": "analyst", "export_case": "analyst",
    "confirm": "approver", "draft": "approver", "approve": "approver", "approve_all": "approver",
    "withdraw": "approver", "mark_submitted": "approver", "resend": "approver",
    # Accepting a risk closes a finding until its facts change: the same weight as confirming.
    "accept_finding": "approver", "reopen_finding": "analyst",
}


class Forbidden(PermissionError):
    pass


def _check(ui: UI, action: str) -> None:
    role = ROLES[action]
    if not ui.can(role):
        raise Forbidden(ui.t("needs_role", role=ui.role_name(role)))


def _run(ui: UI, action: str, work: Callable[[Session], str | None],
         obj: tuple[str, int | None] | None = None) -> bool:
    """Run one write in one transaction; show the outcome beside the button and as a toast; clear
    the caches. A refusal is recorded too (``action.refused``): the audit log has every attempt."""
    try:
        _check(ui, action)
        with ui.ctx.transaction() as session:
            message = work(session)
    except AlreadyReported:
        refused(ui, obj[1] if obj else None, action, ui.t("already_reported"), obj=obj)
        return False
    except Exception as e:  # shown to the person, who can correct and retry; nothing half-written
        why = e.said.render(ui.lang) if isinstance(e, TakedownError | triage.InvalidTransition | findings.FindingDecisionError) else str(e) or type(e).__name__
        refused(ui, obj[1] if obj else None, action, ui.t("failed", error=esc(why)),
                obj=obj)
        return False
    data.clear()
    flash("success", message or ui.t("done"))
    return True


def refused(ui: UI, object_id: int | None, action: str, message: str,
            obj: tuple[str, int | None] | None = None) -> None:
    """An action that did not happen: said beside its button, and kept in the audit log."""
    flash("error", message)
    try:
        with ui.ctx.transaction() as session:
            record(session, ui.actor, "action.refused", obj or ("candidate", object_id),
                   {"action": action, "message": message[:500]}, at=ui.ctx.now())
    except Exception:  # the database is away: the person still sees the message
        log.exception("could not record a refused %s", action)


def _candidate(session: Session, candidate_id: int) -> Candidate:
    cand = session.get(Candidate, candidate_id)
    if cand is None:
        raise LookupError(f"candidate {candidate_id} not found")
    return cand


def _request(session: Session, request_id: int) -> TakedownRequest:
    req = session.get(TakedownRequest, request_id)
    if req is None:
        raise LookupError(f"request {request_id} not found")
    return req


# ---------------------------------------------------------------- candidate decisions


def decide(ui: UI, candidate_id: int, decision: str, reason: str = "") -> bool:
    if decision == "confirm":
        return confirm(ui, candidate_id, reason)

    def work(s: Session) -> str:
        triage.decide(s, _candidate(s, candidate_id), decision, actor=ui.actor, reason=reason, now=ui.ctx.now())
        return ui.t(f"decided_{decision}")

    return _run(ui, decision, work, ("candidate", candidate_id))


def confirm(ui: UI, candidate_id: int, reason: str = "") -> bool:
    """Confirm as phishing and draft the takedown requests (``watcher.takedowns.requests.confirm``)."""
    def work(s: Session) -> str | None:
        drafts = requests.confirm(ui.ctx, s, _candidate(s, candidate_id), actor=ui.actor, reason=reason)
        return ui.t("confirmed_drafts", n=len(drafts)) if drafts else ui.t("confirmed_no_drafts")

    return _run(ui, "confirm", work, ("candidate", candidate_id))


def preview_confirm(ui: UI, candidate_id: int) -> requests.ConfirmPreview | None:
    """The confirmation's second step (nothing written): claims, recipients, who is missing and why."""
    try:
        with ui.ctx.session() as s:
            return requests.preview_confirm(ui.ctx, s, _candidate(s, candidate_id))
    except Exception as e:  # an RDAP lookup failed: say so where the preview would be
        st.error(ui.t("failed", error=esc(str(e) or type(e).__name__)))
        return None


def draft(ui: UI, candidate_id: int) -> bool:
    def work(s: Session) -> None:
        requests.draft_requests(ui.ctx, s, _candidate(s, candidate_id), actor=ui.actor)

    return _run(ui, "draft", work)


def note(ui: UI, candidate_id: int, text: str) -> bool:
    def work(s: Session) -> None:
        triage.add_note(s, _candidate(s, candidate_id), text, actor=ui.actor, now=ui.ctx.now())

    return _run(ui, "note", work)


# Re-checks started from the dashboard and still running (tests join them; the UI never waits).
RECHECKS: list[threading.Thread] = []


def recheck(ui: UI, candidate_id: int) -> bool:
    """Record the request (the snapshot job takes it on its next pass) and start the check at once.

    The check itself (DNS, RDAP, a browser capture) takes seconds to tens of seconds, so it runs in a
    thread rather than freezing the person's page; its Snapshot appears in the timeline when done.
    If it fails, nothing is lost: the candidate is due now, so the job checks it anyway.
    """
    def work(s: Session) -> str:
        triage.recheck_now(s, _candidate(s, candidate_id), actor=ui.actor, now=ui.ctx.now())
        return ui.t("recheck_started")

    ok = _run(ui, "recheck", work)
    if ok:
        t = threading.Thread(target=_recheck_in_background, args=(ui.ctx, candidate_id, ui.actor),
                             name=f"recheck-{candidate_id}", daemon=True)
        RECHECKS[:] = [r for r in RECHECKS if r.is_alive()]
        RECHECKS.append(t)
        t.start()
    return ok


def _recheck_in_background(ctx: Context, candidate_id: int, actor: str) -> None:
    try:
        snapshot.check_candidate(ctx, candidate_id, actor=actor)
    except Exception:  # the candidate stays due; the snapshot job retries and records the failure
        log.exception("re-check of candidate %s failed; the snapshot job will retry", candidate_id)
    data.clear()


# ---------------------------------------------------------------- takedown requests


def approve(ui: UI, request_id: int) -> bool:
    def work(s: Session) -> None:
        requests.approve(ui.ctx, s, _request(s, request_id), actor=ui.actor)

    return _run(ui, "approve", work)


def approve_all(ui: UI, candidate_id: int) -> bool:
    def work(s: Session) -> None:
        requests.approve_all(ui.ctx, s, _candidate(s, candidate_id), actor=ui.actor)

    return _run(ui, "approve_all", work)


def withdraw(ui: UI, request_id: int, reason: str) -> bool:
    def work(s: Session) -> None:
        if not reason.strip():
            raise ValueError(ui.t("reason"))
        requests.withdraw(s, _request(s, request_id), actor=ui.actor, reason=reason, now=ui.ctx.now())

    return _run(ui, "withdraw", work)


def mark_submitted(ui: UI, request_id: int) -> bool:
    """A person has filled the recipient's web form (or checked an uncertain e-mail went out)."""
    def work(s: Session) -> None:
        requests.mark_submitted(ui.ctx, s, _request(s, request_id), actor=ui.actor)

    return _run(ui, "mark_submitted", work)


def resend(ui: UI, request_id: int) -> bool:
    """Queue a failed or uncertain request again (same Message-ID, so a duplicate is recognisable)."""
    def work(s: Session) -> None:
        requests.resend(ui.ctx, s, _request(s, request_id), actor=ui.actor)

    return _run(ui, "resend", work)


def attach_reply(ui: UI, request_id: int, text: str) -> bool:
    def work(s: Session) -> None:
        requests.attach_reply(s, _request(s, request_id), text, actor=ui.actor, now=ui.ctx.now())

    return _run(ui, "attach_reply", work)


# ---------------------------------------------------------------- findings about our domains and mail


def accept_finding(ui: UI, finding_id: int, reason: str) -> bool:
    """Accept a finding's risk (``watcher.core.findings.accept_finding``): closed until its facts change."""
    def work(s: Session) -> str:
        f = findings.accept_finding(s, finding_id, actor=ui.actor, reason=reason, now=ui.ctx.now())
        return ui.t("finding_accepted", id=finding_id, subject=esc(f.subject))

    return _run(ui, "accept_finding", work, ("finding", finding_id))


def reopen_finding(ui: UI, finding_id: int, reason: str = "") -> bool:
    def work(s: Session) -> str:
        f = findings.reopen_finding(s, finding_id, actor=ui.actor, reason=reason, now=ui.ctx.now())
        return ui.t("finding_reopened", id=finding_id, subject=esc(f.subject))

    return _run(ui, "reopen_finding", work, ("finding", finding_id))


# ---------------------------------------------------------------- reports from people


def submit_url(ui: UI, url: str, note_text: str = "", brand: str | None = None) -> bool:
    def work(s: Session) -> str | None:
        # intake records the actor as "<channel>:<reporter>", i.e. "dashboard:<user>".
        out = intake.submit_url(ui.ctx, s, url, reporter=ui.user.name, note=note_text, channel="dashboard",
                                brand=brand)
        if out.skipped:
            raise ValueError(out.skipped)
        return ui.t("submitted", domains=out.candidate.domain if out.candidate else url)

    return _run(ui, "submit", work)


# ---------------------------------------------------------------- the first view


def looked(ui: UI) -> None:
    """This person opened the first view: "handled automatically since you last looked" starts here."""
    try:
        with ui.ctx.transaction() as session:
            record(session, ui.actor, "dashboard.looked", ("user", None), {}, at=ui.ctx.now())
    except Exception:  # not worth an error on screen: next time the window is one day
        log.exception("could not record the visit")


# ---------------------------------------------------------------- evidence for investigators


def export_case(ui: UI, candidate_id: int) -> tuple[str, bytes] | None:
    """The evidence bundle of the candidate's case (zip name, bytes), recorded as exported by this user."""
    try:
        _check(ui, "export_case")
        with ui.ctx.session() as s:
            case_id = _candidate(s, candidate_id).case_id
        if case_id is None:
            raise ValueError(ui.t("not_found"))
        data, _ = evidence.build(ui.ctx, case_id, actor=ui.actor)
    except Exception as e:  # shown to the person; nothing was written but the export's Event
        flash("error", ui.t("failed", error=esc(str(e) or type(e).__name__)))
        return None
    return f"case-{case_id}-evidence.zip", data
