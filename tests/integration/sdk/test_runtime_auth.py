"""End-user auth through the SDK against a live Cairn: sign-up, sign-in, sessions, sign-out,
and a collection whose rules limit each user to their own records."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from cairn.auth.keys import IssuedKey
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from cairn_sdk import AuthResult, Client, Forbidden, NotFound, Unauthorized
from tests.factories import apply_yaml

PASSWORD = "correct horse battery"

NOTES = """
collections:
  - name: notes
    fields:
      text: {type: text, required: true}
    rules:
      list: "owner = @request.auth.id"
      view: "owner = @request.auth.id"
      create: "@request.auth.id != ''"
      update: "owner = @request.auth.id"
      delete: "owner = @request.auth.id"
"""


@pytest.fixture
def notes(runtime: Runtime, project: Project) -> Project:
    apply_yaml(runtime, project, NOTES)
    return project


@pytest.fixture
def client_for(live_server: str, notes: Project) -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make(**kw: Any) -> Client:
        made.append(Client(live_server, notes.slug, **kw))
        return made[-1]

    yield make
    for c in made:
        c.close()


def test_signup_login_me_sessions_logout(client_for: Callable[..., Client]) -> None:
    ada = client_for()
    signed = ada.auth.signup("ada@example.test", PASSWORD)
    assert isinstance(signed, AuthResult)
    assert signed.token is not None and signed.token.startswith("cs_")
    assert signed.user["email"] == "ada@example.test" and signed.expires_at
    assert ada.token == signed.token  # the client now acts as Ada
    assert ada.auth.me()["id"] == signed.user["id"]

    laptop = client_for()
    logged = laptop.auth.login("ada@example.test", PASSWORD)
    assert laptop.token == logged.token != signed.token
    sessions = laptop.auth.sessions()
    assert len(sessions) == 2
    assert [s["current"] for s in sessions].count(True) == 1

    # Revoke the laptop's session from the first client: the laptop is signed out.
    laptop_session = next(s for s in sessions if s["current"])
    ada.auth.revoke_session(laptop_session["id"])
    with pytest.raises(Unauthorized):
        laptop.auth.me()
    assert len(ada.auth.sessions()) == 1

    old_token = ada.token
    ada.auth.logout()
    assert ada.credential is None  # signed out: no token, and no API key to fall back to
    with pytest.raises(Unauthorized):
        client_for(token=old_token).auth.me()

    with pytest.raises(Unauthorized) as refused:
        client_for().auth.login("ada@example.test", "wrong password!")
    assert refused.value.request_id


def test_signup_takes_profile_fields(runtime: Runtime, notes: Project, live_server: str) -> None:
    from tests.factories import apply_file

    apply_file(runtime, notes, "users: {fields: {display_name: {type: text, max_length: 80}}}")
    with Client(live_server, notes.slug) as client:
        result = client.auth.signup("bo@example.test", PASSWORD, display_name="Bo")
        assert result.user["display_name"] == "Bo"
        assert client.auth.me()["display_name"] == "Bo"


def test_a_rule_limited_collection_shows_each_user_their_own(
    client_for: Callable[..., Client], admin_key: IssuedKey
) -> None:
    ada, bob = client_for(), client_for()
    ada_id = ada.auth.signup("ada@example.test", PASSWORD).user["id"]
    bob.auth.signup("bob@example.test", PASSWORD)

    mine = ada.collection("notes").create({"text": "ada's"})
    assert mine["owner"] == ada_id
    bob.collection("notes").create({"text": "bob's"})

    assert [n["text"] for n in ada.collection("notes").list()] == ["ada's"]
    assert [n["text"] for n in bob.collection("notes").list()] == ["bob's"]
    # Hidden by the rule: 404, not 403.
    with pytest.raises(NotFound):
        bob.collection("notes").get(mine["id"])
    with pytest.raises(NotFound):
        bob.collection("notes").update(mine["id"], {"text": "mine now"})
    # Without a credential nothing is visible, and the create rule needs a user.
    anonymous = client_for()
    with pytest.raises(Forbidden):
        anonymous.collection("notes").create({"text": "anon"})
    assert anonymous.collection("notes").list().items == []
    # An admin key bypasses the rules and sees both.
    admin = client_for(api_key=admin_key.secret)
    assert admin.collection("notes").list(count=True).total == 2

    # A client holding an API key acts as the user once signed in, and as the key again
    # after signing out.
    keyed = client_for(api_key=admin_key.secret)
    keyed.auth.login("bob@example.test", PASSWORD)
    assert [n["text"] for n in keyed.collection("notes").list()] == ["bob's"]
    keyed.auth.logout()
    assert keyed.collection("notes").list(count=True).total == 2


def test_authorize_url_needs_no_request(live_server: str) -> None:
    with Client(live_server, "shop") as client:
        url = client.auth.authorize_url("github", "https://app.example.com/done?x=1")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == live_server
    assert parts.path == "/api/v1/projects/shop/auth/oauth/github/authorize"
    assert parse_qs(parts.query) == {"redirect_to": ["https://app.example.com/done?x=1"]}
