"""Every view of the dashboard, in Japanese, has no English left: headings, buttons, captions, alerts,
metrics, and every cell of every table (the browser test reads the page's text, but a table is drawn
on a canvas, so its cells are read here, from what the app sends)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from streamlit.testing.v1 import AppTest

from dashboard.views import VIEWS
from tests.dashboard.english import english_words
from tests.dashboard.seed import Seeded
from tests.dashboard.test_dashboard_app import AppFactory
from watcher.context import Context
from watcher.schedule import JOBS

# Names, not sentences: of a registrar, a network, a CA or a DMARC reporter in the seeded world, of
# the seeded users (who did it), and of omamori's jobs (`omamori job permutations` is what an operator types).
ALLOWED_DATA = frozenset({"names", "hosting", "trusted", "lab", "cheap", "google", "yahoo",
                          "analyst", "approver", "viewer", "admin"} | {j.name for j in JOBS})


def _texts(at: AppTest) -> list[str]:
    out: list[str] = []
    for kind in ("markdown", "caption", "header", "subheader", "title", "text", "error", "warning", "info",
                 "success", "toast"):
        out += [str(e.value) for e in at.get(kind)]
    out += [str(b.label) for b in at.button]
    out += [f"{m.label} {m.value}" for m in at.metric]
    for kind in ("selectbox", "multiselect", "radio"):
        for w in at.get(kind):
            out.append(str(w.label))
            out += [str(o) for o in getattr(w, "options", [])]
    out += [str(w.label) for w in [*at.text_input, *at.text_area, *at.number_input]]
    out += [str(t.label) for t in at.tabs] + [str(x.label) for x in at.expander]
    for frame in [*at.dataframe, *at.table]:
        df: Any = frame.value
        if isinstance(df, pd.DataFrame):
            out += [str(c) for c in df.columns]
            out += [str(v) for v in df.to_numpy().ravel() if isinstance(v, str)]
    return out


def _left(at: AppTest) -> list[str]:
    assert not at.exception, at.exception
    return english_words("\n".join(_texts(at)), allowed=ALLOWED_DATA)


def test_every_view_and_every_table_cell_is_japanese(app: AppFactory, world: tuple[Context, Seeded]) -> None:
    _, ids = world
    left: dict[str, list[str]] = {}
    for view in VIEWS:
        at = app("approver", nav=view)
        left[view] = _left(at)
    for name in ("hoshizora-sec-login.top", "xn--hoshizora-se-khk.com", "hoshizora-sec.co",
                 "hoshizora-sec-mypage.cn", "hoshizora-secure-login.asia", "k3v9q.xyz"):
        at = app("approver", nav="candidate", candidate_id=ids.candidates[name])
        left[f"candidate {name}"] = _left(at)
    left = {k: v for k, v in left.items() if v}
    assert not left, "\n".join(f"{k}: {v[:8]}" for k, v in left.items())
