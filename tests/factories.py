"""Factories: real rows through the real services, one fresh project per call."""

from __future__ import annotations

import uuid
from datetime import timedelta

from cairn.auth import keys
from cairn.auth.principal import operator
from cairn.runtime import Runtime
from cairn.tenancy.service import Project, create_project


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def make_project(runtime: Runtime, slug: str | None = None, name: str | None = None) -> Project:
    with runtime.db.owner() as conn:
        return create_project(
            conn,
            slug=unique_slug() if slug is None else slug,
            name=name,
            app_role=runtime.settings.db_app_role,
        )


def make_key(
    runtime: Runtime,
    project: Project,
    scope: str = "admin",
    name: str | None = None,
    expires_in: timedelta | None = None,
) -> keys.IssuedKey:
    with runtime.db.tenant(project.id) as conn:
        return keys.create_key(
            conn,
            runtime.key_pepper,
            operator(project.id),
            scope=scope,
            name=name,
            expires_in=expires_in,
        )
