"""The framework floor for bench/records.py: a minimal Flask + psycopg endpoint doing the
same SELECT on the same table, as the same app role, under the same RLS context. Served by
gunicorn exactly like `cairn web`.

    MINIMAL_DSN=... MINIMAL_TABLE='"prj_x".posts' MINIMAL_PROJECT=<uuid> gunicorn minimal_app:app
"""

from __future__ import annotations

import json
import os
from typing import Any

from flask import Flask, Response
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

app = Flask(__name__)
pool = ConnectionPool(os.environ["MINIMAL_DSN"], min_size=2, max_size=8, open=True)
TABLE = os.environ["MINIMAL_TABLE"]
PROJECT = os.environ["MINIMAL_PROJECT"]
QUERY = f"SELECT * FROM {TABLE} WHERE id = %s"


def _json(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


@app.get("/records/<record_id>")
def get_record(record_id: str) -> Response:
    with pool.connection() as conn, conn.transaction():
        conn.execute("SELECT set_config('cairn.project_id', %s, true)", (PROJECT,))
        row = conn.cursor(row_factory=dict_row).execute(QUERY, (record_id,)).fetchone()
    if row is None:
        return Response('{"detail":"not found"}', status=404, mimetype="application/json")
    return Response(json.dumps(row, default=_json), mimetype="application/json")
