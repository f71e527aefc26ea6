"""When: send retries, reminders, escalation, and the auto rule. Pure functions of facts and time.

The auto rule (``auto_rule``): a brand with ``auto_takedown = true`` lets omamori confirm and send
without a person only when ALL of these hold for the latest snapshot — one signal can be wrong, three
independent ones together are overwhelming:

1. the snapshot's verdict is ``phishing``;
2. the page impersonates the brand: it looks like an official reference page or shows the brand's
   logo (a reason whose kind names ``visual``, ``clone``, ``screenshot``, ``phash``, ``layout`` or
   ``logo``), copies its favicon or HTML (``favicon``, ``html``), or names the brand in its text
   (``brand_name``) — the last is the weakest, accepted because the other three conditions must hold
   too, and because visual matching needs the brand's reference captures, which a new deployment
   may not have yet (``omamori capture references``);
3. the page asks for a password or a PIN (a reason of kind ``credential_form`` or naming
   ``password``, or a captured form with ``has_password`` / ``has_pin`` / a password field);
4. the name was made to look like the brand (a discovery reason of kind ``keyword``, ``flattened``,
   ``permutation``, ``edit_distance``, ``homoglyph`` or ``combo``, or the score's ``lookalike_name``)
   — a report of an unrelated name is left to a person.

The kinds are those of ``watcher.capture.score`` (visual, logo, credential_form, lookalike_name) and of
``watcher.discovery.discover``; words rather than exact kinds, so a renamed signal still counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from takedown.contacts import REMOVE_CONTENT, SUSPEND

VISUAL_WORDS = ("visual", "clone", "screenshot", "phash", "layout", "logo")
IMPERSONATION_KINDS = frozenset({"favicon", "html", "brand_name"})
PASSWORD_WORDS = ("password", "credential")
LOOKALIKE_KINDS = frozenset({"keyword", "flattened", "permutation", "edit_distance", "homoglyph", "combo",
                             "lookalike_name"})

BACKOFF_BASE = timedelta(minutes=2)
BACKOFF_CAP = timedelta(hours=6)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: 2, 4, 8 ... minutes, at most 6 h."""
    return min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_CAP)


def reminder_due(*, sent_at: datetime | None, last_reminder_at: datetime | None, reminders_sent: int,
                 now: datetime, remind_after_hours: float, max_reminders: int = 1) -> bool:
    """One reminder ``remind_after_hours`` after sending (and again after as long, up to the max)."""
    if sent_at is None or reminders_sent >= max_reminders:
        return False
    since = last_reminder_at or sent_at
    return now - since >= timedelta(hours=remind_after_hours)


def escalation_due(*, first_sent_at: datetime | None, now: datetime, escalate_after_hours: float) -> bool:
    """The next level is asked ``escalate_after_hours`` after the current level's first request went out."""
    return first_sent_at is not None and now - first_sent_at >= timedelta(hours=escalate_after_hours)


def _kinds(reasons: Iterable[Mapping[str, Any]]) -> list[str]:
    return [str(r.get("kind", "")).lower() for r in reasons if isinstance(r, Mapping)]


def has_password_form(capture: Mapping[str, Any]) -> bool:
    for form in capture.get("forms") or []:
        if not isinstance(form, Mapping):
            continue
        if form.get("has_password") or form.get("has_pin") or form.get("password"):
            return True
        for f in form.get("fields") or form.get("inputs") or []:
            if isinstance(f, Mapping) and str(f.get("type", "")).lower() == "password":
                return True
    return bool(capture.get("has_password_form"))


def auto_rule(*, verdict: str, snapshot_reasons: Iterable[Mapping[str, Any]], capture: Mapping[str, Any],
              candidate_reasons: Iterable[Mapping[str, Any]]) -> tuple[bool, dict[str, bool]]:
    """(overwhelming?, each condition by name: verdict, impersonation, password_form, lookalike — met or
    not; the service words them in the reader's language) — see the module docstring."""
    kinds = _kinds(snapshot_reasons)
    visual = any(w in k for k in kinds for w in VISUAL_WORDS) or bool(IMPERSONATION_KINDS & set(kinds))
    password = any(w in k for k in kinds for w in PASSWORD_WORDS) or has_password_form(capture)
    lookalike = bool(LOOKALIKE_KINDS & {*_kinds(candidate_reasons), *kinds})
    checks = {"verdict": str(verdict).lower() == "phishing", "impersonation": visual, "password_form": password,
              "lookalike": lookalike}
    return all(checks.values()), checks


# ---------------------------------------------------------------- hacked site or phishing domain

def kit_paths(urls: Iterable[str]) -> list[str]:
    """The paths of the reported URLs below the site's root (``/wp-content/x/login.php``)."""
    out = []
    for u in urls:
        path = urlsplit(u).path or "/"
        if path.strip("/") and path not in out:
            out.append(path)
    return out


def site_mode(*, registered_at: datetime | None, checked_at: datetime, urls: Iterable[str],
              home: Mapping[str, Any] | None, min_age_days: int = 365) -> tuple[str, list[tuple[str, bool]]]:
    """``remove_content`` for a hacked legitimate site, else ``suspend``; with the checks in order.

    A phishing domain registered for the purpose is suspended by its registrar: the whole name is
    the phisher's. A legitimate site that was broken into must not lose its domain: its host and
    its owner remove the kit. Told apart by ALL of (one alone is common on phishing domains too):

    1. ``old_registration``: the domain was registered at least ``min_age_days`` before the check
       (phishing domains are days old; the registration date is a registry fact, hard to fake);
    2. ``kit_in_path``: every reported URL points below the root (``/wp-content/…/login.php``),
       the kit was dropped into a directory of someone else's site;
    3. ``ordinary_home``: the home page answered 200 with a page that asks for no password, is not
       parked or for sale, and is not the reported page itself (``home``: the watcher's look at
       ``/``: ``status``, ``has_password``, ``parked``, ``same_as_reported``).

    Anything missing (no registration date, no look at the home page) counts as not met: the
    default is to suspend, and a person can change the mode of a case.
    """
    age_ok = registered_at is not None and checked_at - registered_at >= timedelta(days=min_age_days)
    all_urls = list(urls)
    path_ok = bool(all_urls) and len(kit_paths(all_urls)) > 0 and all(
        (urlsplit(u).path or "/").strip("/") for u in all_urls)
    h = home or {}
    home_ok = (h.get("status") == 200 and not h.get("has_password") and not h.get("parked")
               and not h.get("same_as_reported"))
    checks = [("old_registration", age_ok), ("kit_in_path", path_ok), ("ordinary_home", bool(home_ok))]
    return (REMOVE_CONTENT if all(ok for _, ok in checks) else SUSPEND), checks
