"""Sign-in before anything shows: config users with scrypt hashes, or OpenID Connect via ``st.login``.

Only the user's *name* is kept in the session; the role is looked up in the config on every run, so
removing a user or lowering a role takes effect on their next click, not at their next sign-in.
With OIDC, the identity provider says who the person is and the config still says what they may do:
the token's ``sub`` (or an email the issuer marks verified) must be a ``[[dashboard.users]]`` entry's
``oidc_subject`` (or ``oidc_email``), else no access (``watcher.core.auth.oidc_user``). Password
sign-in is limited per user name and per client (``auth.lockout``); every attempt is an Event.
"""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.i18n import tr
from watcher.core.auth import authenticate, lockout, oidc_user, record_attempt
from watcher.core.config import Settings, UserSettings

USER = "user"


def _lookup(settings: Settings, name: str) -> UserSettings | None:
    return next((u for u in settings.dashboard.users if u.name == name), None)


def current_user(settings: Settings) -> UserSettings | None:
    if settings.dashboard.oidc:
        return _oidc_user(settings)
    name = st.session_state.get(USER)
    return _lookup(settings, name) if name else None


def _oidc_user(settings: Settings) -> UserSettings | None:
    if not getattr(st.user, "is_logged_in", False):
        return None
    return oidc_user(settings, st.user)


def _client() -> str:
    """The address the request came from, as Streamlit sees it (behind a reverse proxy: the proxy's,
    so there the per-user limit is the one that holds)."""
    try:
        return str(st.context.ip_address or "unknown")
    except Exception:  # outside a served session (AppTest): one client
        return "unknown"


def sign_in(settings: Settings, lang: str) -> None:
    """Draw the sign-in page (the only thing an anonymous visitor sees)."""
    st.title(tr(lang, "sign_in_title"))
    if settings.dashboard.oidc:
        if getattr(st.user, "is_logged_in", False):
            st.error(tr(lang, "oidc_unknown_user", email=st.user.get("email") or st.user.get("name") or "?"))
            st.button(tr(lang, "sign_out"), on_click=st.logout)
        else:
            st.button(tr(lang, "sign_in_oidc"), on_click=st.login, type="primary")
        return
    if not settings.dashboard.users:
        st.warning(tr(lang, "no_users"))
        return
    # clear_on_submit: the typed password does not stay in the session after the attempt.
    with st.form("sign_in", clear_on_submit=True):
        name = st.text_input(tr(lang, "username"), key="login_name")
        password = st.text_input(tr(lang, "password"), type="password", key="login_password")
        submitted = st.form_submit_button(tr(lang, "sign_in"), type="primary")
    if submitted:
        name, client = name.strip(), _client()
        ctx = data.context(settings)
        engine, now = ctx.engine, ctx.now()
        until = lockout(engine, settings, name, client, now)
        if until is not None:  # the password is not even checked while locked out
            st.error(tr(lang, "locked_out", until=until.strftime("%H:%M UTC")))
            return
        user = authenticate(settings, name, password)
        until = record_attempt(engine, settings, name, client, now, ok=user is not None)
        if user is None:
            st.error(tr(lang, "locked_out", until=until.strftime("%H:%M UTC")) if until else tr(lang, "bad_login"))
            return
        st.session_state[USER] = user.name
        st.rerun()


def sign_out(settings: Settings) -> None:
    if settings.dashboard.oidc:
        st.logout()
        return
    for key in list(st.session_state.keys()):
        if key != "lang":
            del st.session_state[key]
