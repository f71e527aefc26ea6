"""One module per view; each has ``render(ui)``. The order here is the order in the sidebar."""

from __future__ import annotations

from collections.abc import Callable

from dashboard.ui import UI
from dashboard.views import candidate, health, home, mailauth, owned, reports, takedowns, triage

VIEWS: dict[str, Callable[[UI], None]] = {
    "home": home.render,
    "triage": triage.render,
    "candidate": candidate.render,
    "takedowns": takedowns.render,
    "owned": owned.render,
    "mailauth": mailauth.render,
    "reports": reports.render,
    "health": health.render,
}
