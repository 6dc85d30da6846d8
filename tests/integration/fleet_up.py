"""`fleet up` in a subprocess, as a developer runs it, with its output read as it comes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.conftest import free_port

FLEET = str(Path(sys.executable).with_name("fleet"))
#: The form other tools read: `fleet: process NAME pid N`.
PROCESS_LINE = re.compile(r"^fleet: process (\w+) pid (\d+)$")


class FleetUp:
    """A running `fleet up`: its stdout and stderr lines so far, and the pids it announced."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, cwd: str | Path | None = None) -> None:
        if env is None:
            env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "FLEET_VISIBILITY_TIMEOUT")}
            env["FLEET_STAGE"] = "local"
        # Its own state (the issuer's key, the profiles of --enforce-iam), never the work tree's.
        env.setdefault("FLEET_STATE_DIR", tempfile.mkdtemp(prefix="fleet-state-"))
        #: The environment it runs in: a `fleet` command beside it takes the same.
        self.env = env
        if "--edge-port" not in args:  # never the default 8081, which a developer's fleet may hold
            args = (*args, "--edge-port", str(free_port()))
        self.process = subprocess.Popen(
            [FLEET, "up", *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, lines: list[str]) -> None:
        for line in stream:
            with self._changed:
                lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def text(self) -> str:
        """Everything printed so far, stdout then stderr."""
        return "\n".join(self.out) + "\n--- stderr ---\n" + "\n".join(self.err[-60:])

    def wait_for(self, pattern: str, timeout: float = 120.0, err: bool = False, after: int = 0) -> re.Match:
        """The first line (from index `after`) matching `pattern`; AssertionError if none comes in time."""
        lines = self.err if err else self.out
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in lines[after:]:
                    found = re.search(pattern, line)
                    if found:
                        return found
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not any(r.is_alive() for r in self._readers)):
                    raise AssertionError(f"no line matching {pattern!r}:\n{self.text}")
                self._changed.wait(min(left, 0.5))

    def wait_ready(self, timeout: float = 180.0) -> dict[str, int]:
        """Wait for `fleet: ready`; the pid of each process, from the lines printed before it."""
        self.wait_for(r"^fleet: ready", timeout)
        return self.pids(self.out[: self.out.index(next(line for line in self.out if line.startswith("fleet: ready")))])

    @staticmethod
    def pids(lines: list[str]) -> dict[str, int]:
        """The last pid announced for each process in `lines`."""
        found: dict[str, int] = {}
        for line in lines:
            match = PROCESS_LINE.match(line)
            if match:
                found[match.group(1)] = int(match.group(2))
        return found

    def stop(self, timeout: float = 90.0) -> int:
        """Ctrl-C, as a developer stops it; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        for reader in self._readers:
            reader.join(timeout=10)
        return code


def alive(pid: int) -> bool:
    """True while a process of that id exists (and is not a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def wait_gone(pids: list[int], timeout: float = 30.0) -> list[int]:
    """The pids still alive after waiting up to `timeout` for them to end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [p for p in pids if alive(p)]
        if not left:
            return []
        time.sleep(0.2)
    return [p for p in pids if alive(p)]


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (gunicorn's workers under its arbiter, say), read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found.extend(children)
        frontier.extend(children)
    return found
