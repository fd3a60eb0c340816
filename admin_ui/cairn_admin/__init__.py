"""The admin web UI: a Flask blueprint with its templates and static files (issue: admin UI)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, template_folder="templates", static_folder="static")
