"""How services report progress on long work without knowing who shows it (a CLI progress
bar, or nobody)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def expect(self, total: int) -> None:
        """How many items the work has in all, once that is known."""

    def advance(self, done: int) -> None:
        """`done` more items are finished."""


class _Quiet:
    def expect(self, total: int) -> None:
        pass

    def advance(self, done: int) -> None:
        pass


QUIET: Progress = _Quiet()
