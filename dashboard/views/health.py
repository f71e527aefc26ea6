"""Health: is omamori itself watching? CT logs and positions, jobs, recent failures, self-findings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import streamlit as st

from dashboard import data, widgets
from dashboard.ui import UI
from watcher.core.texts import render_stored
from watcher.schedule import JOBS

RECENT = timedelta(hours=24)  # failures this recent keep the view from saying "no problems"


def _minutes_since(since: datetime | None, now: datetime) -> float | None:
    return None if since is None else round((now - since).total_seconds() / 60, 1)


def render(ui: UI) -> None:
    st.header(ui.t("v_health"))
    h = data.health(ui.db)
    now = ui.ctx.now()

    st.markdown(f"#### {ui.t('self_findings')}")
    # "No problems" only when nothing is open and nothing failed lately: a job that crashed once, or
    # a certstream match that could not be stored, is a problem even if no Finding was opened for it.
    recent = [r for r in h["failures"] if r["at"] is not None and now - r["at"] <= RECENT]
    for f in h["findings"]:
        st.error(f"**{widgets.esc(widgets.label(ui, 'fk', f['kind']))}** · {widgets.esc(widgets.finding_subject(f['subject']))} — "
                 f"{widgets.esc(widgets.finding_title(ui, f))} ({ui.t('opened')} {widgets.when(f['opened_at'])})")
    if recent:
        st.warning(ui.t("recent_errors", n=len(recent), hours=int(RECENT.total_seconds() // 3600)))
    if not h["findings"] and not recent:
        st.success(ui.t("all_clear"))

    feeds = ui.settings.ct.certstream_urls
    if feeds:
        # The certstream client keeps its liveness in JobState "certstream" (see watcher.health).
        state: dict[str, Any] = next((r for r in h["jobs"] if r["name"] == "certstream"), {})
        last = state.get("last_ok_at")
        silent_for = widgets.age_hours(last, now)
        st.markdown(f"#### {ui.t('feed')}")
        st.table({"URL": feeds, ui.t("last_ok"): [widgets.when(last) or "—"] * len(feeds),
                  ui.t("age_hours"): ["" if silent_for is None else silent_for] * len(feeds)})

    if h["feeds"]:
        st.markdown(f"#### {ui.t('url_feeds')}")
        fr = [{**r, "silent_h": widgets.age_hours(r["last_change_at"], now)} for r in h["feeds"]]
        widgets.table(fr, {"name": ui.t("col_feed"), "last_status": ui.t("last_answer"),
                           "last_fetch_at": ui.t("last_run"), "last_change_at": ui.t("last_new"),
                           "silent_h": ui.t("age_hours"), "rows_total": ui.t("rows_read"),
                           "last_error": ui.t("detail")}, key="feeds")

    st.markdown(f"#### {ui.t('ct_logs')}")
    # Per-log lag as the watchdog sees it (watcher.discovery.ct.watchdog): entries behind the verified
    # tree head, and for how long the position has been behind.
    logs = [{**r, "state": widgets.word(ui, "ctstate", r["state"]), "api": widgets.label(ui, "ctapi", r["api"]),
             "lag": max(0, (r["tree_size"] or 0) - (r["next_index"] or 0)),
             "lag_min": _minutes_since(r.get("behind_since"), now),
             "growth_h": widgets.age_hours(r["last_growth_at"], now)} for r in h["logs"]]
    widgets.table(logs, {"description": ui.t("log"), "api": "API", "state": ui.t("status"),
                         "next_index": ui.t("next_index"), "tree_size": ui.t("tree_size"), "lag": ui.t("lag"),
                         "lag_min": ui.t("lag_minutes"),
                         "verified_at": ui.t("verified_at"), "growth_h": ui.t("growth_age"),
                         "entries_failed": ui.t("entries_failed"), "last_error": ui.t("detail")},
                  key="logs", empty=ui.t("no_data"))

    st.markdown(f"#### {ui.t('jobs')}")
    summaries = {j.name: j.summary for j in JOBS}
    states = {r["name"]: r for r in h["jobs"]}
    rows = []
    for name in [*summaries, *sorted(set(states) - set(summaries))]:
        r = states.get(name, {})
        failing = int(r.get("consecutive_failures") or 0)
        # Plain words, not emoji: the table is drawn on a canvas and many desktops lack an emoji font.
        rows.append({"name": name, "ok": "NG" if failing else ("OK" if r.get("last_ok_at") else "—"),
                     "last_started_at": r.get("last_started_at"), "last_ok_at": r.get("last_ok_at"),
                     "failures": failing, "runs": r.get("runs", 0), "last_error": r.get("last_error", ""),
                     "summary": widgets.label(ui, "job", name) if name in summaries else "",
                     "notes": _notes(ui, (r.get("last_summary") or {}).get("notes"))})
    widgets.table(rows, {"ok": "", "name": ui.t("jobs"), "last_started_at": ui.t("last_run"),
                         "last_ok_at": ui.t("last_ok"), "failures": ui.t("failures_n"), "runs": ui.t("runs"),
                         "last_error": ui.t("detail"), "notes": ui.t("last_notes"), "summary": ui.t("summary")},
                  key="jobs", wrap=("notes",))

    st.markdown(f"#### {ui.t('job_failures')}")
    fails = [{"at": r["at"], "job": r["detail"].get("job", "") or r["detail"].get("logger", ""),
              "error": r["detail"].get("error", "") or _logged(r["detail"])} for r in h["failures"]]
    widgets.table(fails, {"at": ui.t("at"), "job": ui.t("where"), "error": ui.t("detail")}, key="failures",
                  empty=ui.t("none"), wrap=("error",))


def _notes(ui: UI, notes: Any, shown: int = 3) -> str:
    """A run's notes (what it could not do or decide; stored catalogue sentences), in the reader's language;
    an older run's plain strings as they are."""
    if not isinstance(notes, list) or not notes:
        return ""
    said = [render_stored(n, ui.lang, fallback=str(n)) for n in notes[:shown]]
    more = f" (+{len(notes) - shown})" if len(notes) > shown else ""
    return " / ".join(said) + more


def _logged(detail: dict[str, Any]) -> str:
    """An ``error.logged`` Event in one line: the message, and the exception when it adds to it."""
    msg = str(detail.get("message", ""))
    exc = str(detail.get("exception", ""))
    return msg if not exc or exc in msg else f"{msg} ({exc})"
