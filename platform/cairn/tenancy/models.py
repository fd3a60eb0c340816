"""The project directory. Not tenant data: the app role may read it (to resolve a slug) but
never write it; projects are created and dropped through the owner path."""

from sqlalchemy import Column, DateTime, String, Table, Uuid, func, text
from sqlalchemy.dialects.postgresql import JSONB

from cairn.db.metadata import metadata

projects = Table(
    "projects",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("slug", String(63), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("schema_name", String(63), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Rate limits declared in the project file (`limits:`), e.g. {"data": "600/minute"}.
    Column("limits", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    # End-user auth settings (`auth:` minus providers) and profile fields (`users:`).
    Column("auth", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("user_fields", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
)
