"""Charts as data for server-side SVG: bar geometry computed here, drawn by the templates.
No JavaScript, no external service."""

from __future__ import annotations

from dataclasses import dataclass

from cairn.traffic import HourCount


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    height: float  # of the whole bar (requests)
    error_height: float  # of its error part, drawn over the bottom
    label: str  # hour, for the axis (empty when not labelled)
    title: str  # the tooltip / accessible text


@dataclass(frozen=True)
class HourlyChart:
    width: int
    height: int
    bars: list[Bar]
    peak: int
    total_requests: int
    total_errors: int


def hourly_chart(hours: list[HourCount], width: int = 720, height: int = 180) -> HourlyChart:
    peak = max((h.requests for h in hours), default=0)
    scale = (height - 24) / peak if peak else 0.0
    slot = width / max(len(hours), 1)
    bars = []
    for i, h in enumerate(hours):
        label = h.hour.strftime("%H:00") if i % 3 == 0 or i == len(hours) - 1 else ""
        bars.append(
            Bar(
                x=round(i * slot + slot * 0.15, 1),
                width=round(slot * 0.7, 1),
                height=round(h.requests * scale, 1),
                error_height=round(min(h.errors, h.requests) * scale, 1),
                label=label,
                title=f"{h.hour:%Y-%m-%d %H:00} UTC: {h.requests} requests, {h.errors} errors",
            )
        )
    return HourlyChart(
        width,
        height,
        bars,
        peak,
        sum(h.requests for h in hours),
        sum(h.errors for h in hours),
    )


@dataclass(frozen=True)
class SizeBar:
    name: str
    rows: int
    width: float  # percent of the largest


def size_bars(sizes: dict[str, int]) -> list[SizeBar]:
    largest = max(sizes.values(), default=0)
    return [
        SizeBar(name, rows, round(100 * rows / largest, 1) if largest else 0.0)
        for name, rows in sorted(sizes.items(), key=lambda item: (-item[1], item[0]))
    ]
