"""Alembic migrations of the control-plane schema (shipped in the wheel as cairn_migrations)."""
