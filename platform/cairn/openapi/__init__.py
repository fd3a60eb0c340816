"""The per-project OpenAPI document (built in the collections issue)."""
