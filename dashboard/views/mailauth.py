"""Mail authentication: per sending domain the SPF/DKIM/DMARC/BIMI/MTA-STS state, and who sends as us.

The state comes from the mail-auth check's open Findings (one per failing mechanism and domain);
"OK" needs the check to have run at least once, so a silent check is never shown as all-green.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import streamlit as st

from dashboard import data, widgets
from dashboard.queries import MAIL_MECHANISMS
from dashboard.ui import UI

DMARC_DAYS = 30
HEADERS = {"spf": "SPF", "dkim": "DKIM", "dmarc": "DMARC", "bimi": "BIMI", "mta_sts": "MTA-STS", "tlsrpt": "TLS-RPT"}


def render(ui: UI) -> None:
    st.header(ui.t("v_mailauth"))
    domains = sorted({d for b in data.brands(ui.db) for d in (b["spec"] or {}).get("sending_domains", [])})
    since = (ui.ctx.now() - timedelta(days=DMARC_DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    m = data.mail(ui.db, tuple(domains), since)
    checked = m["checked_at"] is not None

    # Plain words, not emoji: the table is drawn on a canvas and many desktops lack an emoji font.
    def cell(problems: list[dict[str, Any]]) -> str:
        if problems:  # each finding's title in the reader's language (its catalogue text)
            return "NG: " + "; ".join(widgets.finding_title(ui, p) for p in problems)
        return ui.t("auth_ok") if checked else ui.t("auth_unchecked")

    rows = [{"domain": r["domain"], **{mech: cell(r[mech]) for mech in MAIL_MECHANISMS}} for r in m["state"]]
    widgets.table(rows, {"domain": ui.t("sending_domain"), **HEADERS}, key="mail_state", empty=ui.t("no_data"))
    if checked:
        st.caption(ui.t("mail_checked_at", at=widgets.when(m['checked_at'])))

    dmarc = m["dmarc"]
    st.markdown(f"#### {ui.t('dmarc_summary', days=DMARC_DAYS)}")
    senders = dmarc["senders"]
    c = st.columns(3)
    c[0].metric(ui.t("reports_n"), f"{dmarc['reports']:,}")
    c[1].metric(ui.t("messages"), f"{sum(s['messages'] for s in senders):,}")
    c[2].metric(ui.t("failing"), f"{sum(s['failing'] for s in senders):,}")
    cols = {"domain": ui.t("sending_domain"), "source_ip": ui.t("source_ip"), "messages": ui.t("messages"),
            "aligned": ui.t("aligned"), "failing": ui.t("failing"), "reported_by": ui.t("reporter")}
    st.markdown(f"##### {ui.t('who_sends')}")
    widgets.table(senders[:200], cols, key="dmarc_senders", empty=ui.t("no_data"))
    st.markdown(f"##### {ui.t('alignment_failures')}")
    widgets.table([s for s in senders if s["failing"]][:200], cols, key="dmarc_failures", empty=ui.t("none"))
