"""Project backup and restore: a portable archive of one project."""
