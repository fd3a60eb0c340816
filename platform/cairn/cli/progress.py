"""Progress bars for long CLI work (export, import, apply): items done, rate and time left.

Shown on stderr, and only when stderr is a terminal and the command was not asked for
--json: scripts and pipes get nothing but the result.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import click
from tqdm import tqdm

from cairn.cli.output import wants_json
from cairn.progress import Progress


class _Bar:
    def __init__(self, bar: tqdm[Any]) -> None:
        self._bar = bar

    def expect(self, total: int) -> None:
        # Drawn with the next advance: a delayed bar must not be forced onto the screen.
        self._bar.total = total

    def advance(self, done: int) -> None:
        self._bar.update(done)


@contextmanager
def progress_bar(
    description: str,
    *,
    unit: str = "row",
    scaled: bool = True,
    delay: float = 0.0,
    stream: TextIO | None = None,
) -> Iterator[Progress]:
    """A bar the work drives through the Progress it yields. `scaled`: counts as 12.3k;
    `delay`: seconds before the bar shows, so work that ends sooner stays quiet."""
    stream = stream if stream is not None else sys.stderr
    context = click.get_current_context(silent=True)
    shown = stream.isatty() and not (context is not None and wants_json(context))
    with tqdm(
        desc=description,
        unit=f" {unit}",
        unit_scale=scaled,
        file=stream,
        disable=not shown,
        delay=delay,
        dynamic_ncols=True,
    ) as bar:
        yield _Bar(bar)
