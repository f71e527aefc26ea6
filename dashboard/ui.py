"""What every view gets: the context, the signed-in user, the language; and the flash messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from dashboard.i18n import tr
from watcher.context import Context
from watcher.core.auth import can
from watcher.core.config import Settings, UserSettings


@dataclass(frozen=True)
class UI:
    ctx: Context
    settings: Settings
    user: UserSettings
    lang: str

    @property
    def db(self) -> str:
        return self.settings.database_url

    @property
    def actor(self) -> str:
        # The audit log names the person, and that it was done in the dashboard.
        return f"dashboard:{self.user.name}"

    @property
    def page_size(self) -> int:
        return self.settings.dashboard.page_size

    def t(self, key: str, **fmt: object) -> str:
        return tr(self.lang, key, **fmt)

    def can(self, role: str) -> bool:
        return can(self.user, role)

    def role_name(self, role: str) -> str:
        return self.t(f"role_{role}")


FLASH = "_flash"


RESULT = "_action_result"


def flash(kind: str, text: str) -> None:
    """An action's outcome: a toast now, and the message kept for the spot beside the buttons
    (``show_result``); actions run in callbacks, before the page is drawn."""
    st.session_state[RESULT] = (kind, text)
    # Material icons ship with Streamlit's own font; an emoji needs a font many desktops (and this
    # machine's Chromium) lack, and shows as a box.
    st.toast(text, icon=":material/error:" if kind == "error" else ":material/check_circle:")


def show_flashes(spot: Any) -> None:
    """An outcome no view showed beside its buttons, in ``spot`` (an ``st.empty`` at the top)."""
    if st.session_state.get(RESULT):
        with spot.container():
            show_result()


def show_result() -> None:
    """The last action's outcome, where the person clicked (a view calls it under its buttons)."""
    got = st.session_state.pop(RESULT, None)
    if got:
        kind, text = got
        {"success": st.success, "error": st.error, "warning": st.warning}.get(kind, st.info)(text)
