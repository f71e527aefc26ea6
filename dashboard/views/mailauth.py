"""Mail authentication: per sending domain the SPF/DKIM/DMARC/BIMI/MTA-STS state, the road to p=reject
(the one "ready" figure, what fails and how to fix it, every sender by name), failure and TLS reports,
S/MIME on customer notices and the links in the firm's templates.

The state comes from the mail-auth check's open Findings (one per failing mechanism and domain);
"OK" needs the check to have run at least once, so a silent check is never shown as all-green.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import streamlit as st

from dashboard import data, widgets
from dashboard.queries import MAIL_MECHANISMS
from dashboard.ui import UI
from dashboard.views.owned import decide_findings

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
    decide_findings(ui, "mail")

    _road_to_reject(ui, since)
    _reports(ui, since)
    _notices_and_templates(ui, since)


def _road_to_reject(ui: UI, since: datetime) -> None:
    conf = ui.ctx.settings.mail
    st.markdown(f"#### {ui.t('road_to_reject', days=conf.ready_days)}")
    day = ui.ctx.now().replace(minute=0, second=0, microsecond=0)
    ready = data.road_to_reject(ui.db, day, conf.ready_days, conf.ready_share, ui.lang)
    if not ready:
        st.caption(ui.t("no_data"))
        return
    cols = st.columns(max(1, len(ready)))
    for col, r in zip(cols, ready, strict=False):
        share = f"{r['share']:.1%}" if r["share"] is not None else "-"
        col.metric(f"{r['domain']} (p={r['policy']})", share, help=ui.t("ready_share"))
        (col.success if r["ready"] else col.warning)(r["verdict"])
        if r["unauthorised_failing"]:
            col.caption(f"{ui.t('unauthorised_failing')}: {r['unauthorised_failing']:,}")
    failing = [{**s, "domain": r["domain"]} for r in ready for s in r["failing_senders"]]
    st.markdown(f"##### {ui.t('ready_what_fails')}")
    widgets.table(failing, {"domain": ui.t("sending_domain"), "sender": ui.t("sender"), "failing": ui.t("failing"),
                            "messages": ui.t("messages"), "fix": ui.t("fix")}, key="ready_failing",
                  empty=ui.t("none"))
    st.markdown(f"##### {ui.t('named_senders')}")
    senders = [s for r in ready for s in r["senders"]]
    widgets.table(senders, {"domain": ui.t("sending_domain"), "sender": ui.t("sender"),
                            "why": ui.t("legitimate"), "messages": ui.t("messages"), "passing": ui.t("dmarc_pass"),
                            "spf_aligned": ui.t("spf_aligned"), "dkim_aligned": ui.t("dkim_aligned"),
                            "ips": ui.t("ips"), "reporters": ui.t("reporter")}, key="named_senders",
                  empty=ui.t("no_data"))


def _reports(ui: UI, since: datetime) -> None:
    m = data.mail(ui.db, (), since)
    dmarc = m["dmarc"]
    st.markdown(f"#### {ui.t('dmarc_summary', days=DMARC_DAYS)}")
    c = st.columns(3)
    c[0].metric(ui.t("reports_n"), f"{dmarc['reports']:,}")
    c[1].metric(ui.t("messages"), f"{sum(s['messages'] for s in dmarc['senders']):,}")
    c[2].metric(ui.t("failing"), f"{sum(s['failing'] for s in dmarc['senders']):,}")
    st.markdown(f"##### {ui.t('alignment_failures')}")
    cols = {"domain": ui.t("sending_domain"), "source_ip": ui.t("source_ip"), "messages": ui.t("messages"),
            "aligned": ui.t("aligned"), "failing": ui.t("failing"), "reported_by": ui.t("reporter")}
    widgets.table([s for s in dmarc["senders"] if s["failing"]][:200], cols, key="dmarc_failures", empty=ui.t("none"))
    r = data.mail_reports(ui.db, since)
    st.markdown(f"##### {ui.t('failure_reports')}")
    widgets.table(r["failures"], {"arrival_at": ui.t("arrived"), "domain": ui.t("sending_domain"),
                                  "source_ip": ui.t("source_ip"), "header_from": ui.t("header_from"),
                                  "subject": ui.t("mail_subject"), "auth_failure": ui.t("auth_failure"),
                                  "delivery_result": ui.t("delivery"), "reporter": ui.t("reporter")},
                  key="failure_reports", empty=ui.t("none"))
    st.markdown(f"##### {ui.t('tls_reports')}")
    widgets.table(r["tls"], {"begin_at": ui.t("at"), "reporter": ui.t("reporter"), "domain": ui.t("sending_domain"),
                             "type": ui.t("policy_type"), "success": ui.t("success"), "failure": ui.t("failure"),
                             "failures": ui.t("failure_kinds")}, key="tls_reports", empty=ui.t("none"))


def _notices_and_templates(ui: UI, since: datetime) -> None:
    r = data.mail_reports(ui.db, since)
    for key, rows in (("smime_notices", r["smime"]), ("message_templates", r["templates"])):
        st.markdown(f"##### {ui.t(key)}")
        shown = [{**f, "title": widgets.finding_title(ui, f)} for f in rows]
        widgets.table(shown, {"severity": ui.t("severity"), "subject": ui.t("subject"), "title": ui.t("finding")},
                      key=f"mail_{key}", empty=ui.t("none"))
