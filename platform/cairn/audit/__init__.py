"""The per-project audit log."""
