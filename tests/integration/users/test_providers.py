"""OAuth providers: validation, the admin API, sealed secrets, versions, audit."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from cairn.auth.keys import IssuedKey
from cairn.errors import Invalid
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from cairn.users import providers
from tests.conftest import auth
from tests.factories import make_key
from tests.integration.http.test_app import assert_problem

CORP = {
    "name": "corp",
    "discovery_url": "https://id.example.test/.well-known/openid-configuration",
    "client_id": "cairn",
    "client_secret": "corp-secret-1",
}
GITHUB = {"name": "github", "preset": "github", "client_id": "Iv1.abc", "client_secret": "gh-1"}


def url(project: Project, suffix: str = "") -> str:
    return f"/api/v1/projects/{project.slug}/auth/providers{suffix}"


def sql(runtime: Runtime, project: Project, statement: str) -> Any:
    with runtime.db.owner(project.id) as conn:
        result = conn.execute(text(statement))
        return result.all() if result.returns_rows else None


# -- validation ------------------------------------------------------------------------


def test_a_definition_round_trips_without_its_secret() -> None:
    corp = providers.load_provider(CORP)
    assert corp.kind == "oidc" and corp.client_secret == "corp-secret-1"
    assert corp.to_dict() == {k: v for k, v in CORP.items() if k != "client_secret"}
    assert providers.load_provider(corp.to_dict()).client_secret is None
    github = providers.load_provider({**GITHUB, "scopes": ["read:user"]})
    assert github.kind == "github" and github.effective_scopes == ("read:user",)
    assert providers.load_provider(GITHUB).effective_scopes == ("read:user", "user:email")
    google = providers.load_provider({"name": "google", "preset": "google", "client_id": "x"})
    assert google.metadata_url == "https://accounts.google.com/.well-known/openid-configuration"
    assert google.effective_scopes == ("openid", "email", "profile")
    assert "secret" not in repr(providers.load_provider(CORP)).replace("client_secret", "")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({**CORP, "name": "Corp!"}, "name"),
        ({**CORP, "preset": "google"}, "discovery_url"),  # both
        ({k: v for k, v in CORP.items() if k != "discovery_url"}, "discovery_url"),  # neither
        ({**CORP, "discovery_url": "ftp://id.example.test/"}, "discovery_url"),
        ({**GITHUB, "preset": "facebook"}, "preset"),
        ({**GITHUB, "preset": ["github"]}, "preset"),
        ({**CORP, 7: "x"}, "7"),
        ({**CORP, "client_id": ""}, "client_id"),
        ({**CORP, "client_secret": ""}, "client_secret"),
        ({**CORP, "scopes": ["email"]}, "scopes"),  # OpenID Connect needs openid
        ({**CORP, "scopes": "openid email"}, "scopes"),
        ({**CORP, "tenant": "x"}, "tenant"),
    ],
)
def test_invalid_definitions_name_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as caught:
        providers.load_provider(raw)
    assert field in caught.value.errors, caught.value.errors


def test_a_definition_must_be_an_object() -> None:
    with pytest.raises(Invalid):
        providers.load_provider(["corp"])


# -- the service -----------------------------------------------------------------------


def test_save_seals_the_secret_and_bumps_the_version_on_change(
    runtime: Runtime, project: Project
) -> None:
    box = runtime.provider_box
    with runtime.db.tenant(project.id) as conn:
        kept = providers.load_provider({k: v for k, v in CORP.items() if k != "client_secret"})
        with pytest.raises(Invalid) as caught:
            providers.save_provider(conn, box, project.id, kept, actor="operator")
        assert "client_secret" in caught.value.errors  # a new provider needs its secret
        created = providers.save_provider(
            conn, box, project.id, providers.load_provider(CORP), actor="operator"
        )
        assert created.version == 1
        sealed = providers.sealed_secrets(conn, project.id)[created.id]
        assert b"corp-secret-1" not in sealed and box.open(sealed) == "corp-secret-1"
        same = providers.load_provider(CORP)
        assert not providers.differs(box, created, sealed, same)
        assert not providers.differs(box, created, sealed, kept)
        assert (
            providers.save_provider(
                conn, box, project.id, kept, actor="operator", provider_id=created.id
            ).version
            == 1
        )  # no change, no new version
        rotated = providers.load_provider({**CORP, "client_secret": "corp-secret-2"})
        assert providers.differs(box, created, sealed, rotated)
        after = providers.save_provider(
            conn, box, project.id, rotated, actor="operator", provider_id=created.id
        )
        assert after.version == 2
        assert box.open(providers.sealed_secrets(conn, project.id)[created.id]) == "corp-secret-2"
        renamed = providers.load_provider({**kept.to_dict(), "client_id": "cairn-2"})
        assert (
            providers.save_provider(
                conn, box, project.id, renamed, actor="operator", provider_id=created.id
            ).version
            == 3
        )
        # Kept secret across a definition change.
        assert box.open(providers.sealed_secrets(conn, project.id)[created.id]) == "corp-secret-2"
        listed = providers.list_providers(conn, project.id)
        assert [(p.name, p.definition.client_id) for p in listed] == [("corp", "cairn-2")]
        assert listed[0].definition.client_secret is None
    audit = sql(runtime, project, "SELECT action, detail FROM cairn.audit_log ORDER BY id")
    assert [a for a, _ in audit] == ["auth_provider.created"] + ["auth_provider.updated"] * 2
    assert audit[1][1]["changed"] == ["client_secret"]
    assert audit[2][1]["changed"] == ["client_id"]
    assert "corp-secret" not in str(audit)


def test_renaming_carries_linked_identities_along(runtime: Runtime, project: Project) -> None:
    box = runtime.provider_box
    with runtime.db.tenant(project.id) as conn:
        created = providers.save_provider(
            conn, box, project.id, providers.load_provider(CORP), actor="operator"
        )
        conn.execute(
            text(
                "INSERT INTO cairn.users (project_id, id, email) "
                "VALUES (:p, gen_random_uuid(), 'ada@example.test')"
            ),
            {"p": project.id},
        )
        conn.execute(
            text(
                "INSERT INTO cairn.oauth_identities (project_id, provider, subject, user_id) "
                "SELECT :p, 'corp', '42', id FROM cairn.users"
            ),
            {"p": project.id},
        )
        providers.save_provider(
            conn, box, project.id, providers.load_provider({**CORP, "name": "corp-sso"}),
            actor="operator", provider_id=created.id,
        )  # fmt: skip
        linked = conn.execute(text("SELECT provider FROM cairn.oauth_identities")).scalars()
        assert list(linked) == ["corp-sso"]


# -- the admin API ---------------------------------------------------------------------


def test_lifecycle_over_http(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: IssuedKey
) -> None:
    created = client.post(url(project), json=CORP, headers=auth(admin_key))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert "client_secret" not in body and "corp-secret-1" not in created.get_data(as_text=True)
    assert (body["name"], body["client_id"], body["version"]) == ("corp", "cairn", 1)
    assert body["scopes"] == ["openid", "email", "profile"]
    assert body["callback_url"] == (
        f"http://localhost/api/v1/projects/{project.slug}/auth/oauth/corp/callback"
    )
    assert created.headers["Location"].endswith(url(project, f"/{body['id']}"))
    one = client.get(url(project, f"/{body['id']}"), headers=auth(admin_key)).get_json()
    assert one == body

    # PUT replaces the definition; no secret keeps the stored one.
    kept = {k: v for k, v in CORP.items() if k != "client_secret"}
    same = client.put(url(project, f"/{body['id']}"), json=kept, headers=auth(admin_key))
    assert same.status_code == 200 and same.get_json()["version"] == 1
    moved = client.put(
        url(project, f"/{body['id']}"), json={**kept, "scopes": ["openid", "email"]},
        headers=auth(admin_key),
    )  # fmt: skip
    assert moved.get_json()["version"] == 2 and moved.get_json()["scopes"] == ["openid", "email"]
    stored = sql(runtime, project, "SELECT client_secret FROM cairn.auth_providers")[0][0]
    assert runtime.provider_box.open(bytes(stored)) == "corp-secret-1"

    # A name is unique in the project; a new provider needs its secret.
    assert_problem(client.post(url(project), json=CORP, headers=auth(admin_key)), 409)
    no_secret = client.post(url(project), json={**GITHUB, "client_secret": None},
                            headers=auth(admin_key))  # fmt: skip
    assert "client_secret" in assert_problem(no_secret, 422)["errors"]
    bad = client.post(url(project), json={**CORP, "name": "x", "preset": "github"},
                      headers=auth(admin_key))  # fmt: skip
    assert "discovery_url" in assert_problem(bad, 422)["errors"]

    assert client.post(url(project), json=GITHUB, headers=auth(admin_key)).status_code == 201
    first = client.get(url(project), query_string={"limit": 1}, headers=auth(admin_key))
    page = first.get_json()
    assert [p["name"] for p in page["items"]] == ["corp"] and page["next_cursor"]
    assert 'rel="next"' in first.headers["Link"]
    rest = client.get(
        url(project), query_string={"limit": 1, "cursor": page["next_cursor"]},
        headers=auth(admin_key),
    ).get_json()  # fmt: skip
    assert [p["name"] for p in rest["items"]] == ["github"] and rest["next_cursor"] is None

    assert client.delete(url(project, f"/{body['id']}"), headers=auth(admin_key)).status_code == 204
    assert_problem(client.get(url(project, f"/{body['id']}"), headers=auth(admin_key)), 404)
    assert_problem(client.delete(url(project, f"/{body['id']}"), headers=auth(admin_key)), 404)
    actions = [
        r[0] for r in sql(runtime, project, "SELECT action FROM cairn.audit_log ORDER BY id")
    ]
    assert actions.count("auth_provider.created") == 2
    assert "auth_provider.updated" in actions and "auth_provider.deleted" in actions


def test_only_admin_keys_manage_providers(
    client: FlaskClient, runtime: Runtime, project: Project, other_project: Project
) -> None:
    service_key = make_key(runtime, project, scope="service")
    assert_problem(client.get(url(project), headers=auth(service_key)), 403)
    assert_problem(client.post(url(project), json=CORP, headers=auth(service_key)), 403)
    assert_problem(client.get(url(project)), 401)
    foreign = make_key(runtime, other_project, scope="admin")
    assert_problem(client.get(url(project), headers=auth(foreign)), 401)
