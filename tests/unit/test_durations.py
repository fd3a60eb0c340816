from datetime import timedelta

import pytest

from cairn.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("12h", timedelta(hours=12)),
        ("30d", timedelta(days=30)),
        ("2w", timedelta(weeks=2)),
        (" 7d ", timedelta(days=7)),
    ],
)
def test_parses(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "d", "30", "0d", "-1d", "1.5h", "30 days", "1y", "1d2h"])
def test_rejects_with_a_usable_message(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration: use a positive number and a unit"):
        parse_duration(text)
