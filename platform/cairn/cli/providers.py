"""`cairn providers …`: a project's OAuth sign-in providers. The CLI acts as the operator.

The client secret never goes on the command line (where `ps` and shell history would see
it): it comes from an environment variable (`--client-secret-env VAR`) or stdin
(`--client-secret-stdin`).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from cairn.cli.context import cli_tenant, in_project, open_runtime, project_option
from cairn.cli.output import Result, command_output, table
from cairn.errors import Invalid, NotFound
from cairn.users import providers
from cairn.users.providers import PRESETS, Provider

_COLUMNS = ["name", "kind", "client_id", "scopes", "version", "updated_at"]


@click.group("providers")
def providers_group() -> None:
    """OAuth / OpenID Connect providers end users sign in with."""


def _data(provider: Provider) -> dict[str, Any]:
    return provider.to_dict()


def _row(provider: Provider) -> dict[str, Any]:
    definition = provider.definition
    return {
        "name": provider.name,
        "kind": definition.preset or definition.discovery_url,
        "client_id": definition.client_id,
        "scopes": " ".join(definition.effective_scopes),
        "version": provider.version,
        "updated_at": provider.updated_at,
    }


@providers_group.command("list")
@project_option
@command_output
def list_(slug: str) -> Result:
    """List providers (never their secrets)."""
    with in_project(slug) as (_, project, conn):
        found = providers.list_providers(conn, project.id)
    rows = [_row(p) for p in found]
    return Result(
        {"items": [_data(p) for p in found]}, table(rows, _COLUMNS) if rows else ["no providers"]
    )


@providers_group.command("show")
@project_option
@click.argument("name")
@command_output
def show(slug: str, name: str) -> Result:
    """Show one provider."""
    with in_project(slug) as (_, project, conn):
        provider, _ = providers.find_provider(conn, project.id, name)
    data = _data(provider)
    return Result(data, [f"{k}: {' '.join(v) if isinstance(v, list) else v}"
                         for k, v in data.items()])  # fmt: skip


def _read_secret(env_var: str | None, from_stdin: bool) -> str | None:
    if env_var and from_stdin:
        raise click.UsageError("--client-secret-env and --client-secret-stdin exclude each other")
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if env_var:
        value = os.environ.get(env_var)
        if not value:
            raise Invalid(
                f"the environment variable {env_var} is not set",
                errors={"client_secret": [f"${env_var} is empty or not set"]},
            )
        return value
    return None


@providers_group.command("set")
@project_option
@click.argument("name")
@click.option("--preset", type=click.Choice(sorted(PRESETS)), help="A well-known provider.")
@click.option("--discovery-url", help="A generic OpenID Connect provider's discovery URL.")
@click.option("--client-id", required=True, help="The client id the provider issued.")
@click.option("--client-secret-env", metavar="VAR", help="Read the client secret from $VAR.")
@click.option("--client-secret-stdin", is_flag=True, help="Read the client secret from stdin.")
@click.option("--scope", "scopes", multiple=True, help="A scope to ask for (repeat; default: "
              "the preset's, or openid email profile).")  # fmt: skip
@command_output
def set_(
    slug: str,
    name: str,
    preset: str | None,
    discovery_url: str | None,
    client_id: str,
    client_secret_env: str | None,
    client_secret_stdin: bool,
    scopes: tuple[str, ...],
) -> Result:
    """Create provider NAME or replace its definition. A new provider needs its secret; on an
    existing one, leaving the secret out keeps the stored one."""
    secret = _read_secret(client_secret_env, client_secret_stdin)
    raw: dict[str, Any] = {"name": name, "client_id": client_id}
    if preset is not None:
        raw["preset"] = preset
    if discovery_url is not None:
        raw["discovery_url"] = discovery_url
    if secret is not None:
        raw["client_secret"] = secret
    if scopes:
        raw["scopes"] = list(scopes)
    wanted = providers.load_provider(raw)
    with in_project(slug) as (rt, project, conn):
        try:
            existing: Provider | None = providers.find_provider(conn, project.id, name)[0]
        except NotFound:
            existing = None
        provider = providers.save_provider(
            conn, rt.provider_box, project.id, wanted, actor="operator",
            provider_id=existing.id if existing else None,
        )  # fmt: skip
    if existing is None:
        verb = "created"
    elif provider.version != existing.version:
        verb = "updated"
    else:
        verb = "unchanged:"
    return Result(
        _data(provider), [f"{verb} provider {provider.name} (version {provider.version})"]
    )


@providers_group.command("delete")
@project_option
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@command_output
def delete(slug: str, name: str, yes: bool) -> Result:
    """Delete provider NAME. Users who signed in through it keep their accounts, but lose the
    link to it."""
    with open_runtime() as rt:
        project = rt.projects.resolve(slug)
        with cli_tenant(rt, project) as conn:  # a clear "not found" before asking
            providers.find_provider(conn, project.id, name)
        if not yes:  # asked outside any transaction: nothing is held while a person decides
            click.confirm(
                f"Delete OAuth provider '{name}'? Its users can no longer sign in through it",
                abort=True,
                err=True,
            )
        with cli_tenant(rt, project) as conn:
            provider, _ = providers.find_provider(conn, project.id, name)
            providers.delete_provider(conn, project.id, provider.id, actor="operator")
    return Result(_data(provider), [f"deleted provider {name}"])
