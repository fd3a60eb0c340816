"""Alembic environment. Cairn runs migrations itself (`cairn db upgrade`), handing over a
connection that is already inside the locked transaction and set to the owner role."""

from alembic import context

from cairn.db.metadata import CONTROL_SCHEMA
from cairn.db.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations with `cairn db upgrade`, which sets up roles and locking")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table_schema=CONTROL_SCHEMA,
    include_schemas=False,
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
