"""`cairn sdk generate` from the command line: local and remote (`--url`) generation give
the same bytes, regenerating an unchanged schema changes nothing, and the generated
package passes `mypy --strict`, `ruff check` and `ruff format --check` — with mypy also
rejecting misuse of the typed calls and filters in code that uses the package."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import cairn_sdk
from cairn.auth.keys import IssuedKey
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.conftest import CairnCli
from tests.factories import apply_yaml, make_key
from tests.integration.sdk.test_generate import BLOG

BIN = Path(sys.executable).parent
# Where mypy finds the runtime: an editable install is a path hook mypy cannot follow.
RUNTIME_ROOT = str(Path(cairn_sdk.__file__).parent.parent)
RUFF_RULES = "E,F,W,I,B,UP,S,SIM,RUF"


@pytest.fixture
def blog(runtime: Runtime, project: Project) -> Project:
    apply_yaml(runtime, project, BLOG)
    return project


def files_of(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def generate(cairn: CairnCli, *args: str) -> str:
    result = cairn("sdk", "generate", *args)
    assert result.exit_code == 0, result.output
    return result.output


def run(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_local_and_remote_generation_are_byte_identical(
    cairn: CairnCli,
    blog: Project,
    admin_key: IssuedKey,
    runtime: Runtime,
    live_server: str,
    tmp_path: Path,
) -> None:
    local, again, remote = tmp_path / "local", tmp_path / "again", tmp_path / "remote"
    out = generate(cairn, "--project", blog.slug, "--out", str(local))
    package = blog.slug.replace("-", "_") + "_sdk"  # the default name
    assert f"wrote 6 of 6 files to {local}" in out and f"pip install {local}" in out
    generated = files_of(local)
    assert sorted(generated) == sorted(
        [
            f"{package}/__init__.py",
            f"{package}/filters.py",
            f"{package}/models.py",
            f"{package}/py.typed",
            f"{package}/resources.py",
            "pyproject.toml",
        ]
    )

    # Regenerating an unchanged schema rewrites nothing, into the same or another folder.
    assert "up to date" in generate(cairn, "--project", blog.slug, "--out", str(local))
    generate(cairn, "--project", blog.slug, "--out", str(again))
    assert files_of(again) == generated

    # Reading the document from a running server gives the same files; any key will do.
    reader = make_key(runtime, blog, scope="read").secret
    generate(
        cairn, "--project", blog.slug, "--out", str(remote), "--url", live_server,
        "--api-key", reader,
    )  # fmt: skip
    assert files_of(remote) == generated

    # A schema change shows in the files and in their header's document version.
    header = generated[f"{package}/models.py"].decode().splitlines()[2]
    apply_yaml(
        runtime,
        blog,
        BLOG.replace("born: {type: date}", "born: {type: date}\n      bio: {type: text}"),
    )
    out = generate(cairn, "--project", blog.slug, "--out", str(local), "--json")
    assert '"written"' in out
    changed = files_of(local)
    assert changed != generated
    new_header = changed[f"{package}/models.py"].decode().splitlines()[2]
    assert new_header != header
    assert re.fullmatch(r"# OpenAPI document version: 0\.1\.0\+[0-9a-f]{12}", new_header)
    assert b"bio: str | None" in changed[f"{package}/models.py"]


def test_cli_errors(
    cairn: CairnCli, blog: Project, live_server: str, other_project: Project, tmp_path: Path
) -> None:
    out = str(tmp_path / "out")
    missing_key = cairn(
        "sdk", "generate", "--project", blog.slug, "--out", out, "--url", live_server
    )
    assert missing_key.exit_code == 1 and "--api-key" in missing_key.stderr

    wrong_key = make_key_for(other_project, cairn)
    refused = cairn(
        "sdk", "generate", "--project", blog.slug, "--out", out, "--url", live_server,
        "--api-key", wrong_key,
    )  # fmt: skip
    assert refused.exit_code == 1 and "401" in refused.stderr

    bad_name = cairn("sdk", "generate", "--project", blog.slug, "--out", out, "--package", "My-SDK")
    assert bad_name.exit_code == 1 and "package" in bad_name.stderr

    unknown = cairn("sdk", "generate", "--project", "no-such-project", "--out", out)
    assert unknown.exit_code == 1
    assert not Path(out).exists()


def make_key_for(project: Project, cairn: CairnCli) -> str:
    result = cairn("keys", "create", "--project", project.slug, "--scope", "read", "--json")
    assert result.exit_code == 0, result.output
    secret = re.search(r'"secret": "(ck_[^"]+)"', result.output)
    assert secret is not None
    return secret.group(1)


# What code using the generated package may write; mypy --strict must accept all of it.
USAGE = """
from datetime import UTC, datetime

