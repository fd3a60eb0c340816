"""Progress bars show items, rate and time left on a terminal, and nothing otherwise."""

from __future__ import annotations

import io

import click
from click.testing import CliRunner

from cairn.cli.output import Result, command_output
from cairn.cli.progress import progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(stream: io.StringIO, total: int = 3000) -> None:
    with progress_bar("export demo", stream=stream) as progress:
        progress.expect(total)
        for _ in range(3):
            progress.advance(total // 3)


def test_on_a_terminal_the_bar_shows_items_rate_and_time_left() -> None:
    terminal = Terminal()
    run(terminal)
    final = terminal.getvalue().split("\r")[-1]
    assert final.startswith("export demo: 100%")
    assert "3.00k/3.00k" in final  # items done of all
    assert "row/s" in final  # the rate
    assert "<00:00" in final  # elapsed<remaining


def test_not_on_a_terminal_nothing_is_written() -> None:
    piped = io.StringIO()
    run(piped)
    assert piped.getvalue() == ""


def test_json_output_stays_quiet_even_on_a_terminal() -> None:
    terminal = Terminal()

    @click.command()
    @command_output
    def export() -> Result:
        run(terminal)
        return Result({"done": True}, ["done"])

    runner = CliRunner()
    assert runner.invoke(export, ["--json"]).exit_code == 0
    assert terminal.getvalue() == ""
    assert runner.invoke(export, []).exit_code == 0
    assert "100%" in terminal.getvalue()


def test_a_delayed_bar_stays_hidden_for_quick_work() -> None:
    terminal = Terminal()
    with progress_bar("apply", unit="step", delay=30, stream=terminal) as progress:
        progress.expect(2)
        progress.advance(2)
    assert terminal.getvalue() == ""
