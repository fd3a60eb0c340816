"""The README's SDK quickstart runs as written: generate, then its five lines of use."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from cairn.runtime import Runtime
from tests.conftest import CairnCli
from tests.factories import apply_yaml, make_key, make_project

README = Path(__file__).resolve().parents[3] / "README.md"
POSTS = """
collections:
  - name: posts
    fields:
      title: {type: text, required: true}
      status: {type: select, values: [draft, published], default: draft}
    rules: {list: "", view: ""}
"""


def test_the_readme_sdk_quickstart_runs(
    cairn: CairnCli, runtime: Runtime, live_server: str, tmp_path: Path
) -> None:
    section = README.read_text().split("## The typed Python SDK", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.S)
    assert snippet, "the README lost its SDK example"
    project = make_project(runtime)
    apply_yaml(runtime, project, POSTS)
    key = make_key(runtime, project, "service").secret
    generated = cairn(
        "sdk",
        "generate",
        "--project",
        project.slug,
        "--out",
        str(tmp_path / "out"),
        "--package",
        "default_sdk",
    )
    assert generated.exit_code == 0, generated.output
    code = (
        snippet.group(1)
        .replace("http://127.0.0.1:8090", live_server)
        .replace('"default"', f'"{project.slug}"')
        .replace("ck_…", key)
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path / "out",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"[0-9a-f-]{36} Hello\n", result.stdout), result.stdout
