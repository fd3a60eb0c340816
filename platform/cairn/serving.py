"""Processes: `cairn web` (gunicorn in this process) and `cairn serve` (a supervisor that owns
the embedded servers and runs the web app — and later workers — as exec'd children)."""

from __future__ import annotations

import logging
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


def default_workers() -> int:
    return min(2 * (os.cpu_count() or 1) + 1, 8)


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


class WebServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        options = {
            "bind": [f"{s.host}:{s.port}"],
            "workers": s.web_workers or default_workers(),
            "worker_class": "gthread",
            "threads": s.web_threads,
            "timeout": 60,
            "graceful_timeout": GRACEFUL_TIMEOUT,
            "keepalive": 5,
            "proc_name": "cairn-web",
            # A socket under $HOME breaks on read-only root filesystems; signals suffice.
            "control_socket_disable": True,
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
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from cairn.app import create_app

        return create_app(self.settings)


def run_web(settings: Settings) -> None:
    log.info(
        "web starting",
        extra={"bind": f"{settings.host}:{settings.port}", "mode": settings.mode},
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
