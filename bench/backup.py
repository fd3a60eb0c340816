"""Backup benchmark: `cairn projects export` / `import` against pg_dump / pg_restore of the
same rows, and how the export's memory grows with the project.

    .venv/bin/python bench/backup.py [--rows 1000000] [--small 100000]

Starts its own embedded Postgres and Redis in a temporary directory, seeds a collection of
`--small` rows and one of `--rows` rows with COPY, and runs each command as a child process
(what an operator runs), timing it and reading its peak RSS from wait4(). Prints:

 (a) export throughput (rows/s) and its time against `pg_dump -Fc` of the project's schema
 (b) import throughput (rows/s) and its time against `pg_restore` of that dump
 (c) peak RSS of export and import at both sizes, and against `cairn projects list` (the
     floor: a Cairn process that starts, connects and prints): flat memory means the ratio
     between the two sizes stays near 1.0
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from tests.factories import apply_file, make_project  # noqa: E402

from bench import embedded  # noqa: E402
from cairn.runtime import Runtime  # noqa: E402

DEFINITION = """
collections:
  - name: events
    fields:
      title: {type: text, required: true}
      kind: {type: select, values: [click, view, buy]}
      amount: {type: number}
      quantity: {type: integer}
      happened_at: {type: datetime}
      meta: {type: json}
    indexes: [{fields: [kind, happened_at]}]
"""


def pg_bin(tool: str) -> str:
    import pgserver

    return str(Path(pgserver.__file__).parent / "pginstall" / "bin" / tool)


def seed(runtime: Runtime, rows: int) -> Any:
    project = apply_file(runtime, make_project(runtime), DEFINITION)
    rng = random.Random(rows)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    # COPY is refused under forced RLS: seed through the superuser login (an operator's act).
    with runtime.db.owner_engine.begin() as conn:
        raw = conn.connection.driver_connection
        columns = "id, created_at, updated_at, title, kind, amount, quantity, happened_at, meta"
        with (
            raw.cursor() as cur,
            cur.copy(f'COPY "{project.schema_name}".events ({columns}) FROM STDIN') as copy,
        ):
            for i in range(rows):
                at = start + timedelta(seconds=i)
                copy.write_row(
                    (
                        uuid.uuid4(),
                        at,
                        at,
                        f"event number {i} with a title of ordinary length",
                        rng.choice(("click", "view", "buy")),
                        rng.random() * 1000,
                        rng.randrange(1, 100),
                        at,
                        f'{{"source": "bench", "tags": ["a", "b"], "score": {i % 97}}}',
                    )
                )
        conn.execute(text(f'ANALYZE "{project.schema_name}".events'))
    return project


def measure(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Run a child process; return its wall time (s) and peak RSS (KiB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        error = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(command)} failed: {error}")
    return elapsed, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    args = parser.parse_args()
    services, env, runtime = embedded.start("cairn-bench-backup-")
    child_env = {**os.environ, **env}
    cairn = [sys.executable, "-m", "cairn"]
    work = Path(tempfile.mkdtemp(prefix="cairn-bench-archives-"))
    database_url = env["CAIRN_DATABASE_URL"]
    results: dict[int, dict[str, float]] = {}
    try:
        floor_s, floor_rss = measure([*cairn, "projects", "list", "--json"], child_env)
        for rows in (args.small, args.rows):
            print(f"seeding {rows:,} rows…", flush=True)
            project = seed(runtime, rows)
            archive = work / f"{project.slug}.zip"
            export_s, export_rss = measure(
                [*cairn, "projects", "export", project.slug, "--out", str(archive), "--json"],
                child_env,
            )
            import_s, import_rss = measure(
                [*cairn, "projects", "import", str(archive), "--as", f"{project.slug}-copy"],
                child_env,
            )
            dump = work / f"{project.slug}.dump"
            dump_s, _ = measure(
                [pg_bin("pg_dump"), "-Fc", "-n", project.schema_name, "-f", str(dump),
                 "-d", database_url],
                child_env,
            )  # fmt: skip
            target = f"restore_{rows}"
            with runtime.db.owner_engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text(f'CREATE DATABASE "{target}"')
                )
            restore_url = make_url(database_url).set(database=target).render_as_string(False)
            restore_s, _ = measure(
                [
                    pg_bin("pg_restore"),
                    "--no-owner",
                    "--exit-on-error",
                    "--single-transaction",
                    "-d",
                    restore_url,
                    str(dump),
                ],
                child_env,
            )
            results[rows] = {
                "export_s": export_s,
                "export_rss": export_rss,
                "import_s": import_s,
                "import_rss": import_rss,
                "dump_s": dump_s,
                "restore_s": restore_s,
                "archive_mb": archive.stat().st_size / 1e6,
                "dump_mb": dump.stat().st_size / 1e6,
            }
    finally:
        runtime.close()
        services.stop()

    print(f"\nfloor: `cairn projects list` {floor_s:.2f} s, peak RSS {floor_rss / 1024:.0f} MiB\n")
    header = f"{'rows':>10} {'':<8} {'seconds':>8} {'rows/s':>10} {'vs pg':>7} {'RSS MiB':>8}"
    print(header)
    for rows, r in results.items():
        for kind, baseline in (("export", "dump_s"), ("import", "restore_s")):
            seconds = r[f"{kind}_s"]
            print(
                f"{rows:>10,} {kind:<8} {seconds:>8.2f} {rows / seconds:>10,.0f} "
                f"{seconds / r[baseline]:>6.2f}x {r[f'{kind}_rss'] / 1024:>8.0f}"
            )
        print(
            f"{'':>10} sizes    archive {r['archive_mb']:.1f} MB, pg_dump -Fc {r['dump_mb']:.1f} MB"
        )
    small, large = results[args.small], results[args.rows]
    print(
        f"\npeak RSS {args.rows:,} vs {args.small:,} rows: export "
        f"{large['export_rss'] / small['export_rss']:.2f}x, import "
        f"{large['import_rss'] / small['import_rss']:.2f}x; export vs the floor "
        f"{large['export_rss'] / floor_rss:.2f}x"
    )


if __name__ == "__main__":
    main()
