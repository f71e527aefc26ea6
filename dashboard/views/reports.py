"""Reports: the weekly reports archive and the official-domains page (files the report job writes under
``<state_dir>/reports/``), and CSV exports of the main tables, built on demand in keyset chunks."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from dashboard import data, widgets
from dashboard.queries import EXPORTS, export_rows
from dashboard.ui import UI

PREVIEW = {".md", ".txt", ".html", ".htm"}
MIME = {".html": "text/html", ".htm": "text/html", ".md": "text/markdown", ".txt": "text/plain",
        ".csv": "text/csv", ".pdf": "application/pdf", ".json": "application/json"}
MAX_FILES = 200


def report_files(root: Path) -> tuple[dict[str, list[Path]], list[Path]]:
    """(weekly reports: stem -> its files, newest first; official-domains files).

    ``watcher.report.weekly`` writes ``weekly-<date>.html`` plus ``weekly-<date>-<table>.csv`` for each
    week, and ``official-domains[-<brand>].{html,json}``.
    """
    if not root.is_dir():
        return {}, []
    files = sorted((p for p in root.iterdir() if p.is_file() and not p.name.startswith(".")),
                   key=lambda p: p.name)[-MAX_FILES:]
    official = [p for p in files if p.name.startswith("official")]
    weekly: dict[str, list[Path]] = {}
    for p in files:
        if p in official:
            continue
        stem = p.stem
        # weekly-2026-11-23-candidates.csv belongs to weekly-2026-11-23
        if p.suffix == ".csv" and stem.count("-") > 3:
            stem = "-".join(stem.split("-")[:4])
        weekly.setdefault(stem, []).append(p)
    newest_first = dict(sorted(weekly.items(), reverse=True))
    for paths in newest_first.values():
        paths.sort(key=lambda p: (p.suffix not in PREVIEW, p.name))
    return newest_first, official


def render(ui: UI) -> None:
    st.header(ui.t("v_reports"))
    root = ui.ctx.state_dir / "reports"
    weekly, official = report_files(root)

    st.markdown(f"#### {ui.t('weekly_archive')}")
    if weekly:
        stem = st.selectbox(ui.t("weekly_archive"), list(weekly), key="report_pick", label_visibility="collapsed")
        _files(ui, weekly[stem], "weekly")
    else:
        st.caption(ui.t("no_reports"))

    st.markdown(f"#### {ui.t('official_list')}")
    if official:
        _files(ui, official, "official")
    else:
        st.caption(ui.t("no_reports"))

    st.markdown(f"#### {ui.t('csv')}")
    labels = {name: ui.t(f"csv_{name}") for name in EXPORTS}
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
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


def _files(ui: UI, paths: list[Path], key: str) -> None:
    """A download button per file; the first previewable one (the HTML page) shown below them."""
    cols = st.columns(min(4, len(paths)))
    for i, path in enumerate(paths):
        cols[i % len(cols)].download_button(path.name, path.read_bytes(), file_name=path.name,
                                            mime=MIME.get(path.suffix.lower(), "application/octet-stream"),
                                            key=f"dl_{key}_{i}")
    page = next((p for p in paths if p.suffix.lower() in PREVIEW), None)
    if page is None:
        return
    text = page.read_text(encoding="utf-8", errors="replace")
    with st.expander(page.name, expanded=False):
        if page.suffix.lower() == ".md":
            st.markdown(text)
        elif page.suffix.lower() == ".txt":
            st.text(text)
        else:
            # In its own frame: the report's stylesheet must not restyle the dashboard, and its charts
            # (inline SVG and scripts) draw as they do in a browser opening the file.
            components.html(text, height=900, scrolling=True)
