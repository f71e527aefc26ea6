"""Why omamori thinks something: one reason in words, with the points it adds.

Discovery (a name looks like the brand) and scoring (a page looks like the brand) write the same
shape, and the dashboard, the letters and the reports show ``detail`` exactly as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reason:
    kind: str  # keyword, permutation, edit_distance, homoglyph, visual, logo, credential_form, ...
    detail: str  # human-readable, shown as written in the dashboard and the takedown request
    points: int = 0
    source: str = ""  # where a discovery reason came from (ct, certstream, report, ...); empty for scoring

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "detail": self.detail, "points": self.points}
        if self.source:
            d["source"] = self.source
        return d
