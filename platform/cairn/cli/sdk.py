"""`cairn sdk generate`: a typed Python SDK package for one project.

From this instance's database by default; with `--url` (and `--api-key`) from a running
server's `/api/v1/projects/{p}/openapi.json` instead. Either way the same schema gives the
same files, byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import click

from cairn.cli.context import in_project, project_option
from cairn.cli.output import Result, command_output
from cairn.errors import Invalid


@click.group("sdk")
def sdk_group() -> None:
    """Generate typed client SDKs for a project."""


@sdk_group.command("generate")
@project_option
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write into: pyproject.toml and the package folder.",
)
@click.option("--package", help="Python package name (default: <project>_sdk).")
@click.option(
    "--url",
    help="Read the document from this Cairn server (e.g. https://cairn.example.com) "
    "instead of the local database.",
)
@click.option(
    "--api-key",
    envvar="CAIRN_API_KEY",
    help="Any valid key of the project, for --url (default: $CAIRN_API_KEY).",
)
@command_output
def generate_command(
    slug: str, out: Path, package: str | None, url: str | None, api_key: str | None
) -> Result:
    """Write a typed Python package for the project's collections into OUT.

    Install it with `pip install OUT`; regenerate after a schema change (an unchanged
    schema rewrites nothing)."""
    # Imported here: the generator loads the OpenAPI builder, which `cairn` need not load
    # for every other command.
    from cairn.sdkgen import default_package, generate, source, write

    name = package or default_package(slug)
    if url:
        if not api_key:
            raise Invalid(
                "--url needs --api-key (or CAIRN_API_KEY): a key of the project",
                errors={"api_key": ["required with --url"]},
            )
        document = source.fetch_document(url, slug, api_key)
    else:
        with in_project(slug) as (_, project, conn):
            document = source.project_document(conn, project)
    files = generate(document, project=slug, package=name)
    written = write(files, out)
    version = str(document.get("info", {}).get("version", ""))
    data = {
        "package": name,
        "out": str(out),
        "version": version,
        "files": sorted(files),
        "written": [str(p.relative_to(out)) for p in written],
    }
    if not written:
        return Result(data, [f"{out / name}: up to date (document version {version})"])
    return Result(
        data,
        [
            f"wrote {len(written)} of {len(files)} files to {out} "
            f"(package {name}, document version {version})",
            f"install: pip install {out}",
        ],
    )
