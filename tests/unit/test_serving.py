"""`cairn web`'s gunicorn configuration: sizes from CPUs or overrides, proxy trust, no
gunicorn access log (the app's JSON line has no query string), and PORT as a fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from cairn.config import load_settings
from cairn.errors import ConfigError
from cairn.serving import (
    GRACEFUL_TIMEOUT,
    MAX_DEFAULT_WORKERS,
    WebServer,
    available_cpus,
    default_workers,
    gunicorn_options,
)

SECRET = "s" * 40


@pytest.mark.parametrize(("cpus", "workers"), [(1, 3), (2, 5), (3, 7), (4, 8), (64, 8)])
def test_workers_are_two_per_core_plus_one_capped(cpus: int, workers: int) -> None:
    assert default_workers(cpus) == workers
    options = gunicorn_options(load_settings({}), cpus=cpus)
    assert options["workers"] == workers
    assert options["threads"] == 4
    assert options["worker_class"] == "gthread"
    assert MAX_DEFAULT_WORKERS == 8


def test_workers_and_threads_are_overridable() -> None:
    settings = load_settings({"CAIRN_WEB_WORKERS": "12", "CAIRN_WEB_THREADS": "16"})
    options = gunicorn_options(settings, cpus=1)
    assert (options["workers"], options["threads"]) == (12, 16)


def test_a_cgroup_cpu_quota_narrows_the_cpu_count(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("150000 100000\n")  # a 1.5 CPU limit
    assert available_cpus(cpu_max) == min(2, available_cpus(tmp_path / "missing"))
    cpu_max.write_text("max 100000\n")
    assert available_cpus(cpu_max) == available_cpus(tmp_path / "missing")
    cpu_max.write_text("garbage")
    assert available_cpus(cpu_max) >= 1


def test_keepalive_graceful_timeout_and_proxy_trust() -> None:
    settings = load_settings({"CAIRN_FORWARDED_ALLOW_IPS": "10.0.0.0/8, 192.168.1.7"})
    options = gunicorn_options(settings, cpus=2)
    assert options["keepalive"] > 0
    assert options["graceful_timeout"] == GRACEFUL_TIMEOUT
    assert options["forwarded_allow_ips"] == "10.0.0.0/8, 192.168.1.7"
    assert load_settings({}).forwarded_allow_ips == "127.0.0.1"
    assert load_settings({}).proxy_hops == 0


def test_gunicorn_accepts_the_options_and_writes_no_access_log_of_its_own() -> None:
    settings = load_settings(
        {
            "CAIRN_PORT": "9100",
            "CAIRN_HOST": "0.0.0.0",  # noqa: S104 - the container's bind address
            "CAIRN_WEB_WORKERS": "3",
            "CAIRN_WEB_THREADS": "6",
            "CAIRN_FORWARDED_ALLOW_IPS": "10.0.0.0/8",
        }
    )
    cfg = WebServer(settings).cfg
    assert cfg.bind == ["0.0.0.0:9100"]
    assert (cfg.workers, cfg.threads) == (3, 6)
    assert cfg.forwarded_allow_ips == ["10.0.0.0/8"]
    assert cfg.keepalive == 5 and cfg.graceful_timeout == GRACEFUL_TIMEOUT
    # The app logs one JSON line per request with the path only; gunicorn's access log would
    # duplicate it and carry the query string (one-time tokens), so it is off.
    assert cfg.accesslog is None
    access = cfg.logconfig_dict["loggers"]["gunicorn.access"]
    assert access["level"] == "WARNING"
    assert cfg.logconfig_dict["formatters"]["json"]["()"] == "cairn.logs.JsonFormatter"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CAIRN_FORWARDED_ALLOW_IPS", "not-an-ip"),
        ("CAIRN_FORWARDED_ALLOW_IPS", "10.0.0.1, nope"),
        ("CAIRN_PROXY_HOPS", "-1"),
        ("CAIRN_PROXY_HOPS", "two"),
    ],
)
def test_bad_proxy_settings_are_refused(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name}: "):
        load_settings({name: value})


def test_star_trusts_every_peer() -> None:
    assert load_settings({"CAIRN_FORWARDED_ALLOW_IPS": "*"}).forwarded_allow_ips == "*"


def test_port_is_used_when_cairn_port_is_unset() -> None:
    assert load_settings({"PORT": "8080"}).port == 8080
    assert load_settings({"PORT": "8080", "CAIRN_PORT": ""}).port == 8080
    assert load_settings({"PORT": "8080", "CAIRN_PORT": "9000"}).port == 9000
    assert load_settings({"PORT": ""}).port == 8090
    assert load_settings({}).port == 8090
    settings = load_settings({"PORT": "8081", "CAIRN_SECRET_KEY": SECRET})
    assert WebServer(settings).cfg.bind == ["127.0.0.1:8081"]


def test_a_bad_port_names_the_variable_it_came_from() -> None:
    with pytest.raises(ConfigError, match=r"^PORT: Not a valid integer"):
        load_settings({"PORT": "http"})
    with pytest.raises(ConfigError, match=r"^CAIRN_PORT: "):
        load_settings({"PORT": "8080", "CAIRN_PORT": "0"})
