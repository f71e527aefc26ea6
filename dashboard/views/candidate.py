"""One candidate: what it is, why omamori thinks so, what it looks like next to our page, what to do.

Layout follows the decision: screenshot beside the official page first, then the reasons with their
points, then the facts that back them (page, DNS, RDAP, hosting), the history, and the actions last;
a confirmation shows the drafted requests exactly as they will be sent before anything is sent.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import actions, data, widgets
from dashboard.ui import UI
from dashboard.views import requests as request_panel
from watcher.capture.triage import ALLOWED, DECISIONS
from watcher.core.models import CandidateStatus
from watcher.core.reasons import reason_text


def _pick_from_input() -> None:
    st.session_state["candidate_id"] = st.session_state.get("cand_input")


def render(ui: UI) -> None:
    st.header(ui.t("v_candidate"))
    cid = st.session_state.get("candidate_id")
    # The box follows the candidate opened elsewhere (set before the widget is drawn, so no conflict).
    if st.session_state.get("cand_input") != cid:
        st.session_state["cand_input"] = cid
    st.number_input(ui.t("candidate_id"), min_value=1, step=1, key="cand_input", on_change=_pick_from_input)
    if not cid:
        st.info(ui.t("pick_candidate"))
        return
    bundle = data.candidate_bundle(ui.db, int(cid))
    if bundle is None:
        st.warning(ui.t("not_found"))
        return
    cand = bundle["candidate"]
    snap = bundle["snapshot"]
    _summary(ui, cand)
    _evidence_note(ui, snap, bundle.get("latest"))
    _screenshots(ui, cand, snap)
    _reasons(ui, cand, snap)
    _facts(ui, snap)
    _timeline(ui, bundle)
    _actions(ui, cand, snap)
    request_panel.render(ui, cand, bundle["requests"])


def _summary(ui: UI, cand: dict[str, Any]) -> None:
    widgets.name_heading(ui, cand["domain"])
    brand = next((b for b in data.brands(ui.db) if b["id"] == cand["brand_id"]), None)
    brand_name = (brand["name_ja"] if ui.lang == "ja" and brand["name_ja"] else brand["name"]) if brand else "—"
    score, facts = st.columns([1, 5])
    score.metric(ui.t("col_score"), cand["score"])
    # Badges, not metrics: long Japanese values would be cut off in metric tiles.
    colour = {"phishing": "red", "suspicious": "orange", "parked": "gray", "benign": "green"}.get(
        str(cand["verdict"]), "blue")
    facts.markdown(
        f"{ui.t('status')}: :blue-badge[{widgets.status_label(ui, cand['status'])}] · "
        f"{ui.t('verdict')}: :{colour}-badge[{widgets.verdict_label(ui, cand['verdict'])}] · "
        f"{ui.t('source')}: :gray-badge[{widgets.word(ui, 'source', cand['source'])}] · {ui.t('brand')}: **{brand_name}**")
    st.caption(f"{ui.t('col_first_seen')}: {widgets.when(cand['first_seen_at'])} · "
               f"{ui.t('col_last_checked')}: {widgets.when(cand['last_checked_at']) or '—'}")


def _evidence_note(ui: UI, evidence: dict[str, Any] | None, latest: dict[str, Any] | None) -> None:
    """When the site is gone, say that what follows is the proof kept from when it was live."""
    if not evidence or not latest or latest["id"] == evidence["id"]:
        return
    if evidence.get("reachable") and not evidence.get("gone"):
        st.info(ui.t("evidence_kept", at=widgets.when(evidence["taken_at"]), score=evidence["score"],
                     latest=widgets.when(latest["taken_at"]),
                     state=widgets.verdict_label(ui, latest["verdict"])))


def _references(ui: UI, brand_id: int | None) -> list[dict[str, Any]]:
    """The brand's reference captures (the login page first, as watcher.capture.references stores them)."""
    brand = next((b for b in data.brands(ui.db) if b["id"] == brand_id), None)
    return [r for r in (brand or {}).get("references") or [] if r.get("screenshot_sha256")]


