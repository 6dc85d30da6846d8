"""MiniStack (a free AWS emulator, `requirements-ministack.txt`) on a free loopback port, for
the benchmarks that compare Fleet's embedded AWS with it and for the tier that runs Fleet on it.

It lives in a venv of its own (`make ministack` makes `.venv/ministack`): its pins are not
Fleet's. `FLEET_MINISTACK_PYTHON` names another interpreter that has it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.machine import free_port

ROOT = Path(__file__).resolve().parent.parent
#: The interpreter of the venv `make ministack` makes.
DEFAULT_PYTHON = ROOT / ".venv" / "ministack" / "bin" / "python"
HEALTH = "/_ministack/health"


def ministack_python() -> str | None:
    """The interpreter that runs MiniStack, or None when it is not installed."""
    named = os.environ.get("FLEET_MINISTACK_PYTHON")
    if named:
        return named if os.access(named, os.X_OK) else None
    return str(DEFAULT_PYTHON) if os.access(DEFAULT_PYTHON, os.X_OK) else None


def ministack_version(python: str) -> str:
    """The installed MiniStack's version."""
    code = "from importlib.metadata import version; print(version('ministack'))"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


class MiniStack:
    """MiniStack in a process of its own on 127.0.0.1, for as long as the `with` lasts."""

    def __init__(self, python: str | None = None, port: int | None = None) -> None:
        found = python or ministack_python()
        if not found:
            raise RuntimeError("MiniStack is not installed: make ministack (or set FLEET_MINISTACK_PYTHON)")
        self.python = found
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.version = ministack_version(found)
        self.process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="ministack-", suffix=".log", delete=False)  # noqa: SIM115

    @property
    def pid(self) -> int:
        """Its process id (the benchmarks read its CPU time by it)."""
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> MiniStack:
        # Nothing of Fleet's environment: MiniStack reads settings of its own from it.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FLEET_", "PYTHONPATH"))}
        env.update(GATEWAY_PORT=str(self.port), BIND_HOST="127.0.0.1", LOG_LEVEL="WARNING")
        self.process = subprocess.Popen(
            [self.python, "-m", "ministack"], env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + HEALTH, timeout=1) as answer:
                    answer.read()
                return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"MiniStack did not answer on {self.url}: see {self._log.name}")

    def __exit__(self, *exc: Any) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
