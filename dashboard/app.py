"""omamori dashboard: ``streamlit run dashboard/app.py`` (``omamori dashboard`` sets the config).

The shell only: settings and context, the language switch, sign-in, navigation; each view is a module
in ``dashboard/views`` with ``render(ui)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts dashboard/ on sys.path, not the project root; the package imports need the root.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from dashboard import data, signin  # noqa: E402
from dashboard.i18n import LANG_NAMES, LANGS, tr  # noqa: E402
from dashboard.ui import UI, show_flashes  # noqa: E402
from dashboard.views import VIEWS  # noqa: E402


def main() -> None:
    st.set_page_config(page_title="omamori", page_icon="🛡️", layout="wide")
    settings = data.settings()
    if "lang" not in st.session_state:
        st.session_state["lang"] = settings.service.language
    with st.sidebar:
        lang = st.radio(tr(st.session_state["lang"], "language"), LANGS, key="lang",
                        format_func=LANG_NAMES.__getitem__, horizontal=True)
    user = signin.current_user(settings)
    if user is None:
        signin.sign_in(settings, lang)
        return
    ui = UI(ctx=data.context(settings), settings=settings, user=user, lang=lang)
    with st.sidebar:
        st.caption(ui.t("signed_in_as", name=user.display_name or user.name, role=ui.role_name(user.role)))
        view = st.radio(ui.t("view"), list(VIEWS), key="nav", format_func=lambda v: ui.t(f"v_{v}"))
        st.button(ui.t("sign_out"), on_click=signin.sign_out, args=(settings,))
    spot = st.empty()
    VIEWS[view](ui)
    show_flashes(spot)


main()
