"""Reports: the weekly reports archive and the official-domains page (files the report job writes under
``<state_dir>/reports/``), and CSV exports of the main tables, built on demand in keyset chunks."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import streamlit as st

from dashboard import data, widgets
from dashboard.queries import EXPORTS, export_rows
from dashboard.ui import UI

PREVIEW = {".md", ".txt", ".html", ".htm"}
MIME = {".html": "text/html", ".htm": "text/html", ".md": "text/markdown", ".txt": "text/plain",
        ".csv": "text/csv", ".pdf": "application/pdf", ".json": "application/json"}
MAX_FILES = 200


def report_files(root: Path) -> tuple[list[Path], list[Path]]:
    """(weekly reports newest first, official-domains pages newest first)."""
    if not root.is_dir():
        return [], []
    files = sorted((p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")),
                   key=lambda p: (p.stat().st_mtime, p.name), reverse=True)[:MAX_FILES]
    official = [p for p in files if p.name.startswith("official")]
    return [p for p in files if p not in official], official


def render(ui: UI) -> None:
    st.header(ui.t("v_reports"))
    root = ui.ctx.state_dir / "reports"
    weekly, official = report_files(root)

    st.markdown(f"#### {ui.t('weekly_archive')}")
    if weekly:
        names = [str(p.relative_to(root)) for p in weekly]
        picked = st.selectbox(ui.t("weekly_archive"), names, key="report_pick", label_visibility="collapsed")
        _file(ui, root / picked, "weekly")
    else:
        st.caption(ui.t("no_reports"))

    st.markdown(f"#### {ui.t('official_list')}")
    if official:
        _file(ui, official[0], "official")
    else:
        st.caption(ui.t("no_reports"))

    st.markdown(f"#### {ui.t('csv')}")
    labels = {name: ui.t(f"csv_{name}") for name in EXPORTS}
    c1, c2 = st.columns([3, 1])
    which = c1.selectbox(ui.t("csv"), list(labels), format_func=labels.__getitem__, key="csv_pick",
                         label_visibility="collapsed")
    if c2.button(ui.t("prepare"), key="csv_prepare"):
        # Built on request, not on every rerun: the candidates table may hold 100,000 rows.
        st.session_state["csv"] = (which, _csv(ui, which))
    ready = st.session_state.get("csv")
    if ready and ready[0] == which:
        st.download_button(f"{ui.t('download')} {labels[which]} (CSV)", ready[1], file_name=f"omamori-{which}.csv",
                           mime="text/csv", key="csv_download")


def _csv(ui: UI, name: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    for row in export_rows(data.engine(ui.db), name):
        w.writerow([widgets.when(v) if hasattr(v, "astimezone") else getattr(v, "value", v) for v in row])
    # UTF-8 with BOM: Excel on a Japanese Windows opens it with the right encoding.
    return buf.getvalue().encode("utf-8-sig")


def _file(ui: UI, path: Path, key: str) -> None:
    content = path.read_bytes()
    st.download_button(f"{ui.t('download')} {path.name}", content, file_name=path.name,
                       mime=MIME.get(path.suffix.lower(), "application/octet-stream"), key=f"dl_{key}")
    if path.suffix.lower() in PREVIEW:
        text = content.decode("utf-8", errors="replace")
        with st.expander(path.name, expanded=False):
            if path.suffix.lower() == ".md":
                st.markdown(text)
            elif path.suffix.lower() == ".txt":
                st.text(text)
            else:
                st.html(text)
