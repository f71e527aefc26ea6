"""Every sentence omamori says to a person, in Japanese and English, from one catalogue.

A ``Text`` is a catalogue key with its parameters; it is stored as such (``as_dict``) and rendered
in the reader's language when shown (``render``): the dashboard in the user's language, a letter in
the recipient's, a report in both. The catalogue is split by area (one module per floor that
speaks) only so that the areas do not edit one file; ``CATALOGUE`` is their union, keys are unique
across areas (a test checks), and every key has both languages.

Parameters are formatted with ``str.format``; a parameter that is itself a ``Text`` (or its dict)
is rendered in the same language first, so a sentence can embed another.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from watcher.core.texts import (
    alerts,
    capture,
    common,
    discovery,
    mail,
    owned,
    report,
    selfwatch,
    sharing,
    story,
    takedown,
    terminal,
)

Lang = Literal["ja", "en"]
LANGS: Final[tuple[Lang, ...]] = ("ja", "en")

AREAS: Final = (common, discovery, capture, owned, mail, takedown, selfwatch, alerts, report, sharing, story,
         terminal)


def _union() -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for area in AREAS:
        for key, pair in area.TEXTS.items():
            if key in out:
                raise ValueError(f"text key {key!r} is defined twice (in {area.__name__} and an earlier area)")
            out[key] = pair
    return out


CATALOGUE: Final[dict[str, tuple[str, str]]] = _union()

# Key families renamed after texts were stored under them (old prefix -> new): a stored Text keeps its
# key forever (the audit log's reasons), so it is read under the new name rather than shown as a key.
RENAMED: Final[dict[str, str]] = {"cli.verdict.": "capture.verdict."}


def _renamed(key: str) -> str:
    for old, new in RENAMED.items():
        if key.startswith(old):
            return new + key.removeprefix(old)
    return key


# The vocabularies every reader shows (the terminal, the story, the dashboard): a kind of enum value ->
# the catalogue family of its words. One word per value and language, so a status reads the same in
# `omamori candidates list`, in `omamori run --story` and on the triage page.
WORDS: Final[dict[str, str]] = {
    "verdict": "capture.verdict",
    "status": "capture.status",
    "request": "takedown.status",
    "source": "discovery.source",
    "severity": "common.severity",
    "recipient": "takedown.recipient",
    "channel": "takedown.channel",
    "ctstate": "discovery.ct_log_state",
    "owned_source": "owned.source",
    "finding_status": "common.finding_status",
}


def word(kind: str, value: Any, lang: str = "en") -> str:
    """An enum value of a shared vocabulary (``WORDS``) in ``lang``; the value itself if it has no word."""
    v = str(getattr(value, "value", value))
    key = f"{WORDS[kind]}.{v}"
    return t(key, lang) if key in CATALOGUE else v


class MissingText(KeyError):
    """A key that is not in the catalogue (a test fails on it; at run time the key itself is shown)."""


def t(key: str, lang: str = "en", /, **params: Any) -> str:
    """The sentence ``key`` in ``lang`` (``ja`` or ``en``), its ``{placeholders}`` filled."""
    pair = CATALOGUE.get(key) or CATALOGUE.get(_renamed(key))
    if pair is None:
        return key if not params else f"{key} {params}"
    text = pair[0] if lang == "ja" else pair[1]
    if not params:
        return text
    filled = {k: _param(v, lang) for k, v in params.items()}
    try:
        return text.format(**filled)
    except (KeyError, IndexError, ValueError):  # a catalogue typo must not break a page or a letter
        return f"{text} {filled}"


def _param(value: Any, lang: str) -> Any:
    if isinstance(value, Text):
        return value.render(lang)
    if isinstance(value, Mapping) and "key" in value and set(value) <= {"key", "params"}:
        return Text.from_dict(value).render(lang)
    if isinstance(value, list | tuple) and value and all(isinstance(v, Text) or _is_stored_text(v) for v in value):
        # A list of sentences, also as stored (as_dict) and read back.
        return ("、" if lang == "ja" else ", ").join(Text.from_dict(v).render(lang) for v in value)
    return value


def _is_stored_text(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("key"), str) and set(value) <= {"key", "params"}


@dataclass(frozen=True)
class Text:
    """A sentence by key, with the facts it names; rendered in the reader's language."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str = "en") -> str:
        return t(self.key, lang, **self.params)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "params": {k: _stored(v) for k, v in self.params.items()}}

    @classmethod
    def from_dict(cls, data: Any) -> Text:
        if isinstance(data, Text):
            return data
        if not isinstance(data, Mapping) or not isinstance(data.get("key"), str):
            raise ValueError(f"not a stored text: {data!r}")
        params = data.get("params") or {}
        return cls(data["key"], dict(params) if isinstance(params, Mapping) else {})

    def __str__(self) -> str:  # English where a plain string is needed (logs, old columns)
        return self.render("en")


def text(key: str, /, **params: Any) -> Text:
    """``Text(key, params)``, checked: an unknown key fails here, at the call site's first run."""
    if key not in CATALOGUE:
        raise MissingText(key)
    return Text(key, params)


def _stored(v: Any) -> Any:
    """A parameter as JSON keeps it (numpy numbers from image hashes become plain numbers)."""
    if isinstance(v, Text):
        return v.as_dict()
    if isinstance(v, list | tuple):
        return [_stored(x) for x in v]
    if v is None or isinstance(v, str | bool | int | float):
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v)
    return str(v)


def render_stored(value: Any, lang: str, fallback: str = "") -> str:
    """A stored text (``{"key", "params"}``), rendered; the fallback (0.1's plain string) otherwise."""
    try:
        return Text.from_dict(value).render(lang)
    except ValueError:
        return fallback
