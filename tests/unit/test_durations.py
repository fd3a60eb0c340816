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


def test_durations_are_bounded_at_100_years() -> None:
    assert parse_duration("36525d") == timedelta(days=36525)
    for text in ("36526d", "5219w", "999999999w"):
        with pytest.raises(ValueError, match="longer than 100 years"):
            parse_duration(text)


@pytest.mark.parametrize("text", ["", "d", "30", "0d", "-1d", "1.5h", "30 days", "1y", "1d2h"])
def test_rejects_with_a_usable_message(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration: use a positive number and a unit"):
        parse_duration(text)
