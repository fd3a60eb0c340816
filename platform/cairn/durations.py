"""Durations as people write them in config and CLI flags: `90s`, `15m`, `12h`, `30d`, `2w`."""

from __future__ import annotations

import re
from datetime import timedelta

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