def _screenshots(ui: UI, cand: dict[str, Any], snap: dict[str, Any] | None) -> None:
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{ui.t('screenshot')}**")
        sha = (snap or {}).get("screenshot_sha256", "")
        widgets.evidence_image(ui, sha, widgets.when((snap or {}).get("taken_at")), ui.t("no_screenshot"))
    with right:
        refs = _references(ui, cand["brand_id"])
        # The picker is drawn under the picture (so both pictures line up); its last value picks it.
        i = min(int(st.session_state.get("ref_pick") or 0), max(len(refs) - 1, 0))
        ref = refs[i] if refs else {}
        st.markdown(f"**{ui.t('official_page', url=ref.get('url', '—'))}**")
        widgets.evidence_image(ui, ref.get("screenshot_sha256", ""), ref.get("url", ""), ui.t("no_screenshot"))
        if len(refs) > 1:
            labels = [f"{r.get('url', '')} ({widgets.label(ui, 'profile', r.get('profile') or 'desktop')})" for r in refs]
            st.selectbox(ui.t("official_page", url=""), range(len(refs)), format_func=labels.__getitem__,
                         key="ref_pick", label_visibility="collapsed")


def _reasons(ui: UI, cand: dict[str, Any], snap: dict[str, Any] | None) -> None:
    st.markdown(f"#### {ui.t('reasons')}")
    # Discovery reasons (why it was found) and the latest snapshot's (what the page showed).
    reasons = list(cand["reasons"] or []) + list((snap or {}).get("reasons") or [])
    reasons.sort(key=lambda r: -int(r.get("points", 0) or 0))
    rows = [{"points": r.get("points", 0), "said": reason_text(r, ui.lang)} for r in reasons]
    widgets.table(rows, {"points": ui.t("points"), "said": ui.t("detail")}, key="reasons_table",
                  empty=ui.t("none"), wrap=("said",))


def _facts(ui: UI, snap: dict[str, Any] | None) -> None:
    st.markdown(f"#### {ui.t('page_facts')}")
    cap = (snap or {}).get("capture") or {}
    forms = [f for f in cap.get("forms") or [] if isinstance(f, dict) and f.get("action")]
    # Where a password goes is the strongest single fact: say so next to the target.
    targets = sorted({f"{str(f.get('method', 'get')).upper()} {f['action']}"
                      + (f" ({ui.t('password')})" if f.get("has_password") or f.get("password") else "") for f in forms})
    redirects = cap.get("redirects") or []
    facts = [
        (ui.t("final_url"), cap.get("final_url", "")),
        (ui.t("title"), cap.get("title", "")),
        (ui.t("redirects"), " → ".join(str(r.get("url", r)) if isinstance(r, dict) else str(r) for r in redirects)),
        (ui.t("form_targets"), ", ".join(targets)),
    ]
    st.table({ui.t("kind"): [k for k, _ in facts], ui.t("detail"): [v or "—" for _, v in facts]})
    tabs = st.tabs([ui.t("certificate"), ui.t("dns"), ui.t("rdap"), ui.t("hosting")])
    with tabs[0]:
        widgets.json_block(cap.get("tls") or cap.get("certificate"), ui.t("none"))
    with tabs[1]:
        widgets.json_block((snap or {}).get("dns"), ui.t("none"))
    with tabs[2]:
        widgets.json_block((snap or {}).get("rdap"), ui.t("none"))
    with tabs[3]:
        widgets.json_block((snap or {}).get("hosting"), ui.t("none"))


def _check_said(ui: UI, snap: dict[str, Any]) -> str:
    """What a check found, in the reader's language: why the site is gone (its catalogue reason), else
    the capture's error as the server gave it."""
    gone = next((r for r in snap.get("reasons") or [] if isinstance(r, dict) and r.get("kind") == "gone"), None)
    return reason_text(gone, ui.lang) if gone else str(snap.get("error") or "")


