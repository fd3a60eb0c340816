"""Chart geometry for the admin overview (drawn by the templates as SVG)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cairn.traffic import HourCount
from cairn_admin.charts import hourly_chart, size_bars


def test_bars_scale_to_the_peak_and_errors_sit_inside() -> None:
    start = datetime(2026, 11, 21, tzinfo=UTC)
    hours = [HourCount(start + timedelta(hours=i), i * 10, i, 0) for i in range(24)]
    chart = hourly_chart(hours, width=240, height=124)
    assert chart.peak == 230 and chart.total_requests == sum(i * 10 for i in range(24))
    assert chart.bars[0].height == 0 and chart.bars[-1].height == 100
    assert all(b.error_height <= b.height for b in chart.bars)
    assert [b.label for b in chart.bars if b.label][:2] == ["00:00", "03:00"]
    assert chart.bars[-1].label == "23:00"


def test_no_traffic_draws_flat_bars() -> None:
    start = datetime(2026, 11, 21, tzinfo=UTC)
    chart = hourly_chart([HourCount(start, 0, 0, 0)] * 24)
    assert chart.peak == 0 and {b.height for b in chart.bars} == {0}


def test_size_bars_largest_first() -> None:
    bars = size_bars({"a": 5, "b": 20, "c": 0})
    assert [(b.name, b.width) for b in bars] == [("b", 100.0), ("a", 25.0), ("c", 0.0)]
    assert size_bars({}) == []
