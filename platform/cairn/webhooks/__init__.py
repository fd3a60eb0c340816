"""Webhooks: declared per project, delivered signed (Standard Webhooks), retried, logged."""
