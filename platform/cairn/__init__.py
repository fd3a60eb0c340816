"""Cairn: a self-hosted backend-as-a-service with many projects per instance."""

__version__ = "0.1.0"
