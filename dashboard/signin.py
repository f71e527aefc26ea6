"""Sign-in before anything shows: config users with scrypt hashes, or OpenID Connect via ``st.login``.

Only the user's *name* is kept in the session; the role is looked up in the config on every run, so
removing a user or lowering a role takes effect on their next click, not at their next sign-in.
With OIDC, the identity provider says who the person is and the config still says what they may do:
the e-mail (or name) from the token must match a ``[[dashboard.users]]`` entry, else no access.
"""

from __future__ import annotations

import streamlit as st

from dashboard.i18n import tr
from watcher.core.auth import authenticate
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
    for claim in ("email", "preferred_username", "name"):
        value = st.user.get(claim)
        if value and (u := _lookup(settings, str(value))):
            return u
    return None


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
        user = authenticate(settings, name.strip(), password)
        if user is None:
            st.error(tr(lang, "bad_login"))
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
