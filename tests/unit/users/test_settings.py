"""The project file's `auth:` and `users:` sections: validation, defaults, round trips."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cairn.errors import Invalid
from cairn.users.settings import AuthSettings, load_auth, load_user_fields


def test_defaults_are_left_out_of_the_file() -> None:
    assert load_auth({}) == AuthSettings() and AuthSettings().to_dict() == {}
    settings = load_auth({"signup": False, "sessions": {"lifetime": "14d", "idle": "36h"}})
    assert settings.lifetime == timedelta(days=14) and settings.idle == timedelta(hours=36)
    assert settings.to_dict() == {"signup": False, "sessions": {"lifetime": "2w", "idle": "36h"}}
    assert load_auth(settings.to_dict()) == settings


def test_providers_are_not_part_of_the_settings() -> None:
    assert load_auth({"providers": [{"name": "x"}]}) == AuthSettings()


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"signup": "yes"}, "auth.signup"),
        ({"sessions": {"lifetime": "forever"}}, "auth.sessions.lifetime"),
        ({"sessions": {"idle": "31d"}}, "auth.sessions.idle"),
        ({"sessions": {"ttl": "1d"}}, "auth.sessions.ttl"),
        ({"redirect_allow": "https://a"}, "auth.redirect_allow"),
        ({"redirect_allow": ["ftp://a/*"]}, "auth.redirect_allow"),
        ({"links": {"verify_email": "https://a/no-token"}}, "auth.links.verify_email"),
        ({"links": {"welcome": "https://a/{token}"}}, "auth.links.welcome"),
        ({"colour": "blue"}, "auth.colour"),
    ],
)
def test_bad_auth_settings_name_the_key(raw: dict[str, Any], path: str) -> None:
    with pytest.raises(Invalid) as refused:
        load_auth(raw)
    assert path in refused.value.errors


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://app.example.com/done", True),
        ("https://app.example.com/a/b?x=1", True),
        ("https://app.example.com.evil.test/done", False),
        ("https://evil.test/?https://app.example.com/", False),
        ("javascript:alert(1)", False),
        ("http://localhost:3000/cb", True),
    ],
)
def test_redirect_allow_list(url: str, allowed: bool) -> None:
    settings = load_auth(
        {"redirect_allow": ["https://app.example.com/*", "http://localhost:3000/cb"]}
    )
    assert settings.redirect_allowed(url) is allowed


def test_profile_fields_validate_and_round_trip() -> None:
    fields = load_user_fields(
        {"fields": {"nick": {"type": "text", "max_length": 3}, "born": {"type": "date"}}}
    )
    assert fields.names == ("nick", "born")
    assert fields.validate({"born": "2000-01-02"}, partial=True) == {"born": "2000-01-02"}
    with pytest.raises(Invalid) as refused:
        fields.validate({"nick": "toolong", "born": "soon"}, partial=False)
    assert set(refused.value.errors) == {"nick", "born"}
    assert load_user_fields(fields.to_dict()).to_dict() == fields.to_dict()
    assert load_user_fields({}).names == ()


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"fields": {"email": {"type": "text"}}}, "users.fields.email"),
        ({"fields": {"team": {"type": "text", "unique": True}}}, "users.fields.team"),
        ({"fields": {"t": {"type": "relation", "collection": "x"}}}, "users.fields.t"),
        ({"fields": {"t": {"type": "wat"}}}, "users.fields.t.type"),
        ({"columns": {}}, "users"),
    ],
)
def test_bad_profile_fields(raw: dict[str, Any], path: str) -> None:
    with pytest.raises(Invalid) as refused:
        load_user_fields(raw)
    assert path in refused.value.errors
