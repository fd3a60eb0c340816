"""API key service: issue, hash-only storage, authenticate, revoke, rotate, last-used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, text, update

from cairn.auth import keys
from cairn.auth.models import api_keys
from cairn.auth.principal import operator
from cairn.crypto import keyed_hash
from cairn.db.tenant import ContextMode
from cairn.errors import Invalid, NotFound, Unauthorized
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.factories import make_key

MINUTE = timedelta(minutes=1)


def _auth(
    runtime: Runtime, project: Project, token: str, mode: ContextMode = "set_config"
) -> keys.Principal:
    with runtime.db.request() as conn:
        entry = keys.enter_with_key(conn, mode, runtime.key_pepper, project.id, token, MINUTE)
        # The transaction is now scoped to the project, with the caller's claims.
        assert conn.execute(text("SELECT current_setting('cairn.project_id')")).scalar() == str(
            project.id
        )
        assert conn.execute(text("SELECT current_setting('cairn.scope')")).scalar() == (
            entry.principal.scope
        )
        return entry.principal


def test_token_shape_and_entropy(runtime: Runtime, project: Project) -> None:
    issued = make_key(runtime, project, scope="write", name="ci")
    assert issued.secret.startswith("ck_") and len(issued.secret) == 58
    assert issued.key.prefix == issued.secret[:15]
    assert (issued.key.scope, issued.key.name, issued.key.status) == ("write", "ci", "active")
    # 55 URL-safe base64 characters carry 330 bits; 43 of them stay secret (258 bits ≥ 32 bytes).
    assert len(issued.secret) - len(issued.key.prefix) >= 43


def test_only_a_keyed_hash_is_stored(runtime: Runtime, project: Project) -> None:
    issued = make_key(runtime, project)
    with runtime.db.tenant(project.id) as conn:
        row = conn.execute(text("SELECT * FROM cairn.api_keys WHERE id = :i"), {"i": issued.key.id})
        stored = row.mappings().one()
    assert issued.secret not in str(dict(stored))
    assert bytes(stored["key_hash"]) == keyed_hash(runtime.key_pepper, issued.secret)
    assert bytes(stored["key_hash"]) != keyed_hash(b"another pepper", issued.secret)


@pytest.mark.parametrize("mode", ["set_config", "set_local"])
def test_authenticate_gives_a_principal_of_the_project(
    runtime: Runtime, project: Project, mode: ContextMode
) -> None:
    issued = make_key(runtime, project, scope="service")
    principal = _auth(runtime, project, issued.secret, mode)
    assert (principal.kind, principal.scope, principal.key_id, principal.project_id) == (
        "api_key",
        "service",
        issued.key.id,
        project.id,
    )


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: "",
        lambda t: "ck_",
        lambda t: t[:-1],
        lambda t: t + "x",
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: "cs_" + t[3:],
        lambda t: t.upper(),
        lambda t: t[:15] + "x" * 43,
    ],
    ids=["empty", "bare-prefix", "short", "long", "last-char", "other-kind", "case", "guess"],
)
def test_garbled_tokens_are_unauthorized(
    runtime: Runtime, project: Project, mangle: object
) -> None:
    issued = make_key(runtime, project)
    with pytest.raises(Unauthorized):
        _auth(runtime, project, mangle(issued.secret))  # type: ignore[operator]


@pytest.mark.parametrize("mode", ["set_config", "set_local"])
def test_a_key_of_another_project_is_unauthorized(
    runtime: Runtime, project: Project, other_project: Project, mode: ContextMode
) -> None:
    issued = make_key(runtime, other_project)
    with pytest.raises(Unauthorized, match="not valid for this project"):
        _auth(runtime, project, issued.secret, mode)


def test_expired_key_is_unauthorized(runtime: Runtime, project: Project) -> None:
    issued = make_key(runtime, project, expires_in=timedelta(hours=1))
    assert _auth(runtime, project, issued.secret).key_id == issued.key.id
    with runtime.db.tenant(project.id) as conn:
        conn.execute(
            update(api_keys)
            .where(api_keys.c.project_id == project.id, api_keys.c.id == issued.key.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    with pytest.raises(Unauthorized, match="expired"):
        _auth(runtime, project, issued.secret)


def test_revoked_key_is_unauthorized_and_revoking_again_changes_nothing(
    runtime: Runtime, project: Project
) -> None:
    issued = make_key(runtime, project)
    with runtime.db.tenant(project.id) as conn:
        revoked = keys.revoke_key(conn, operator(project.id), issued.key.id)
        again = keys.revoke_key(conn, operator(project.id), issued.key.id)
    assert revoked.status == "revoked" and again.revoked_at == revoked.revoked_at
    with pytest.raises(Unauthorized, match="revoked"):
        _auth(runtime, project, issued.secret)


def test_rotate_issues_a_successor_and_revokes_the_old(runtime: Runtime, project: Project) -> None:
    old = make_key(runtime, project, scope="write", name="deploy", expires_in=timedelta(days=10))
    with runtime.db.tenant(project.id) as conn:
        new = keys.rotate_key(conn, runtime.key_pepper, operator(project.id), old.key.id)
    assert new.secret != old.secret
    assert (new.key.scope, new.key.name, new.key.rotated_from) == ("write", "deploy", old.key.id)
    assert new.key.expires_at is not None and old.key.expires_at is not None
    assert abs(new.key.expires_at - old.key.expires_at) < timedelta(seconds=5)
    assert _auth(runtime, project, new.secret).key_id == new.key.id
    with pytest.raises(Unauthorized):
        _auth(runtime, project, old.secret)


def test_rotating_a_revoked_key_is_refused(runtime: Runtime, project: Project) -> None:
    issued = make_key(runtime, project)
    with runtime.db.tenant(project.id) as conn:
        keys.revoke_key(conn, operator(project.id), issued.key.id)
    with pytest.raises(Invalid, match="revoked key cannot be rotated"):
        with runtime.db.tenant(project.id) as conn:
            keys.rotate_key(conn, runtime.key_pepper, operator(project.id), issued.key.id)


def test_unknown_key_ids_are_not_found(
    runtime: Runtime, project: Project, other_project: Project
) -> None:
    foreign = make_key(runtime, other_project)
    with runtime.db.tenant(project.id) as conn:
        for call in (keys.revoke_key, keys.get_key):
            with pytest.raises(NotFound):
                if call is keys.get_key:
                    keys.get_key(conn, project.id, foreign.key.id)
                else:
                    keys.revoke_key(conn, operator(project.id), foreign.key.id)


def _last_used(conn: Connection, key_id: object) -> datetime | None:
    value = conn.execute(
        text("SELECT last_used_at FROM cairn.api_keys WHERE id = :i"), {"i": key_id}
    ).scalar()
    return value  # type: ignore[no-any-return]


def test_last_used_is_written_at_most_once_per_interval(runtime: Runtime, project: Project) -> None:
    issued = make_key(runtime, project)
    with runtime.db.tenant(project.id) as conn:
        assert _last_used(conn, issued.key.id) is None
    _auth(runtime, project, issued.secret)
    with runtime.db.tenant(project.id) as conn:
        first = _last_used(conn, issued.key.id)
        xmin_first = conn.execute(
            text("SELECT xmin::text FROM cairn.api_keys WHERE id = :i"), {"i": issued.key.id}
        ).scalar()
    for _ in range(5):
        _auth(runtime, project, issued.secret)
    with runtime.db.tenant(project.id) as conn:
        assert _last_used(conn, issued.key.id) == first
        # No new row version: the repeated requests wrote nothing.
        assert (
            conn.execute(
                text("SELECT xmin::text FROM cairn.api_keys WHERE id = :i"), {"i": issued.key.id}
            ).scalar()
            == xmin_first
        )
        conn.execute(
            text(
                "UPDATE cairn.api_keys SET last_used_at = now() - interval '2 minutes' "
                "WHERE id = :i"
            ),
            {"i": issued.key.id},
        )
    _auth(runtime, project, issued.secret)
    with runtime.db.tenant(project.id) as conn:
        refreshed = _last_used(conn, issued.key.id)
    assert first is not None and refreshed is not None and refreshed > first - MINUTE


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"scope": "root"}, "scope"),
        ({"scope": "read", "name": ""}, "name"),
        ({"scope": "read", "name": "x" * 101}, "name"),
    ],
)
def test_bad_key_parameters(runtime: Runtime, project: Project, kwargs: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(Invalid) as caught:
        with runtime.db.tenant(project.id) as conn:
            keys.create_key(conn, runtime.key_pepper, operator(project.id), **kwargs)
    assert field in caught.value.errors


def test_key_operations_are_audited(runtime: Runtime, project: Project) -> None:
    issued = make_key(runtime, project)
    with runtime.db.tenant(project.id) as conn:
        keys.revoke_key(conn, operator(project.id), issued.key.id)
        actions = conn.execute(
            text("SELECT action, actor, target FROM cairn.audit_log ORDER BY id")
        ).all()
    assert [tuple(a) for a in actions] == [
        ("api_key.created", "operator", str(issued.key.id)),
        ("api_key.revoked", "operator", str(issued.key.id)),
    ]
