"""Triage queue: what waits for a person, highest score first; counts per status on top."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from dashboard import actions, data, widgets
from dashboard.queries import CLOSED_STATUSES
from dashboard.ui import UI
from watcher.core.models import CandidateStatus, Source, Verdict

AGES: dict[str, timedelta | None] = {"age_any": None, "age_1d": timedelta(days=1), "age_7d": timedelta(days=7),
                                     "age_30d": timedelta(days=30)}
WAITING = (CandidateStatus.NEW.value, CandidateStatus.CHECKED.value)
# Quick scopes over the status filter: what waits for a decision, what is live, what is over.
SCOPES: dict[str, tuple[str, ...]] = {
    "scope_waiting": WAITING,
    "queue_live": tuple(s.value for s in CandidateStatus if s.value not in CLOSED_STATUSES),
    "queue_closed": CLOSED_STATUSES,
    "queue_all": (),
}


def _apply_scope() -> None:
    st.session_state["f_status"] = list(SCOPES[st.session_state.get("f_scope") or "queue_all"])
    widgets.reset_pager("queue")


def show_list(statuses: tuple[str, ...], **filters: object) -> None:
    """Callback: open the triage list filtered (the first view's counts link here)."""
    st.session_state["f_status"] = list(statuses)
    scope = next((k for k, v in SCOPES.items() if set(v) == set(statuses)), None)
    if scope is not None:
        st.session_state["f_scope"] = scope
    for k, v in filters.items():
        st.session_state[k] = v
    widgets.reset_pager("queue")
    st.session_state["nav"] = "triage"


def show_candidate(candidate_id: int) -> None:
    st.session_state["candidate_id"] = candidate_id
    st.session_state["nav"] = "candidate"


def open_candidate(picker_key: str) -> None:
    """Callback: switch to the candidate view (widget state may only change before the run draws it).

    It reads the picker's current value rather than taking the id as an argument: arguments are bound
    when the button is drawn, which can be before the picker last changed.
    """
    st.session_state["candidate_id"] = st.session_state.get(picker_key)
    st.session_state["nav"] = "candidate"


def render(ui: UI) -> None:
    st.header(ui.t("v_triage"))
    counts = data.status_counts(ui.db)
    cols = st.columns(len(CandidateStatus))
    for col, status in zip(cols, CandidateStatus, strict=True):
        col.metric(widgets.status_label(ui, status.value), f"{counts.get(status.value, 0):,}")

    brands = data.brands(ui.db)
    brand_names = {b["id"]: (b["name_ja"] if ui.lang == "ja" and b["name_ja"] else b["name"]) for b in brands}
    st.segmented_control(ui.t("queue_scope"), list(SCOPES), key="f_scope", default="scope_waiting",
                         format_func=ui.t, on_change=_apply_scope)
    with st.expander(ui.t("filters"), expanded=True):
        c1, c2, c3 = st.columns(3)
        brand_id = c1.selectbox(ui.t("brand"), [None, *brand_names], key="f_brand",
                                format_func=lambda b: ui.t("all") if b is None else brand_names[b],
                                on_change=widgets.reset_pager, args=("queue",))
        statuses = c2.multiselect(ui.t("status"), [s.value for s in CandidateStatus], default=list(WAITING),
                                  placeholder=ui.t("all"),
                                  key="f_status", format_func=lambda s: widgets.status_label(ui, s),
                                  on_change=widgets.reset_pager, args=("queue",))
        age = c3.selectbox(ui.t("age"), list(AGES), key="f_age", format_func=ui.t,
                           on_change=widgets.reset_pager, args=("queue",))
        c4, c5, c6 = st.columns(3)
        sources = c4.multiselect(ui.t("source"), [s.value for s in Source], key="f_source", placeholder=ui.t("all"),
                                 format_func=lambda s: widgets.word(ui, "source", s),
                                 on_change=widgets.reset_pager, args=("queue",))
        verdicts = c5.multiselect(ui.t("verdict"), [v.value for v in Verdict], key="f_verdict", placeholder=ui.t("all"),
                                  format_func=lambda v: widgets.verdict_label(ui, v),
                                  on_change=widgets.reset_pager, args=("queue",))
        contains = c6.text_input(ui.t("search_domain"), key="f_contains", on_change=widgets.reset_pager,
                                 args=("queue",))

    delta = AGES[age]
    # Rounded to the minute so the cache key (and the cached page) is stable between clicks.
    since = None if delta is None else (ui.ctx.now() - delta).replace(second=0, microsecond=0)
    limit = ui.page_size
    offset = int(st.session_state.get("page_queue", 0)) * limit
    rows, total = data.queue_page(ui.db, tuple(statuses), brand_id, tuple(sources), tuple(verdicts), since,
                                  contains, limit, offset)
    if offset and not rows and total:
        widgets.reset_pager("queue")
        st.rerun()
    for r in rows:
        r["brand"] = brand_names.get(r["brand_id"], "")
        r["status_l"] = widgets.status_label(ui, r["status"])
        r["verdict_l"] = widgets.verdict_label(ui, r["verdict"])
        r["source_l"] = widgets.word(ui, "source", r["source"])
        r["shown"], r["warning"] = widgets.name_cell(ui, r["domain"])
    widgets.table(rows, {"id": ui.t("col_id"), "shown": ui.t("col_domain"), "warning": ui.t("col_warning"),
                         "score": ui.t("col_score"),
                         "status_l": ui.t("status"), "verdict_l": ui.t("verdict"), "source_l": ui.t("source"),
                         "brand": ui.t("brand"), "first_seen_at": ui.t("col_first_seen"),
                         "last_checked_at": ui.t("col_last_checked")},
                  key="queue_table", empty=ui.t("queue_empty"), on_pick=show_candidate)
    if rows:
        st.caption(ui.t("row_hint"))
    widgets.pager(ui, "queue", total)

    if rows:
        labels = {r["id"]: f"{r['shown']}  ({r['score']})" for r in rows}
        c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
        c1.selectbox(ui.t("open_candidate"), list(labels), format_func=labels.__getitem__, key="pick")
        c2.button(ui.t("open"), key="open_btn", type="primary", on_click=open_candidate, args=("pick",))

    _submit_form(ui)


def _submit_form(ui: UI) -> None:
    """A URL someone saw (a customer's call, a colleague's mail): into discovery like any other report."""
    if not ui.can("analyst"):
        return
    with st.expander(ui.t("submit_title")):
        with st.form("submit_url", clear_on_submit=True):
            url = st.text_input(ui.t("submit_url"), key="submit_url_text")
            note = st.text_input(ui.t("submit_note"), key="submit_note_text")
            sent = st.form_submit_button(ui.t("submit_button"))
        if sent and url.strip():
            actions.submit_url(ui, url.strip(), note)
            st.rerun()
