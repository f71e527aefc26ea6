"""Owned domains: findings first (takeover and drop-catch on top), the expiry timeline, the inventory,
and every certificate seen in CT for our names (unexpected issuers first)."""

from __future__ import annotations

from datetime import UTC

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import actions, data, widgets
from dashboard.ui import UI

# Registry locks among the statuses, as RDAP ("client transfer prohibited") or EPP ("clientTransferProhibited")
# spells them; shown short so the column stays narrow.
LOCKS: dict[str, str] = {
    "clienttransferprohibited": "cT", "servertransferprohibited": "sT", "clientdeleteprohibited": "cD",
    "serverdeleteprohibited": "sD", "clientupdateprohibited": "cU", "serverupdateprohibited": "sU",
}


def _locks(statuses: list[str]) -> str:
    norm = {s.lower().replace(" ", "").replace("_", "") for s in statuses or []}
    return " ".join(short for code, short in LOCKS.items() if code in norm)


def render(ui: UI) -> None:
    st.header(ui.t("v_owned"))
    now = ui.ctx.now()
    offset = int(st.session_state.get("page_owned", 0)) * ui.page_size
    d = data.owned(ui.db, ui.page_size, offset)

    st.markdown(f"#### {ui.t('priority_findings')}")
    severities = [None, "critical", "high", "medium", "low", "info"]
    sev = st.selectbox(ui.t("severity"), severities, key="owned_severity",
                       format_func=lambda v: ui.t("all") if v is None else widgets.word(ui, "severity", v),
                       on_change=widgets.reset_pager, args=("owned_findings",))
    found = [f for f in d["findings"] if sev is None or str(f["severity"]) == sev]
    start = int(st.session_state.get("page_owned_findings", 0)) * ui.page_size
    findings = [{**f, "severity": widgets.word(ui, "severity", f["severity"]), "kind": widgets.label(ui, "fk", f["kind"]),
                 "title": widgets.finding_title(ui, f)} for f in found[start:start + ui.page_size]]
    widgets.table(findings, {"severity": ui.t("severity"), "kind": ui.t("kind"), "subject": ui.t("subject"),
                             "title": ui.t("title"), "opened_at": ui.t("opened")},
                  key="owned_findings", empty=ui.t("all_clear"), wrap=("title",))
    if len(found) > ui.page_size:
        widgets.pager(ui, "owned_findings", len(found))
    decide_findings(ui, "owned")

    st.markdown(f"#### {ui.t('expiry_timeline')}")
    if d["expiry"]:
        df = pd.DataFrame([{"domain": r["name"], "expires": r["expires_at"].astimezone(UTC).replace(tzinfo=None),
                            "days": (r["expires_at"] - now).days} for r in d["expiry"]])
        chart = (alt.Chart(df).mark_circle(size=120)
                 .encode(x=alt.X("expires:T", title=ui.t("expires")), y=alt.Y("domain:N", title=None, sort="x"),
                         color=alt.Color("days:Q", scale=alt.Scale(domain=[0, 30, 90, 365],
                                                                  range=["#c0392b", "#e67e22", "#f1c40f", "#27ae60"]),
                                         title=ui.t("days_left")),
                         tooltip=["domain", "expires", "days"]))
        st.altair_chart(chart, width="stretch")
    else:
        st.caption(ui.t("no_data"))

    st.markdown(f"#### {ui.t('inventory')}")
    rows = [{**r, "days": (r["expires_at"] - now).days if r["expires_at"] else None,
             "locks": _locks(r["statuses"]), "source": widgets.word(ui, "owned_source", r["source"]),
             "lapsed": ui.t("yes") if r["lapsed"] else "", "dnssec": widgets.label(ui, "yn", r["dnssec"])}
            for r in d["rows"]]
    widgets.table(rows, {"name": ui.t("col_domain"), "registrar": ui.t("registrar"), "expires_at": ui.t("expires"),
                         "days": ui.t("days_left"), "locks": ui.t("locks"), "dnssec": ui.t("dnssec"),
                         "lapsed": ui.t("lapsed"), "gone_at": ui.t("gone_at"), "source": ui.t("source")},
                  key="owned_table", empty=ui.t("no_data"))
    widgets.pager(ui, "owned", d["total"])

    st.markdown(f"#### {ui.t('owned_certificates')}")
    widgets.table(d["certificates"], {"name": ui.t("col_domain"), "issuer": ui.t("issuer"),
                                      "issuer_org": ui.t("issuer_org"), "allowed": ui.t("issuer_allowed"),
                                      "not_after": ui.t("cert_not_after"), "log": ui.t("ct_log"),
                                      "first_seen_at": ui.t("first_seen")},
                  key="owned_certs", empty=ui.t("no_data"))


def decide_findings(ui: UI, key: str) -> None:
    """Pick an open or accepted finding (our domains, our mail) and accept its risk with a reason, or reopen it.
    Shown on the owned-domains and the mail pages (``key`` keeps their widgets apart)."""
    rows = {int(r["id"]): r for r in data.decidable_findings(ui.db)}
    if not rows or not ui.can("analyst"):
        return
    with st.expander(ui.t("decide_finding")):
        st.caption(ui.t("decide_finding_help"))

        def shown(fid: int) -> str:
            r = rows[fid]
            return (f"#{fid} {widgets.word(ui, 'finding_status', r['status'])} · {widgets.label(ui, 'fk', r['kind'])} · "
                    f"{r['subject']} · {widgets.finding_title(ui, r)}")

        st.selectbox(ui.t("finding"), list(rows), key=f"{key}_finding_pick", format_func=shown)
        st.text_input(ui.t("reason"), key=f"{key}_finding_reason")
        c1, c2 = st.columns(2)
        c1.button(ui.t("accept_risk"), key=f"{key}_finding_accept", type="primary", disabled=not ui.can("approver"),
                  on_click=_accept, args=(ui, key))
        c2.button(ui.t("reopen_finding"), key=f"{key}_finding_reopen", on_click=_reopen, args=(ui, key))


# Button callbacks: Streamlit ignores what a callback returns, and the actions return whether they succeeded.
def _accept(ui: UI, key: str) -> None:
    fid = st.session_state.get(f"{key}_finding_pick")
    if fid is not None and actions.accept_finding(ui, int(fid), str(st.session_state.get(f"{key}_finding_reason", ""))):
        st.session_state[f"{key}_finding_reason"] = ""


def _reopen(ui: UI, key: str) -> None:
    fid = st.session_state.get(f"{key}_finding_pick")
    if fid is not None and actions.reopen_finding(ui, int(fid), str(st.session_state.get(f"{key}_finding_reason", ""))):
        st.session_state[f"{key}_finding_reason"] = ""
