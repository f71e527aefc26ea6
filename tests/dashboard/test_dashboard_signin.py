"""Who is signed in: config users by name, or an OpenID Connect identity matched to a config user."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from dashboard import signin
from watcher.core.config import Settings, load_settings


def _settings(tmp_path: Path, *, oidc: bool) -> Settings:
    empty = tmp_path / "config.toml"
    empty.write_text("")
    users = [{"name": "tanaka@hoshizora-sec.co.jp", "role": "approver"}, {"name": "suzuki", "role": "viewer"}]
    return load_settings(empty, environ={}, overrides={"dashboard": {"oidc": oidc, "users": users}})


class FakeUser(dict[str, Any]):
    @property
    def is_logged_in(self) -> bool:
        return bool(self)


@pytest.mark.parametrize(("claims", "expected"), [
    ({}, None),  # not signed in at the identity provider
    ({"email": "tanaka@hoshizora-sec.co.jp"}, "approver"),
    ({"email": "someone@else.example", "preferred_username": "suzuki"}, "viewer"),
    ({"email": "intruder@else.example", "name": "Intruder"}, None),  # known to the IdP, not to omamori
])
def test_oidc_identity_maps_to_a_config_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            claims: dict[str, str], expected: str | None) -> None:
    monkeypatch.setattr(signin, "st", SimpleNamespace(user=FakeUser(claims), session_state={}))
    user = signin.current_user(_settings(tmp_path, oidc=True))
    assert (user.role if user else None) == expected


def test_password_users_come_from_the_session_and_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = SimpleNamespace(user=FakeUser(), session_state={"user": "suzuki"})
    monkeypatch.setattr(signin, "st", fake)
    s = _settings(tmp_path, oidc=False)
    user = signin.current_user(s)
    assert user is not None and user.role == "viewer"
    # A user removed from the config loses access on the next click, not at the next sign-in.
    fake.session_state["user"] = "removed-user"
    assert signin.current_user(s) is None
