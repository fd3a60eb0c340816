#!/usr/bin/env python3
"""The quickstart, needing only python3 (3.11+):

    python3 scripts/dev.py serve   # run Cairn on the embedded Postgres and Redis
    python3 scripts/dev.py test    # run the whole test suite

Both create ./.venv on first use and install Cairn into it (again when dependencies change).
`lint` runs ruff and mypy; anything after the command goes to cairn, pytest or the linters.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".cairn-deps"
DEPENDENCY_FILES = ["pyproject.toml", "setup.py", "sdk/pyproject.toml"]


def _deps_digest() -> str:
    digest = hashlib.sha256()
    for name in DEPENDENCY_FILES:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - any python3 may run this file
        sys.exit("Cairn needs Python 3.11 or newer")
    wanted = _deps_digest()
    if (BIN / "python").exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("setting up .venv (first run or dependencies changed) …", file=sys.stderr)
    venv.create(VENV, with_pip=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", ".[embedded,dev]", "-e", "./sdk"], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in {"serve", "test", "lint", "cairn"}:
        sys.exit(__doc__)
    ensure_venv()
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    # argv[0] must be the full path: Python finds its venv from argv[0], not from execv's path.
    python, cairn = str(BIN / "python"), str(BIN / "cairn")
    if command == "serve":
        os.execv(cairn, [cairn, "serve", *rest])
    if command == "cairn":
        os.execv(cairn, [cairn, *rest])
    if command == "test":
        os.execv(python, [python, "-m", "pytest", *rest])
    ruff = subprocess.run([BIN / "ruff", "check", *rest, "."], check=False).returncode
    fmt = subprocess.run([BIN / "ruff", "format", "--check", "."], check=False).returncode
    mypy = subprocess.run([BIN / "mypy"], check=False).returncode
    sys.exit(1 if (ruff or fmt or mypy) else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
