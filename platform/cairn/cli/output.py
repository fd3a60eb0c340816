"""What every command shares: `--json`, one way to print results, one way to fail.

A failing command prints one line to stderr (a problem object with --json) and exits 1.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar, cast
from uuid import UUID

import click

from cairn.dependencies import DEPENDENCY_ERRORS, as_unavailable
from cairn.errors import CairnError, Invalid

F = TypeVar("F", bound=Callable[..., Any])
_JSON_MODE = "cairn.json"


@dataclass
class Result:
    """A command's outcome: `data` for --json, `text` lines for people."""

    data: Any
    text: list[str] = field(default_factory=list)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def fail(message: str, *, as_json: bool, status: int = 1, slug: str = "error") -> None:
    if as_json:
        line = json.dumps({"error": {"type": slug, "status": status, "detail": message}})
    else:
        line = f"error: {message}"
    click.echo(line, err=True)
    sys.exit(1)


def describe(exc: CairnError) -> str:
    if isinstance(exc, Invalid) and exc.errors:
        fields = "; ".join(f"{name}: {', '.join(msgs)}" for name, msgs in exc.errors.items())
        return f"{exc.detail} ({fields})"
    return exc.detail


def command_output(func: F) -> F:
    """Add `--json` to a command, print its Result, and turn CairnError into one line."""

    @click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
    @functools.wraps(func)
    def wrapper(*args: Any, as_json: bool, **kwargs: Any) -> None:
        click.get_current_context().meta[_JSON_MODE] = as_json
        try:
            try:
                result = func(*args, **kwargs)
            except DEPENDENCY_ERRORS as exc:
                raise as_unavailable(exc) from None
        except CairnError as exc:
            fail(describe(exc), as_json=as_json, status=exc.status, slug=exc.slug)
            return
        if result is None:
            return
        if as_json:
            click.echo(json.dumps(result.data, default=_json_default, indent=2))
        else:
            for line in result.text:
                click.echo(line)

    return cast(F, wrapper)


def wants_json(context: click.Context) -> bool:
    """Whether the running command was asked for --json (progress bars stay quiet then)."""
    return bool(context.meta.get(_JSON_MODE, False))


def table(rows: list[dict[str, Any]], columns: list[str]) -> list[str]:
    """Plain aligned columns for people; scripts use --json."""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return [line.rstrip() for line in lines]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)