def _timeline(ui: UI, bundle: dict[str, Any]) -> None:
    st.markdown(f"#### {ui.t('timeline')}")
    left, right = st.columns(2)
    with left:
        st.caption(ui.t("snapshots"))
        snaps = [{**r, "verdict": widgets.verdict_label(ui, r["verdict"]), "error": _check_said(ui, r)}
                 for r in bundle["snapshots"]]
        widgets.table(snaps, {"taken_at": ui.t("at"), "score": ui.t("col_score"),
                                            "verdict": ui.t("verdict"), "reachable": "HTTP",
                                            "error": ui.t("detail")}, key="snap_table", empty=ui.t("none"))
    with right:
        st.caption(ui.t("events"))
        events = [widgets.event_row(ui, e) for e in bundle["events"] + bundle["request_events"]]
        events.sort(key=lambda e: e["at"], reverse=True)
        widgets.table(events, {"at": ui.t("at"), "actor": ui.t("actor"), "action": ui.t("kind"),
                               "said": ui.t("detail")}, key="event_table", empty=ui.t("none"), wrap=("said",))


def _allowed(cand: dict[str, Any], decision: str) -> bool:
    status = CandidateStatus(cand["status"])
    return DECISIONS[decision] in ALLOWED[status] and DECISIONS[decision] != status


# Verdicts for which "confirm as phishing" is not the natural next step: the page shows no phishing.
NOT_PHISHING = ("parked", "suspended", "benign", "unreachable")


def _actions(ui: UI, cand: dict[str, Any], snap: dict[str, Any] | None) -> None:
    st.markdown(f"#### {ui.t('actions')}")
    cid = int(cand["id"])
    if not ui.can("analyst"):
        st.caption(ui.t("needs_role", role=ui.role_name("analyst")))
        return
    page_kind = str(((snap or {}).get("capture") or {}).get("page_kind") or "")
    # The primary action follows the verdict: a parked or for-sale page is watched or dismissed; only
    # a page that looks like phishing offers confirmation first.
    not_phishing = str(cand["verdict"]) in NOT_PHISHING or page_kind in ("parked", "for_sale", "empty", "suspended")
    primary = "watch" if not_phishing and _allowed(cand, "watch") else (
        "dismiss" if not_phishing else "confirm")
    closed = str(cand["status"]) in ("dismissed", "down")
    if closed:  # a closed case is decided: the one thing left to do is to reopen it
        primary = "reopen" if _allowed(cand, "reopen") else ""
    elif not_phishing:
        st.info(ui.t("not_phishing_hint", verdict=widgets.verdict_label(ui, cand["verdict"])))
    st.text_input(ui.t("reason"), key=f"reason_{cid}")
    b = st.columns([3, 1.2, 1.2, 1.4, 1.4])
    can_confirm = _allowed(cand, "confirm") and ui.can("approver")
    confirm_help = None if ui.can("approver") else ui.t("needs_role", role=ui.role_name("approver"))
    if str(cand["status"]) == "reported":
        confirm_help = ui.t("already_reported")
    # Confirming opens a second step (what the letters will claim, to whom); it sends nothing yet.
    b[0].button(ui.t("confirm_review"), key="act_confirm", type="primary" if primary == "confirm" else "secondary",
                disabled=not can_confirm, help=confirm_help, on_click=_open_review, args=(cid,))
    b[1].button(ui.t("watch"), key="act_watch", disabled=not _allowed(cand, "watch"),
                type="primary" if primary == "watch" else "secondary",
                on_click=_decide, args=(ui, cid, "watch", f"reason_{cid}"))
    b[2].button(ui.t("dismiss"), key="act_dismiss", disabled=not _allowed(cand, "dismiss"),
                type="primary" if primary == "dismiss" else "secondary",
                on_click=_decide, args=(ui, cid, "dismiss", f"reason_{cid}"))
    b[3].button(ui.t("reopen"), key="act_reopen", disabled=not _allowed(cand, "reopen"),
                type="primary" if primary == "reopen" else "secondary",
                on_click=_decide, args=(ui, cid, "reopen", f"reason_{cid}"))
    b[4].button(ui.t("recheck"), key="act_recheck", on_click=_recheck, args=(ui, cid))
    widgets.action_result()
    if st.session_state.get(REVIEW) == cid and can_confirm:
        _review(ui, cand, not_phishing)
    _evidence_bundle(ui, cid)
    with st.form(f"note_{cid}", clear_on_submit=True):
        text = st.text_area(ui.t("note"), key=f"note_text_{cid}", height=80)
        if st.form_submit_button(ui.t("add_note")) and text.strip():
            actions.note(ui, cid, text)
            st.rerun()


