"""The ops docs keep up with the code: every CAIRN_* setting and every metric is documented."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "platform" / "cairn" / "config.py"
METRICS = ROOT / "platform" / "cairn" / "http" / "metrics.py"
DOCS = ROOT / "docs"


def _settings() -> set[str]:
    return set(re.findall(r'data_key="(CAIRN_[A-Z0-9_]+)"', CONFIG.read_text()))


def _metrics() -> set[str]:
    source = METRICS.read_text()
    return set(
        re.findall(r'(?:Counter|Histogram|Gauge|Summary)\(\s*"([a-z_:][a-z0-9_:]*)"', source)
    )


def test_sources_are_parsed() -> None:
    assert len(_settings()) >= 20
    assert "cairn_http_requests_total" in _metrics()


def test_every_setting_is_in_the_configuration_reference() -> None:
    text = (DOCS / "configuration.md").read_text()
    missing = sorted(n for n in _settings() if f"`{n}`" not in text)
    assert not missing, f"docs/configuration.md lacks: {', '.join(missing)}"


def test_every_metric_is_in_the_monitoring_guide() -> None:
    text = (DOCS / "monitoring.md").read_text()
    missing = sorted(n for n in _metrics() if f"`{n}`" not in text)
    assert not missing, f"docs/monitoring.md lacks: {', '.join(missing)}"


def test_ops_docs_exist_and_are_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in ("configuration", "upgrading", "backups", "monitoring", "security"):
        assert (DOCS / f"{name}.md").is_file()
        assert f"docs/{name}.md" in readme
