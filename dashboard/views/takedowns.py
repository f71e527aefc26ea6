"""Takedowns: open requests by recipient and age, reminders due, outcomes, time to down."""

from __future__ import annotations

import itertools

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from dashboard.ui import UI
from dashboard.views.triage import open_candidate
from watcher.core.texts import t

# Time-to-down buckets in hours: most phishing sites go within a day or two, or not for weeks.
BUCKETS = (0, 6, 12, 24, 48, 72, 168, 336, float("inf"))


def render(ui: UI) -> None:
    st.header(ui.t("v_takedowns"))
    now = ui.ctx.now().replace(second=0, microsecond=0)
    ov = data.takedown_overview(ui.db, now, ui.settings.takedown.remind_after_hours)

    if ov["findings"]:  # a request that will not go out by itself comes first
        st.markdown(f"#### {ui.t('takedown_findings')}")
        for f in ov["findings"]:
            st.error(f"**{widgets.esc(widgets.label(ui, 'fk', f['kind']))}** · {widgets.esc(widgets.finding_subject(f['subject']))} — "
                     f"{widgets.esc(widgets.finding_title(ui, f))} ({ui.t('opened')} {widgets.when(f['opened_at'])})")

    st.markdown(f"#### {ui.t('outcomes')}")
    outcomes = ov["outcomes"]
    cols = st.columns(max(1, len(outcomes)))
    for col, (status, n) in zip(cols, sorted(outcomes.items()), strict=False):
        col.metric(widgets.word(ui, "request", status), f"{n:,}")
    if not outcomes:
        st.caption(ui.t("no_data"))

    left, right = st.columns(2)
    with left:
        st.markdown(f"#### {ui.t('open_by_recipient')}")
        rows = [{**r, "age": widgets.age_hours(r["oldest"], now),
                 "recipient_name": widgets.recipient_name(ui, r["recipient_name"], r["recipient_kind"]),
                 "recipient_kind": widgets.word(ui, "recipient", r["recipient_kind"])} for r in ov["by_recipient"]]
        widgets.table(rows, {"recipient_name": ui.t("recipient"), "recipient": ui.t("address"),
                             "recipient_kind": ui.t("kind"),
                             "count": ui.t("count"), "age": ui.t("oldest") + " · " + ui.t("age_hours")},
                      key="by_recipient", empty=ui.t("no_data"))
    with right:
        st.markdown(f"#### {ui.t('time_to_down')}")
        _ttd_chart(ui, ov["ttd"])

    st.markdown(f"#### {ui.t('td_cases')}")
    cases = [{**r, "mode": t(f"takedown.mode.{r['mode']}", ui.lang) if r["mode"] else "",
              "status": widgets.word(ui, "status", r["status"])} for r in ov["cases"]]
    widgets.table(cases, {"domain": ui.t("col_domain"), "status": ui.t("status"), "mode": ui.t("td_mode"),
                          "requests": ui.t("count"), "blocklists": ui.t("td_listed"),
                          "time_to_blocklisted_min": ui.t("td_blocklisted"), "time_to_down_h": ui.t("td_down"),
                          "ticket": ui.t("td_ticket"), "failed": ui.t("td_failed"),
                          "needs_person": ui.t("td_needs_person")},
                  key="td_cases", empty=ui.t("no_data"))
    if ov["needs_person"]:
        st.warning(ui.t("td_needs_person") + ": " + ", ".join(f"TD-{r['id']} {r['domain']} ({r['recipient']})"
                                                              for r in ov["needs_person"]))

    st.markdown(f"#### {ui.t('reminders_due')}")
    widgets.table(ov["reminders"], {"id": ui.t("col_id"), "domain": ui.t("col_domain"),
                                    "recipient": ui.t("recipient"), "sent_at": ui.t("sent_at"),
                                    "reminders_sent": ui.t("reminders_n"), "last_reminder_at": ui.t("last_reminder")},
                  key="reminders", empty=ui.t("none"))

    st.markdown(f"#### {ui.t('open_requests')}")
    offset = int(st.session_state.get("page_requests", 0)) * ui.page_size
    page, total = data.open_requests_page(ui.db, ui.page_size, offset)
    for r in page:
        r["age"] = widgets.age_hours(r["created_at"], now)
        r["status"] = widgets.word(ui, "request", r["status"])
        r["recipient_kind"] = widgets.word(ui, "recipient", r["recipient_kind"])
        r["channel"] = widgets.word(ui, "channel", r["channel"])
    widgets.table(page, {"id": ui.t("col_id"), "domain": ui.t("col_domain"), "recipient": ui.t("recipient"),
                         "recipient_kind": ui.t("kind"), "channel": ui.t("channel"), "status": ui.t("status"),
                         "age": ui.t("age_hours"), "reminders_sent": ui.t("reminders_n"),
                         "escalation_level": ui.t("escalation")},
                  key="open_requests", empty=ui.t("none"))
    widgets.pager(ui, "requests", total)
    if page:
        labels = {r["candidate_id"]: r["domain"] for r in page}
        c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
        c1.selectbox(ui.t("open_candidate"), list(labels), format_func=labels.__getitem__, key="td_pick")
        c2.button(ui.t("open"), key="td_open", on_click=open_candidate, args=("td_pick",))


def _ttd_chart(ui: UI, hours: list[float]) -> None:
    if not hours:
        st.caption(ui.t("no_data"))
        return
    labels = [f"<{int(hi)}h" if hi != float("inf") else f"≥{int(lo)}h" for lo, hi in itertools.pairwise(BUCKETS)]
    counts = [sum(1 for h in hours if lo <= h < hi) for lo, hi in itertools.pairwise(BUCKETS)]
    df = pd.DataFrame({ui.t("time_to_down"): labels, ui.t("count"): counts})
    st.bar_chart(df, x=ui.t("time_to_down"), y=ui.t("count"), sort=False)
    s = pd.Series(hours)
    st.caption(ui.t("ttd_summary", n=len(hours), median=f"{s.median():.1f}", p90=f"{s.quantile(0.9):.1f}"))
