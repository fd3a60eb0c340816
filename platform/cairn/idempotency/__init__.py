"""Idempotency keys: a repeated write returns the first response instead of running twice."""
