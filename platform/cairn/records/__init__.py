"""Record services, the filter language and cursors (built in the collections issue)."""
