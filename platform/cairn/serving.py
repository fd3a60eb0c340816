"""Processes: `cairn web` (gunicorn in this process) and `cairn serve` (a supervisor that owns
the embedded servers and runs the web app — and later workers — as exec'd children)."""

from __future__ import annotations

import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from cairn.config import Settings

log = logging.getLogger(__name__)

GRACEFUL_TIMEOUT = 30


MAX_DEFAULT_WORKERS = 8
KEEPALIVE = 5
WORKER_TIMEOUT = 60
_CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def available_cpus(cpu_max: Path = _CGROUP_CPU_MAX) -> int:
    """CPUs this process may use: its affinity set, narrowed by a cgroup v2 CPU quota (a
    Kubernetes CPU limit), which os.cpu_count() does not see."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def default_workers(cpus: int | None = None) -> int:
    """2 * cores + 1, capped: each worker also holds a database pool."""
    cores = available_cpus() if cpus is None else cpus
    return min(2 * cores + 1, MAX_DEFAULT_WORKERS)


def prepare_metrics_dir() -> None:
    """Gunicorn workers share metrics through files; must run before prometheus_client loads."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    path = Path(tempfile.gettempdir()) / f"cairn-metrics-{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


def _child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def gunicorn_options(settings: Settings, cpus: int | None = None) -> dict[str, Any]:
    """The gunicorn configuration for `cairn web`, from the settings alone (no config file
    to ship or mount). CAIRN_WEB_WORKERS / CAIRN_WEB_THREADS override the CPU-derived sizes."""
    s = settings
    return {
        "bind": [f"{s.host}:{s.port}"],
        "workers": s.web_workers or default_workers(cpus),
        "worker_class": "gthread",
        "threads": s.web_threads,
        "timeout": WORKER_TIMEOUT,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "keepalive": KEEPALIVE,
        "proc_name": "cairn-web",
        # Proxies whose X-Forwarded-Proto gunicorn trusts; ProxyFix (CAIRN_PROXY_HOPS) in the
        # app then resolves the client address and scheme hop by hop.
        "forwarded_allow_ips": s.forwarded_allow_ips,
        # A socket under $HOME breaks on read-only root filesystems; signals suffice.
        "control_socket_disable": True,
        # Worker heartbeats in memory, not on the (possibly read-only) disk.
        "worker_tmp_dir": "/dev/shm" if Path("/dev/shm").is_dir() else None,  # noqa: S108
        # The app writes one JSON line per request (cairn.access) with the path only: gunicorn's
        # own access log would repeat it and include the query string, which can hold one-time
        # tokens. So it stays off.
        "accesslog": None,
        "disable_redirect_access_to_syslog": True,
        "child_exit": _child_exit,
        "logconfig_dict": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"json": {"()": "cairn.logs.JsonFormatter"}},
            "handlers": {
                "stderr": {
                    "class": "logging.StreamHandler",
                    "formatter": "json",
                    "stream": "ext://sys.stderr",
                }
            },
            "root": {"level": s.log_level, "handlers": ["stderr"]},
            "loggers": {
                "gunicorn.error": {"level": s.log_level, "handlers": [], "propagate": True},
                "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
            },
        },
    }


class WebServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in gunicorn_options(self.settings).items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from cairn.app import create_app

        return create_app(self.settings)


def run_web(settings: Settings) -> None:
    options = gunicorn_options(settings)
    log.info(
        "web starting",
        extra={
            "bind": f"{settings.host}:{settings.port}",
            "mode": settings.mode,
            "workers": options["workers"],
            "threads": options["threads"],
            "proxy_hops": settings.proxy_hops,
        },
    )
    WebServer(settings).run()


class Supervisor:
    """Runs children with the resolved settings in their environment; SIGTERM or SIGINT to
    the supervisor becomes SIGTERM to each child (a graceful stop), then it waits for them."""

    def __init__(self, settings: Settings) -> None:
        self.env = {
            **os.environ,
            "CAIRN_DATABASE_URL": settings.database_url or "",
            "CAIRN_REDIS_URL": settings.redis_url or "",
            "CAIRN_SECRET_KEY": settings.require_secret_key(),
        }
        self.children: list[subprocess.Popen[bytes]] = []
        self.stopping = False

    def start(self, *command: str) -> None:
        argv = [sys.executable, "-m", "cairn", *command]
        self.children.append(subprocess.Popen(argv, env=self.env))  # noqa: S603 - our own argv

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    def wait(self) -> int:
        """Until every child has exited. One that dies on its own stops the others, and its
        exit code becomes the supervisor's."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        exit_code = 0
        running = list(self.children)
        while running:
            for child in list(running):
                code = child.poll()
                if code is None:
                    continue
                running.remove(child)
                if not self.stopping:
                    click.echo(f"cairn: child {child.pid} exited with {code}", err=True)
                    self._stop(signal.SIGTERM, None)
                    exit_code = code or 1
            time.sleep(0.2)
        return exit_code
