"""Durations and rates as people write them in config, project files and CLI flags:
`90s`, `15m`, `12h`, `30d`, `2w`; `600/minute`, `10/second;1000/hour`."""

from __future__ import annotations

import re
from datetime import timedelta

from limits import parse_many

_DURATION = re.compile(r"^\s*(\d{1,9})\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION = timedelta(days=36525)  # 100 years: anything longer is a typo, or "never"


def parse_duration(text: str) -> timedelta:
    """Parse `<positive integer><unit>`; raise ValueError with a message fit for a user."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(
            f"{text!r} is not a duration: use a positive number and a unit s, m, h, d or w "
            "(e.g. 30d)"
        )
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{text!r} is longer than 100 years")
    return timedelta(seconds=seconds)


def check_rate(text: str) -> str:
    """A rate limit in the `limits` library's notation; raise ValueError fit for a user."""
    try:
        parse_many(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a rate such as 600/minute") from None
    return text