REVIEW = "confirm_review"
# The names takedown.contacts gives a recipient it knows only by its kind: the kind, shown beside, says it.
GENERIC = widgets.GENERIC_RECIPIENTS


def _open_review(cid: int) -> None:
    st.session_state[REVIEW] = cid


def _close_review() -> None:
    st.session_state.pop(REVIEW, None)


def _review(ui: UI, cand: dict[str, Any], not_phishing: bool) -> None:
    """The second step: the claims the letters will make, the recipients, and who is missing and why."""
    cid = int(cand["id"])
    with st.container(border=True):
        st.markdown(f"##### {ui.t('confirm_review_title')}")
        p = actions.preview_confirm(ui, cid)
        if p is None:
            return
        if p.refused:
            st.error(ui.t("already_reported"))
            st.button(ui.t("cancel"), key="act_confirm_cancel", on_click=_close_review)
            return
        if not_phishing:
            st.warning(ui.t("confirm_not_phishing_warning", verdict=widgets.verdict_label(ui, cand["verdict"])))
        st.markdown(f"**{ui.t('letter_claims')}**")
        claims = [reason_text(r, ui.lang) for r in p.claims]
        st.markdown("\n".join(f"- {widgets.esc(c)}" for c in claims) if claims else ui.t("none"))
        st.markdown(f"**{ui.t('letter_recipients')}**")
        if p.recipients:
            st.markdown("\n".join(f"- {widgets.esc('' if r.name in GENERIC else r.name)} "
                                   f"<{widgets.esc(r.email or r.form_url)}> · {widgets.word(ui, 'recipient', r.kind)}"
                                   for r in p.recipients))
        else:
            st.warning(ui.t("no_recipient"))
        for kind, why in p.missing:
            st.warning(ui.t("recipient_missing", kind=widgets.word(ui, "recipient", kind), why=why.render(ui.lang)))
        c1, c2 = st.columns([2, 1])
        c1.button(ui.t("confirm"), key="act_confirm_go", type="primary",
                  on_click=_decide, args=(ui, cid, "confirm", f"reason_{cid}"))
        c2.button(ui.t("cancel"), key="act_confirm_cancel", on_click=_close_review)


def _evidence_bundle(ui: UI, cid: int) -> None:
    """For investigators (IV.6(3)): the case's evidence zip with its signed manifest, on demand."""
    key = f"bundle_{cid}"
    if st.button(ui.t("export_case"), key="act_export_case", help=ui.t("export_case_help")):
        st.session_state[key] = actions.export_case(ui, cid)
    made = st.session_state.get(key)
    if made:
        st.download_button(ui.t("download"), data=made[1], file_name=made[0], mime="application/zip",
                           key="dl_export_case")


def _recheck(ui: UI, cid: int) -> None:  # a button callback: Streamlit ignores its return value
    actions.recheck(ui, cid)


def _decide(ui: UI, cid: int, decision: str, reason_key: str) -> None:
    reason = str(st.session_state.get(reason_key, ""))
    if decision == "dismiss" and not reason.strip():
        actions.refused(ui, cid, decision, ui.t("reason_required"))
        return
    if actions.decide(ui, cid, decision, reason):
        st.session_state[reason_key] = ""
        _close_review()
