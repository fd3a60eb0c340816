"""Running a real `cairn serve` in a subprocess, for e2e tests and benchmarks."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

import httpx

KEY = re.compile(r"(?<![A-Za-z0-9_-])ck_[A-Za-z0-9_-]{55}(?![A-Za-z0-9_-])")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(data_dir: Path) -> dict[str, str]:
    """This environment without any CAIRN_ setting, with its own data dir: Cairn as a fresh
    machine runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
    env["CAIRN_DATA_DIR"] = str(data_dir)
    return env


def run_cli(
    data_dir: Path, *args: str, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`cairn ARGS` in a child process on the embedded default in `data_dir`."""
    return subprocess.run(
        [sys.executable, "-m", "cairn", *args],
        env=clean_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        input=input,
    )


class ServeProcess:
    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        # Files, not pipes: an unread pipe fills up and blocks the server's log writes.
        self._out = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self._err = tempfile.TemporaryFile()  # noqa: SIM115

    def start(self, timeout: float = 90) -> float:
        """Start and wait until /readyz answers 200; return the seconds that took."""
        env = clean_env(self.data_dir) | {"CAIRN_PORT": str(self.port)}
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cairn", "serve"],
            env=env,
            stdout=self._out,
            stderr=self._err,
        )
        deadline = started + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"cairn serve exited early:\n{self.stderr[-3000:]}")
            try:
                if httpx.get(self.base + "/readyz", timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"cairn serve not ready after {timeout}s:\n{self.stderr[-3000:]}")

    def stop(self, timeout: float = 60) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    @staticmethod
    def _read(handle: IO[bytes]) -> str:
        handle.seek(0)
        return handle.read().decode(errors="replace")

    @property
    def stdout(self) -> str:
        return self._read(self._out)

    @property
    def stderr(self) -> str:
        return self._read(self._err)

    def bootstrap_key(self) -> str | None:
        found = KEY.search(self.stdout)
        return found.group(0) if found else None
