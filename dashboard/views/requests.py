"""The takedown requests of one candidate, each shown exactly as it will be sent, with its actions.

"Exactly as sent" means the ``EmailMessage`` from ``watcher.takedowns.requests.render_message``: the same call
the sender makes, so what the approver reads is what the abuse desk receives (headers, body,
attachments; the whole .eml can be downloaded). Web-form requests show the fields to paste.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import streamlit as st

from dashboard import actions, widgets
from dashboard.ui import UI
from watcher.core.models import RequestStatus, TakedownRequest
from watcher.takedowns import outbox
from watcher.takedowns.requests import webform_fields

SHOWN_HEADERS = ("From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To", "References")
CLOSED = (RequestStatus.CLOSED.value,)


def render(ui: UI, cand: dict[str, Any], requests: list[dict[str, Any]]) -> None:
    st.markdown(f"#### {ui.t('requests')}")
    if not requests:
        st.caption(ui.t("no_requests"))
        if str(cand["status"]) == "confirmed" and ui.can("approver"):
            st.button(ui.t("draft"), key="act_draft", on_click=_draft, args=(ui, int(cand["id"])))
        return
    drafts = [r for r in requests if str(r["status"]) == RequestStatus.DRAFT.value]
    if drafts and ui.can("approver"):
        st.button(ui.t("approve_all") + f" ({len(drafts)})", key="act_approve_all", type="primary",
                  on_click=_approve_all, args=(ui, int(cand["id"])))
    widgets.action_result()
    for req in requests:
        _one(ui, req)


def _one(ui: UI, req: dict[str, Any]) -> None:
    rid = int(req["id"])
    status = str(req["status"])
    title = widgets.esc(f"#{rid} · {req['recipient_name'] or req['recipient']} · "
                        f"{widgets.word(ui, 'recipient', req['recipient_kind'])} · {widgets.word(ui, 'request', status)}")
    with st.expander(title, expanded=status == RequestStatus.DRAFT.value):
        st.caption(f"{ui.t('recipient')}: {widgets.esc(req['recipient'])} · {ui.t('channel')}: "
                   f"{widgets.word(ui, 'channel', req['channel'])} · {widgets.when(req['created_at'])} · "
                   f"{widgets.esc(widgets.actor_label(ui, str(req['created_by'])))}")
        if str(req["channel"]) == "webform":
            _webform(ui, req)
        else:
            _message(ui, req)
        if req.get("last_error"):
            st.warning(widgets.esc(req["last_error"]))
        if status in CLOSED:
            return
        if status == RequestStatus.DRAFT.value and ui.can("approver"):
            st.button(ui.t("approve"), key=f"approve_{rid}", type="primary",
                      on_click=_approve, args=(ui, rid))
        if (status == RequestStatus.QUEUED.value and str(req["channel"]) == "webform") and ui.can("approver"):
            # A web form is filled by a person; omamori cannot know it was sent until told.
            st.button(ui.t("mark_submitted"), key=f"submitted_{rid}", type="primary",
                      on_click=_mark_submitted, args=(ui, rid))
        if status in (RequestStatus.FAILED.value, RequestStatus.SENDING.value) and ui.can("approver"):
            st.button(ui.t("resend"), key=f"resend_{rid}",
                      on_click=_resend, args=(ui, rid))
        if ui.can("analyst"):
            st.text_area(ui.t("reply_text"), key=f"reply_{rid}", height=80)
            st.button(ui.t("attach_reply"), key=f"reply_btn_{rid}",
                      on_click=_reply, args=(ui, rid))
        if ui.can("approver"):
            st.text_input(ui.t("reason"), key=f"withdraw_reason_{rid}")
            st.button(ui.t("withdraw"), key=f"withdraw_{rid}",
                      on_click=_withdraw, args=(ui, rid))


# Button callbacks: Streamlit ignores what a callback returns, and the actions return whether they succeeded.
def _draft(ui: UI, cid: int) -> None:
    actions.draft(ui, cid)


def _approve_all(ui: UI, cid: int) -> None:
    actions.approve_all(ui, cid)


def _approve(ui: UI, rid: int) -> None:
    actions.approve(ui, rid)


def _mark_submitted(ui: UI, rid: int) -> None:
    actions.mark_submitted(ui, rid)


def _resend(ui: UI, rid: int) -> None:
    actions.resend(ui, rid)


def _reply(ui: UI, rid: int) -> None:
    if actions.attach_reply(ui, rid, str(st.session_state.get(f"reply_{rid}", ""))):
        st.session_state[f"reply_{rid}"] = ""


def _withdraw(ui: UI, rid: int) -> None:
    actions.withdraw(ui, rid, str(st.session_state.get(f"withdraw_reason_{rid}", "")))


def _as_model(req: dict[str, Any]) -> TakedownRequest:
    return TakedownRequest.model_validate(req)


def _message(ui: UI, req: dict[str, Any]) -> None:
    st.markdown(f"**{ui.t('as_sent')}**")
    try:
        msg: EmailMessage = outbox.render_message(ui.ctx, _as_model(req))
    except Exception as e:  # a broken template is shown, not a broken page
        st.error(ui.t("failed", error=str(e)))
        return
    headers = "\n".join(f"{h}: {msg[h]}" for h in SHOWN_HEADERS if msg[h])
    body = msg.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    st.code(f"{headers}\n\n{text}", language=None, wrap_lines=True)
    files = [(p.get_filename(), p.get_content_type(), len(p.get_payload(decode=True) or b""))
             for p in msg.iter_attachments()]
    if files:
        st.caption(ui.t("attachments") + ": " + widgets.esc(", ".join(f"{n} ({t}, {size:,} B)" for n, t, size in files)))
    st.download_button(".eml", msg.as_bytes(), file_name=f"request-{req['id']}.eml", mime="message/rfc822",
                       key=f"eml_{req['id']}")


def _webform(ui: UI, req: dict[str, Any]) -> None:
    st.markdown(f"**{ui.t('webform')}**")
    fields = webform_fields(_as_model(req))
    st.table({ui.t("kind"): [ui.t(f"wf_{k}") for k in fields], ui.t("detail"): [str(v) for v in fields.values()]})
