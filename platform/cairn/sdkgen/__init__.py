"""`cairn sdk generate`: a typed Python package for one project, from its OpenAPI document.

    document = source.project_document(conn, project)      # or source.fetch_document(...)
    files = generate(document, project="shop", package="shop_sdk")
    write(files, Path("shop-sdk"))

The steps are small modules: `source` gets the document (built locally with the server's
own OpenAPI builder, or fetched from a server), `model` reads it into collections and typed
fields with collision-free Python names (`naming`), and `render` writes the files
(`render_models`, `render_resources`; `pycode` writes source already in ruff's style). The
output depends on the document alone: the same schema gives byte-identical files.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from typing import Any

from cairn.errors import Invalid
from cairn.sdkgen import model, render

_PACKAGE = re.compile(r"^[a-z_][a-z0-9_]{0,79}$")

__all__ = ["default_package", "generate", "write"]


def default_package(project: str) -> str:
    """`my-shop` → `my_shop_sdk`."""
    return project.replace("-", "_") + "_sdk"


def check_package(name: str) -> str:
    if not _PACKAGE.match(name) or keyword.iskeyword(name):
        raise Invalid(
            f"--package {name!r}: a lower-case Python package name is needed, e.g. shop_sdk",
            errors={"package": ["not a lower-case Python identifier"]},
        )
    if name in ("cairn", "cairn_sdk", "cairn_admin"):
        raise Invalid(f"--package {name!r} would shadow Cairn's own package")
    return name


def generate(document: dict[str, Any], *, project: str, package: str) -> dict[str, str]:
    """The files of the SDK (relative path → text) for `document`, the OpenAPI document of
    `project`."""
    sdk = model.read(document, project=project, package=check_package(package))
    return render.render(sdk)


def write(files: dict[str, str], out: Path) -> list[Path]:
    """Write `files` under `out`, leaving files that are already identical untouched;
    returns the paths written."""
    written: list[Path] = []
    for relative, text in sorted(files.items()):
        path = out / relative
        data = text.encode()
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written
