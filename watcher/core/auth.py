"""Dashboard users: scrypt password hashes (stdlib), checked in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from watcher.core.config import Settings, UserSettings

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


def authenticate(settings: Settings, name: str, password: str) -> UserSettings | None:
    for user in settings.dashboard.users:
        if hmac.compare_digest(user.name, name) and user.password_hash and verify_password(password, user.password_hash):
            return user
    # Spend the same time on an unknown user as on a wrong password.
    verify_password(password, "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    return None


ROLE_RANK = {"viewer": 0, "analyst": 1, "approver": 2, "admin": 3}


def can(user: UserSettings, needed: str) -> bool:
    return ROLE_RANK[user.role] >= ROLE_RANK[needed]
