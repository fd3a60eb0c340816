"""`cairn keys …`: a project's API keys. The CLI acts as the machine's operator."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import UUID

import click

from cairn.auth import keys
from cairn.auth.models import API_KEY_SCOPES
from cairn.auth.principal import operator
from cairn.cli.context import in_project, project_option
from cairn.cli.output import Result, command_output, table
from cairn.durations import parse_duration
from cairn.errors import Invalid

_COLUMNS = ["id", "prefix", "name", "scope", "status", "created_at", "last_used_at", "expires_at"]


@click.group("keys")
def keys_group() -> None:
    """Create, list, revoke and rotate a project's API keys."""


def _key_data(key: keys.ApiKey) -> dict[str, Any]:
    return {**asdict(key), "status": key.status}


def _issued(issued: keys.IssuedKey, verb: str) -> Result:
    data = {**_key_data(issued.key), "secret": issued.secret}
    return Result(
        data,
        [
            f"{verb} {issued.key.scope} key {issued.key.id} ({issued.key.name})",
            "",
            f"  {issued.secret}",
            "",
            "This is the only time the secret is shown. Store it now.",
        ],
    )


@keys_group.command("create")
@project_option
@click.option("--scope", type=click.Choice(API_KEY_SCOPES), required=True)
@click.option("--name", help="What the key is for.")
@click.option("--expires-in", help="Lifetime such as 90d, 12h or 2w (default: never).")
@command_output
def create(slug: str, scope: str, name: str | None, expires_in: str | None) -> Result:
    """Create a key; its secret is printed once."""
    lifetime = None
    if expires_in is not None:
        try:
            lifetime = parse_duration(expires_in)
        except ValueError as exc:
            raise Invalid(str(exc), errors={"expires_in": [str(exc)]}) from None
    with in_project(slug) as (rt, project, conn):
        issued = keys.create_key(
            conn,
            rt.key_pepper,
            operator(project.id),
            scope=scope,
            name=name,
            expires_in=lifetime,
        )
    return _issued(issued, "created")


@keys_group.command("list")
@project_option
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@command_output
def list_(slug: str, include_revoked: bool) -> Result:
    """List keys (never their secrets)."""
    with in_project(slug) as (_, project, conn):
        found, _ = keys.list_keys(conn, project.id, include_revoked=include_revoked)
    rows = [_key_data(k) for k in found]
    return Result({"items": rows}, table(rows, _COLUMNS) if rows else ["no keys"])


@keys_group.command("revoke")
@project_option
@click.argument("key_id", type=click.UUID)
@command_output
def revoke(slug: str, key_id: UUID) -> Result:
    """Revoke a key at once."""
    with in_project(slug) as (_, project, conn):
        key = keys.revoke_key(conn, operator(project.id), key_id)
    return Result(_key_data(key), [f"revoked key {key.id} ({key.name})"])


@keys_group.command("rotate")
@project_option
@click.argument("key_id", type=click.UUID)
@command_output
def rotate(slug: str, key_id: UUID) -> Result:
    """Replace a key with a new secret (same name, scope and expiry); the old one is revoked."""
    with in_project(slug) as (rt, project, conn):
        issued = keys.rotate_key(conn, rt.key_pepper, operator(project.id), key_id)
    return _issued(issued, "rotated to")
