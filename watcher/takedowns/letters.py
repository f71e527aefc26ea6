"""The letter's sentences in the recipient's language, from the text catalogue and the case's evidence.

``takedown.notice`` lays the letter out and stays pure; the sentences that depend on the evidence
(why it is phishing, what is asked) are rendered here and passed in. A reason says only what its
stored form says: its catalogue text when it has one, else a sentence for its kind that claims no
more than the kind itself, never an English detail inside a Japanese letter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from takedown import contacts
from watcher.core.reasons import reason_text
from watcher.core.texts import CATALOGUE, t

# Kinds that carry no claim a desk can act on (a scorer's failure, an explanation of points).
SILENT_KINDS = frozenset({"owned"})


def reason_sentence(stored: Mapping[str, Any], lang: str) -> str:
    """One stored reason (``Reason.as_dict``) as a sentence of a letter in ``lang``."""
    if stored.get("text"):
        return reason_text(stored, lang)
    kind = str(stored.get("kind") or "other").lower()
    if lang == "en" and stored.get("detail"):
        return str(stored["detail"])
    key = f"takedown.reason.{kind}"
    return t(key if key in CATALOGUE else "takedown.reason.other", lang)


def reason_sentences(reasons: Iterable[Mapping[str, Any]], lang: str) -> list[str]:
    """The reasons that counted (points above zero), each once, in ``lang``."""
    out: list[str] = []
    for r in reasons:
        if not isinstance(r, Mapping) or str(r.get("kind", "")) in SILENT_KINDS:
            continue
        if int(r.get("points") or 0) <= 0 and r.get("points") is not None:
            continue  # not counted: "signal failed", "(not counted: nothing on the page shows the brand)"
        sentence = reason_sentence(r, lang)
        if sentence and sentence not in out:
            out.append(sentence)
    return out


def ask(kind: str, lang: str, *, mode: str, paths: list[str], links: list[str], source: str = "") -> str:
    """What this recipient is asked to do, for the case's mode."""
    shown_paths = ", ".join(paths) or "/"
    if mode == contacts.REMOVE_CONTENT and kind in (contacts.HOSTING, contacts.CDN):
        return t("takedown.ask.hosting_hacked", lang, paths=shown_paths)
    if kind == contacts.OWNER:
        return t("takedown.ask.owner_hacked", lang, paths=shown_paths)
    if kind == contacts.SHORTENER:
        return t("takedown.ask.shortener", lang, links=", ".join(links) or "-")
    if kind == contacts.REGISTRAR and source.startswith("registry fallback"):
        return t("takedown.ask.registry", lang)
    key = f"takedown.ask.{kind}"
    return t(key if key in CATALOGUE else "takedown.ask.other", lang)
