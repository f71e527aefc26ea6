"""Why omamori thinks something: one reason in words, with the points it adds.

Discovery (a name looks like the brand) and scoring (a page looks like the brand) write the same
shape. ``detail`` is the English sentence (what 0.1 stored and what logs show); ``text`` is the same
sentence as a catalogue text, so the dashboard, the letters and the reports can say it in the
reader's language (``reason_text``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from watcher.core.texts import Text, render_stored


@dataclass(frozen=True)
class Reason:
    kind: str  # keyword, permutation, edit_distance, homoglyph, visual, logo, credential_form, ...
    detail: str  # English, shown as written where no language is chosen
    points: int = 0
    source: str = ""  # where a discovery reason came from (ct, certstream, report, ...); empty for scoring
    text: Text | None = None

    @classmethod
    def said(cls, kind: str, text: Text, points: int = 0, source: str = "") -> Reason:
        """A reason from the catalogue (the way to write a new one)."""
        return cls(kind, text.render("en"), points, source, text)

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "detail": self.detail, "points": self.points}
        if self.source:
            d["source"] = self.source
        if self.text is not None:
            d["text"] = self.text.as_dict()
        return d


def reason_text(stored: Mapping[str, Any], lang: str) -> str:
    """A stored reason (``Reason.as_dict``) in ``lang``: its catalogue text, else its English detail."""
    return render_stored(stored.get("text"), lang, fallback=str(stored.get("detail") or stored.get("kind") or ""))
