"""Dashboard users: scrypt password hashes (stdlib), checked in constant time; the sign-in limits;
the OpenID Connect identity of a person.

- ``authenticate`` computes exactly one scrypt per attempt, known user or not (an unknown user is
  checked against a dummy hash), so the time taken does not say which users exist.
- ``lockout`` / ``record_attempt``: wrong passwords are Events (``signin.failed``); too many for one
  user name, or from one client, within ``dashboard.signin_window_minutes`` lock that name or
  client out for ``dashboard.lockout_minutes`` (``signin.locked`` Event), even for the right
  password. Unknown names are counted and locked like known ones (a lockout says nothing either).
- ``oidc_user``: the identity is the issuer's ``sub`` (never a name the person can edit), or an
  email only when the issuer says ``email_verified``; either must be configured on the user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from watcher.core.config import Settings, UserSettings
from watcher.core.events import record
from watcher.core.models import Event

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValueError("a password needs at least 8 characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt_b64), n=int(n), r=int(r), p=int(p),
                                dklen=len(base64.b64decode(digest_b64)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


_DUMMY = f"scrypt${_N}${_R}${_P}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def authenticate(settings: Settings, name: str, password: str) -> UserSettings | None:
    """The user whose name and password these are, or None. One scrypt whatever the name."""
    found: UserSettings | None = None
    for user in settings.dashboard.users:  # every name compared, none skipped
        if hmac.compare_digest(user.name.encode(), name.encode()) and found is None:
            found = user
    stored = found.password_hash if found is not None and found.password_hash else _DUMMY
    ok = verify_password(password, stored)
    return found if ok and found is not None and found.password_hash else None


# ---------------------------------------------------------------- sign-in limits

ACTOR = "dashboard:signin"


def _last_success(session: Session, key: str, value: str, since: datetime) -> datetime | None:
    rows = session.exec(select(Event).where(Event.action == "signin.ok", col(Event.at) >= since)
                        .order_by(col(Event.at).desc()).limit(200)).all()
    return next((e.at for e in rows if e.detail.get(key) == value), None)


def lockout(engine: sa.Engine, settings: Settings, name: str, client: str, now: datetime) -> datetime | None:
    """Until when ``name`` or ``client`` is locked out (None: not locked)."""
    conf = settings.dashboard
    window = timedelta(minutes=conf.signin_window_minutes)
    lock = timedelta(minutes=conf.lockout_minutes)
    with Session(engine) as s:
        for key, value, limit in (("user", name, conf.signin_max_failures_per_user),
                                  ("client", client, conf.signin_max_failures_per_client)):
            since = now - window - lock
            ok_at = _last_success(s, key, value, since) if key == "user" else None
            rows = s.exec(select(Event).where(Event.action == "signin.failed", col(Event.at) >= (ok_at or since))
                          .order_by(col(Event.at))).all()
            times = [e.at for e in rows if e.detail.get(key) == value]
            # Locked from the failure that reached the limit within one window, for `lock`.
            for i in range(limit - 1, len(times)):
                if times[i] - times[i - limit + 1] <= window and now < times[i] + lock:
                    return times[i] + lock
    return None


def record_attempt(engine: sa.Engine, settings: Settings, name: str, client: str, now: datetime, *,
                   ok: bool) -> datetime | None:
    """Record a sign-in attempt as an Event; returns the lockout it caused (a ``signin.locked`` Event)."""
    with Session(engine) as s:
        record(s, ACTOR, "signin.ok" if ok else "signin.failed", ("user", None),
               {"user": name[:200], "client": client[:100]}, at=now)
        s.commit()
    if ok:
        return None
    until = lockout(engine, settings, name, client, now)
    if until is not None:
        with Session(engine) as s:
            record(s, ACTOR, "signin.locked", ("user", None),
                   {"user": name[:200], "client": client[:100], "until": until.isoformat()}, at=now)
            s.commit()
    return until


# ---------------------------------------------------------------- OpenID Connect

def _truthy(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v.lower() == "true")


def oidc_user(settings: Settings, claims: Mapping[str, Any]) -> UserSettings | None:
    """The configured user for an OpenID Connect identity, or None.

    The issuer's ``sub`` is the identity (``oidc_subject`` of a user); an ``email`` counts only when
    ``email_verified`` is true and it is a user's ``oidc_email``. ``name``, ``preferred_username``
    and an unverified email are chosen by the person and are never used. With
    ``dashboard.oidc_issuer`` set, tokens of any other issuer are refused.
    """
    conf = settings.dashboard
    if conf.oidc_issuer and str(claims.get("iss") or "").rstrip("/") != conf.oidc_issuer.rstrip("/"):
        return None
    sub = str(claims.get("sub") or "")
    if sub:
        for u in conf.users:
            if u.oidc_subject and hmac.compare_digest(u.oidc_subject.encode(), sub.encode()):
                return u
    email = str(claims.get("email") or "").strip().lower()
    if email and _truthy(claims.get("email_verified")):
        for u in conf.users:
            if u.oidc_email and u.oidc_email.strip().lower() == email:
                return u
    return None


ROLE_RANK = {"viewer": 0, "analyst": 1, "approver": 2, "admin": 3}


def can(user: UserSettings, needed: str) -> bool:
    return ROLE_RANK[user.role] >= ROLE_RANK[needed]
