"""What every report shares: the Jinja environment (autoescaped), inline SVG bar charts (no external
assets, so a report survives mail clients and archives), CSV for Excel in Japan, and local time."""

from __future__ import annotations

import csv
import html
import io
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from watcher.core.texts import render_stored, t, word

TEMPLATES = Path(__file__).parent / "templates"
SEV_COLOURS = {"critical": "#b71c1c", "high": "#e65100", "medium": "#f9a825", "low": "#558b2f", "info": "#607d8b"}


def env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    # Every sentence of a page comes from the text catalogue: {{ t("report.title", lang) }}.
    env.globals["t"] = t
    env.globals["stored"] = render_stored
    # A severity, a source... in the words every reader sees (texts.WORDS): {{ word("severity", f.severity, lang) }}.
    env.globals["word"] = word
    return env


def sparkline(values: list[float | int | None], *, width: int = 120, height: int = 26,
              colour: str = "#0b1f4b") -> Markup:
    """A small line of the values, oldest left, the last point marked (weeks without a figure are gaps)."""
    known = [v for v in values if v is not None]
    if len(values) < 2 or not known:
        return Markup("")
    lo, hi = min(known), max(known)
    span = (hi - lo) or 1
    step = (width - 8) / (len(values) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return 4 + i * step, height - 4 - (v - lo) / span * (height - 8)

    segments: list[list[tuple[float, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            segments.append([])
        else:
            segments[-1].append(xy(i, float(v)))
    lines = "".join(
        f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in seg) + '"/>' for seg in segments if len(seg) > 1)
    last = next(((i, v) for i, v in reversed(list(enumerate(values))) if v is not None), None)
    dot = ""
    if last is not None:
        x, y = xy(last[0], float(last[1]))
        dot = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>'
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
                  f"{lines}{dot}</svg>")


def bar_chart(items: list[tuple[str, int]], *, colours: dict[str, str] | None = None, width: int = 420,
              colour: str = "#0b1f4b") -> Markup:
    """A horizontal bar chart as inline SVG (labels escaped here: the result is marked safe)."""
    if not items:
        return Markup('<p class="muted">—</p>')
    row, label_w = 22, 150
    top = max(v for _, v in items) or 1
    h = row * len(items) + 4
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" role="img">']
    for i, (label, value) in enumerate(items):
        y = i * row + 2
        w = int((width - label_w - 50) * value / top)
        fill = (colours or {}).get(label, colour)
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12">{html.escape(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1)}" height="{row - 8}" fill="{fill}"/>'
                     f'<text x="{label_w + max(w, 1) + 4}" y="{y + 15}" font-size="12">{value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def local_time(dt: datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d") -> str:
    return dt.astimezone(tz).strftime(fmt) if dt else "-"




def csv_bytes(rows: list[dict[str, Any]] | list[list[Any]], header: list[str] | None = None) -> bytes:
    buf = io.StringIO()
    if header is not None:
        w = csv.writer(buf)
        w.writerow(header)
        w.writerows(rows)
    else:
        dict_rows = cast(list[dict[str, Any]], rows)  # without a header, the rows are dicts
        fields = list(dict_rows[0]) if dict_rows else ["empty"]
        w2 = csv.DictWriter(buf, fieldnames=fields)
        w2.writeheader()
        w2.writerows(dict_rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


