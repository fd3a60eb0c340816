"""The first start of an empty instance: a `default` project and one admin key, so the person
who just ran `cairn serve` can get in. Runs once: any existing project means it is done."""

from __future__ import annotations

from cairn.auth import keys
from cairn.auth.principal import operator
from cairn.runtime import Runtime
from cairn.tenancy.service import Project, create_project, list_projects

DEFAULT_PROJECT = "default"


def first_start(rt: Runtime) -> tuple[Project, keys.IssuedKey] | None:
    with rt.db.unscoped() as conn:
        if list_projects(conn):
            return None
    # One transaction: a project without its key would lock the operator out for good.
    with rt.db.owner() as conn:
        project = create_project(
            conn, slug=DEFAULT_PROJECT, name="Default project", app_role=rt.settings.db_app_role
        )
        rt.enter_claims(conn, project, {})  # the project exists only inside this transaction
        issued = keys.create_key(
            conn, rt.key_pepper, operator(project.id), scope="admin", name="bootstrap"
        )
    return project, issued
