"""Engines, roles, the tenant transaction and the control-plane metadata."""