from {pkg} import NOT_GIVEN, AsyncClient, Client, Post, PostCreate
from {pkg}.filters import NOW, Post as P, all_of, any_of


def publish(client: Client, fields: PostCreate) -> list[str]:
    post: Post = client.posts.create(**fields)
    post = client.posts.update(post.id, if_match=post.version, status="published", score=None)
    client.posts.update(post.id, title="Kept", tags=["news"], meta=NOT_GIVEN)
    author = client.authors.create(name="Ada", born="1815-12-10")
    recent = (P.published_at <= NOW) & P.score.gte(10) | ~P.status.eq("draft")
    page = client.posts.list(
        filter=all_of(recent, any_of(P.tags.contains("tech"), P.author.eq(author))),
        sort=["-score", "title"],
        expand=["author"],
        limit=10,
    )
    names = [a.name for p in page if p.expand and (a := p.expand.get("author"))]
    when: datetime | None = page.items[0].published_at if page.items else None
    client.posts.delete(post.id, if_match=post.version)
    comment = client.comments.create(post=post.id, body="Hi")
    assert comment.approved is None or isinstance(comment.approved, bool)
    return names + [str(when or datetime.now(UTC))]


async def read(client: AsyncClient) -> float:
    total = 0.0
    async for post in await client.posts.list(filter=P.score > 1.5, sort="-created_at"):
        total += post.score or 0
    return total
"""

# Misuse: every line marked `# error` must be reported by mypy, and nothing else.
MISUSE = """
from {pkg} import Client
from {pkg}.filters import Post as P


def misuse(client: Client) -> None:
    client.posts.create(title=1)  # error
    client.posts.create(score=1.0)  # error
    client.posts.create(title="x", status="archived")  # error
    client.posts.create(title="x", unknown=True)  # error
    client.posts.update("id", title=None)  # error
    client.posts.list(sort="-nope")  # error
    client.posts.list(expand=["title"])  # error
    client.posts.get("id").title = "frozen"  # error
    client.posts.list(filter=P.score >= 10 & P.status.eq("draft"))  # error
    client.posts.list(filter=P.status.eq("archived"))  # error
    client.posts.list(filter=P.score > "ten")  # error
    client.posts.list(filter=P.title > 3)  # error
    client.posts.list(filter=P.tags.contains("sports"))  # error
    client.posts.list(filter=P.featured >= True)  # error
    client.posts.list(filter=P.score == "x")  # error
"""


def test_generated_package_passes_mypy_strict_and_ruff(
    cairn: CairnCli, blog: Project, tmp_path: Path
) -> None:
    out = tmp_path / "sdk"
    generate(cairn, "--project", blog.slug, "--out", str(out), "--package", "blog_sdk")
    package = out / "blog_sdk"

    ruff = BIN / "ruff"
    checked = run(
        str(ruff), "check", "--isolated", "--target-version", "py311", "--select", RUFF_RULES,
        "--output-format", "concise", ".",
        cwd=out,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = run(str(ruff), "format", "--isolated", "--check", "--diff", ".", cwd=out)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr

    usage, misuse = tmp_path / "usage.py", tmp_path / "misuse.py"
    usage.write_text(textwrap.dedent(USAGE).format(pkg="blog_sdk"))
    misuse.write_text(textwrap.dedent(MISUSE).format(pkg="blog_sdk"))
    config = tmp_path / "mypy.ini"
    config.write_text(f"[mypy]\nmypy_path = {RUNTIME_ROOT}:{out}\n")
    result = run(
        str(BIN / "mypy"), "--strict", "--config-file", str(config),
        "--cache-dir", str(tmp_path / "mypy-cache"),
        str(package), str(usage), str(misuse),
        cwd=out,
    )  # fmt: skip
    report = result.stdout + result.stderr
    errors = re.findall(r"^(.+?):(\d+): error:", result.stdout, re.MULTILINE)
    assert all(Path(path).name == "misuse.py" for path, _ in errors), report
    expected = {
        n for n, line in enumerate(misuse.read_text().splitlines(), 1) if line.endswith("# error")
    }
    assert {int(n) for _, n in errors} == expected, report
