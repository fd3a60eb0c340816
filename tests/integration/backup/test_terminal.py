"""On a real terminal (a pseudo-terminal here) export and import draw a progress bar on
stderr; with --json they draw nothing and stdout stays pure JSON."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from cairn.runtime import Runtime
from tests.factories import apply_file, insert_rows, make_project, unique_slug

ROWS = 12_000


def on_terminal(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run `cairn ARGS` with stderr on a pseudo-terminal; return (exit code, stdout, what the
    terminal showed)."""
    leader, follower = pty.openpty()
    termios.tcsetwinsize(follower, (24, 120))  # a new pty is 0 columns wide
    proc = subprocess.Popen(
        [sys.executable, "-m", "cairn", *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
    )
    os.close(follower)
    shown = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                chunk = b""
            if not chunk and proc.poll() is not None:
                break
            shown += chunk
        elif proc.poll() is not None:
            break
    os.close(leader)
    stdout = proc.stdout.read() if proc.stdout else ""
    return proc.wait(timeout=60), stdout, shown.decode(errors="replace")


@pytest.fixture
def slug(runtime: Runtime) -> str:
    project = apply_file(
        runtime, make_project(runtime), "collections: [{name: notes, fields: {body: {type: text}}}]"
    )
    insert_rows(runtime, project, "notes", [{"body": f"note {i}"} for i in range(ROWS)])
    return project.slug


def test_export_and_import_show_progress_on_a_terminal(
    env: dict[str, str], slug: str, tmp_path: Path
) -> None:
    archive = tmp_path / "notes.zip"
    code, stdout, shown = on_terminal(env, "projects", "export", slug, "--out", str(archive))
    assert code == 0, shown
    final = [part for part in shown.replace("\n", "\r").split("\r") if part.strip()][-1]
    assert f"export {slug}: 100%" in final and "12.0k/12.0k" in final and "row/s" in final
    assert stdout.startswith(f"exported project {slug} to {archive}")

    code, stdout, shown = on_terminal(
        env, "projects", "import", str(archive), "--as", unique_slug()
    )
    assert code == 0, shown
    assert "100%" in shown and "12.0k/12.0k" in shown


def test_json_output_draws_no_bar(env: dict[str, str], slug: str, tmp_path: Path) -> None:
    archive = tmp_path / "notes.zip"
    code, stdout, shown = on_terminal(
        env, "projects", "export", slug, "--out", str(archive), "--json"
    )
    assert code == 0, shown
    assert shown == ""
    assert json.loads(stdout)["members"][0]["rows"] == ROWS
