"""Cross-cutting HTTP: problem+json errors, request ids, bodies, tenancy, health and metrics."""
