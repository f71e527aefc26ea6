"""The first view: what needs me now.

Decisions waiting for a person, cases in flight with their age, what omamori handled by itself since
this person last looked (each with a link), and the firm's own-domain findings by severity. Every
count is a button into the list it counts, filtered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import streamlit as st

from dashboard import actions, data, widgets
from dashboard.ui import UI
from dashboard.views.triage import WAITING, show_candidate, show_list
from watcher.core.models import MOST_SEVERE_FIRST

SINCE = "_home_since"


def _go(view: str, **state: object) -> None:
    for k, v in state.items():
        st.session_state[k] = v
    st.session_state["nav"] = view


def _since(ui: UI) -> datetime:
    """Since when "handled automatically" counts: this person's previous visit (fixed for the session)."""
    if SINCE not in st.session_state:
        last = data.last_looked(ui.db, ui.actor)
        st.session_state[SINCE] = (last or ui.ctx.now() - timedelta(days=1)).replace(microsecond=0)
        actions.looked(ui)
    since: datetime = st.session_state[SINCE]
    return since


def render(ui: UI) -> None:
    st.header(ui.t("v_home"))
    since = _since(ui)
    d = data.needs_me(ui.db, since)
    c = d["counts"]
    now = ui.ctx.now()

    st.markdown(f"#### {ui.t('home_decisions')}")
    cols = st.columns(4)
    cols[0].button(ui.t("home_waiting", n=c["waiting"], likely=c["waiting_likely"]), key="home_waiting",
                   type="primary" if c["waiting"] else "secondary", width="stretch",
                   on_click=show_list, args=(WAITING,))
    cols[1].button(ui.t("home_drafts", n=c["drafts"]), key="home_drafts", width="stretch",
                   type="primary" if c["drafts"] else "secondary", on_click=show_list, args=(("confirmed",),))
    cols[2].button(ui.t("home_stuck", n=c["stuck"]), key="home_stuck", width="stretch",
                   type="primary" if c["stuck"] else "secondary", on_click=_go, args=("takedowns",))
    cols[3].button(ui.t("home_in_flight", n=c["in_flight"]), key="home_in_flight", width="stretch",
                   on_click=show_list, args=(("confirmed", "reported"),))

    st.markdown(f"#### {ui.t('home_owned')}")
    owned = c["owned"]
    for col, sev in zip(st.columns(len(MOST_SEVERE_FIRST)), MOST_SEVERE_FIRST, strict=True):
        col.button(f"{widgets.word(ui, 'severity', sev)}: {owned.get(sev, 0)}", key=f"home_sev_{sev}", width="stretch",
                   type="primary" if sev in ("critical", "high") and owned.get(sev) else "secondary",
                   on_click=_go, args=("owned",), kwargs={"owned_severity": sev})

    left, right = st.columns(2)
    with left:
        st.markdown(f"#### {ui.t('home_in_flight_title')}")
        rows = [{**r, "shown": widgets.name_cell(ui, r["domain"])[0],
                 "status_l": widgets.status_label(ui, r["status"]),
                 "age": widgets.age_hours(r["confirmed_at"] or r["first_seen_at"], now)} for r in d["in_flight"]]
        widgets.table(rows, {"shown": ui.t("col_domain"), "status_l": ui.t("status"), "age": ui.t("age_hours")},
                      key="home_flight", empty=ui.t("none"), on_pick=show_candidate)
    with right:
        st.markdown(f"#### {ui.t('home_auto', since=widgets.when(since))}")
        auto = d["auto"]
        if not auto:
            st.caption(ui.t("none"))
        counts: dict[str, int] = {}
        for r in auto:
            counts[r["to"]] = counts.get(r["to"], 0) + 1
        if counts:
            st.markdown(" · ".join(f"{widgets.status_label(ui, k)}: **{n}**" for k, n in counts.items()))
        for i, r in enumerate(auto[:20]):
            st.button(f"{widgets.when(r['at'])} · {widgets.name_cell(ui, r['domain'])[0]} → "
                      f"{widgets.status_label(ui, r['to'])}", key=f"home_auto_{i}", type="tertiary",
                      on_click=show_candidate, args=(r["id"],))
