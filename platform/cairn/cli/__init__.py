"""The `cairn` command line: thin click commands over the services."""
