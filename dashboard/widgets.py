"""Small pieces shared by the views: a pager, labelled enums, tables, JSON blocks, evidence images."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.ui import UI
from watcher.core.names import ShownName, show_name
from watcher.core.texts import render_stored
from watcher.core.texts import word as shared_word

_MD = re.compile(r"([\\`*_{}\[\]()#+!|<>~$:])")


def esc(text: object) -> str:
    """Markdown-escape text that came from outside (RDAP names, page titles, error messages), so a
    hostile registrar name or page title cannot draw a link or an image in the dashboard."""
    return _MD.sub(r"\\\1", str(text))


def pager(ui: UI, key: str, total: int) -> int:
    """Previous / next buttons for a list of ``total`` rows; returns the offset of the page to show."""
    size = ui.page_size
    pages = max(1, -(-total // size))
    state = f"page_{key}"
    page = min(max(int(st.session_state.get(state, 0)), 0), pages - 1)
    st.session_state[state] = page
    left, mid, right = st.columns([1, 3, 1])

    def move(step: int) -> None:
        st.session_state[state] = page + step

    left.button(ui.t("prev"), key=f"{key}_prev", disabled=page == 0, on_click=move, args=(-1,))
    mid.caption(ui.t("page_of", page=page + 1, pages=pages, total=f"{total:,}"))
    right.button(ui.t("next"), key=f"{key}_next", disabled=page >= pages - 1, on_click=move, args=(1,))
    return page * size


def reset_pager(key: str) -> None:
    st.session_state[f"page_{key}"] = 0


def word(ui: UI, kind: str, value: Any) -> str:
    """A value of a vocabulary every reader shows (``texts.WORDS``: a verdict, a status, a request status, a
    source, a severity, a recipient kind, a channel, a CT log state, an owned domain's source) in the user's
    language: the catalogue's word, the one the terminal and the story use."""
    return shared_word(kind, value, ui.lang)


def status_label(ui: UI, status: Any) -> str:
    return word(ui, "status", status)


def verdict_label(ui: UI, verdict: Any) -> str:
    return word(ui, "verdict", verdict)


def label(ui: UI, prefix: str, value: Any) -> str:
    """A translated enum value the dashboard alone words (``fk_``, ``ctapi_``, ``profile_``...), or the value itself."""
    v = str(getattr(value, "value", value))
    text = ui.t(f"{prefix}_{v}")
    return v if text == f"{prefix}_{v}" else text


def when(dt: datetime | None) -> str:
    if dt is None:
        return ""
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def age_hours(dt: datetime | None, now: datetime) -> float | None:
    return None if dt is None else round((now - dt).total_seconds() / 3600, 1)


def table(rows: Sequence[dict[str, Any]], columns: dict[str, str], *, key: str | None = None,
          empty: str = "", on_pick: Callable[[int], None] | None = None,
          wrap: Sequence[str] = ()) -> pd.DataFrame | None:
    """A read-only table with translated headers. ``columns`` maps a row key to its header.

    Columns fit their content: short ones (ids, scores, times) narrow, the ``wrap`` columns (free
    text: details, errors, notes) wide; what still does not fit scrolls sideways inside the table,
    never cut off. With ``on_pick`` (and a ``key``), clicking a row calls it with that row's ``id``.
    """
    if not rows:
        if empty:
            st.caption(empty)
        return None
    df = _frame(rows, columns)
    config = _column_config(rows, columns, wrap)
    if on_pick is None or key is None:
        st.dataframe(df, hide_index=True, width="stretch", key=key, column_config=config)
        return df
    ids = [r["id"] for r in rows]

    def picked() -> None:
        sel = st.session_state[key].selection.rows
        if sel:
            on_pick(ids[sel[0]])

    st.dataframe(df, hide_index=True, width="stretch", key=key, on_select=picked, selection_mode="single-row",
                 column_config=config)
    return df


def _frame(rows: Sequence[dict[str, Any]], columns: dict[str, str]) -> pd.DataFrame:
    """The table's frame; a column that mixes kinds (numbers and blanks, booleans and text) is text,
    so Arrow never fails on it (its traceback was printed on every visit of the owned view)."""
    cells = {label: [_cell(r.get(k)) for r in rows] for k, label in columns.items()}
    for label, values in cells.items():
        kinds = {type(v) for v in values if v != ""}
        if len(kinds) > 1 or (kinds and "" in values and not kinds <= {str}):
            cells[label] = ["" if v == "" else str(v) for v in values]
    return pd.DataFrame(cells)


def _column_config(rows: Sequence[dict[str, Any]], columns: dict[str, str],
                   wrap: Sequence[str]) -> dict[str, Any]:
    """Widths from what the cells hold: a column's widest cell (a CJK character counts double)."""
    config: dict[str, Any] = {}
    for k, header in columns.items():
        widest = max([_text_width(header), *(_text_width(_cell(r.get(k))) for r in rows[:200])])
        px = 520 if k in wrap else min(max(8 * widest + 24, 48), 420)
        config[header] = st.column_config.Column(header or " ", width=int(px))
    return config


def _text_width(v: Any) -> int:
    s = str(v)
    return sum(2 if ord(c) > 0x2E7F else 1 for c in s)


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return when(v)
    if isinstance(v, list | dict):
        return json.dumps(v, ensure_ascii=False) if v else ""
    if hasattr(v, "value"):
        return v.value
    return v


def json_block(data: Any, empty: str) -> None:
    if data:
        st.json(data, expanded=2)
    else:
        st.caption(empty)


def evidence_image(ui: UI, sha256: str, caption: str, empty: str) -> None:
    """Show an evidence file by its hash; the hash is printed too, for the chain of custody."""
    if sha256 and ui.ctx.evidence.exists(sha256):
        st.image(ui.ctx.evidence.get(sha256), caption=f"{caption} · sha256 {sha256[:16]}…", width="stretch")
    else:
        st.info(empty)


def finding_title(ui: UI, row: dict[str, Any]) -> str:
    """A finding's title in the UI's language (its catalogue text; 0.1's plain title otherwise)."""
    return render_stored(row.get("title_text"), ui.lang, fallback=str(row.get("title") or row.get("kind") or ""))


def official_domains(ui: UI) -> list[str]:
    """Every brand's official domains: what a lookalike is compared with for the "looks like" badge."""
    from dashboard import data

    out: list[str] = []
    for b in data.brands(ui.db):
        spec = b.get("spec") or {}
        out += [d for d in [*spec.get("official_domains", []), *spec.get("group_domains", [])] if d not in out]
    return out


def name_cell(ui: UI, domain: str) -> tuple[str, str]:
    """A hostname for a table cell (no colour there): Unicode with non-ASCII characters in ［］ and the
    A-label beside it; and the warning for its own column ("looks like …", "mixed scripts")."""
    s = show_name(domain, official_domains(ui))
    shown = f"{s.bracketed()} ({s.alabel})" if s.is_idn else s.alabel
    return shown, name_warning(ui, s)


def name_warning(ui: UI, s: ShownName) -> str:
    parts = []
    if s.looks_like:
        parts.append(ui.t("looks_like", domain=s.looks_like))
    if s.mixed_script:
        parts.append(ui.t("mixed_script", scripts=" + ".join(x for x in s.scripts if x)))
    elif s.is_idn:
        parts.append(ui.t("idn_name"))
    return " · ".join(parts)


def name_heading(ui: UI, domain: str) -> None:
    """The candidate's name as a heading: non-ASCII characters on red, the A-label beside it, and a
    badge saying which official domain it imitates."""
    s = show_name(domain, official_domains(ui))
    text = "".join(f":red-background[{esc(t)}]" if hot else esc(t) for t, hot in s.spans())
    st.subheader(text, anchor=False)
    badges = []
    if s.is_idn:
        badges.append(f"{ui.t('alabel')}: `{s.alabel}`")
    if s.looks_like:
        badges.append(f":orange-badge[⚠ {esc(ui.t('looks_like', domain=s.looks_like))}]")
    if s.mixed_script:
        badges.append(f":red-badge[{esc(ui.t('mixed_script', scripts=' + '.join(x for x in s.scripts if x)))}]")
    if badges:
        st.markdown(" · ".join(badges))


def action_result() -> None:
    """The last action's outcome, beside the buttons that caused it."""
    from dashboard.ui import show_result

    show_result()


def actor_label(ui: UI, actor: str) -> str:
    """Who did it, as a person reads it: a user's name, or which part of omamori."""
    for prefix in ("dashboard:", "cli:"):
        if actor.startswith(prefix):
            return actor.removeprefix(prefix)
    head = actor.split(":")[0]
    return label(ui, "actor", head)


def event_row(ui: UI, e: dict[str, Any]) -> dict[str, Any]:
    """An audit Event as a line of the timeline: what happened and its facts, in the reader's language
    (a note reads as the note, a status change as "from → to (reason)")."""
    d = e.get("detail") or {}
    action = str(e.get("action", ""))
    if action in ("candidate.status", "case.status") and "to" in d:
        said = f"{word(ui, 'status', d.get('from', ''))} → {word(ui, 'status', d.get('to', ''))}"
        reason = (render_stored(d["reason_text"], ui.lang, fallback=str(d.get("reason", "")))
                  if isinstance(d.get("reason_text"), dict) else str(d.get("reason") or ""))
        if reason:
            said += f"（{reason}）" if ui.lang == "ja" else f" ({reason})"
    elif action == "candidate.note":
        said = str(d.get("text", ""))
    elif "text" in d and isinstance(d["text"], dict):
        said = render_stored(d["text"], ui.lang, fallback="")
    else:
        # Words of a vocabulary in the reader's language; what a server or a person wrote, as written.
        shown = {**d}
        if d.get("source"):
            shown["source"] = word(ui, "source", str(d["source"]))
        if d.get("verdict"):
            shown["verdict"] = verdict_label(ui, d["verdict"])
        if d.get("code"):  # a recipient left out: why, from the catalogue
            shown["why"] = render_stored({"key": f"takedown.cut_{d['code']}", "params": {}}, ui.lang,
                                         fallback=str(d.get("why", "")))
        said = " · ".join(f"{v}" for k, v in shown.items()
                          if k in ("recipient", "source", "message", "error", "reason", "verdict", "score", "why")
                          and v not in ("", None))
    return {**e, "action": label(ui, "ev", action.replace(".", "_")), "actor": actor_label(ui, str(e.get("actor", ""))),
            "said": said}


def finding_subject(subject: str) -> str:
    """A finding's subject as people name it: a takedown request is TD-<id>, not its internal key."""
    return "TD-" + subject.removeprefix("request:") if subject.startswith("request:") else subject


# The names takedown.contacts gives a recipient it knows only by its kind (no name in RDAP or the table).
GENERIC_RECIPIENTS = frozenset({"Hosting service", "Hosting network", "Registrar"})


def recipient_name(ui: UI, name: Any, kind: Any) -> str:
    """A recipient's name; one known only by its kind is called by the kind, in the reader's language."""
    name = str(name or "")
    return word(ui, "recipient", kind) if not name or name in GENERIC_RECIPIENTS else name
