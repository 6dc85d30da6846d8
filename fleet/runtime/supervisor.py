"""`fleet up` as a small supervisor: it starts the fleet's processes, watches them, restarts and reloads them.

moto's process (`aws`) owns all local AWS state and lives as long as the fleet: its
death ends the fleet. The API, the workers and the edge are restarted when they die, and
replaced on a code change (the edge's cache starts empty): the new generation starts beside the old one and proves its code
imports (the new API serves on the same port, the new workers import every handler and
wait) before the old one is stopped, so a change that does not import leaves the old
processes serving. Each line a process writes is prefixed with its name.

Every process gets the run's directory in `FLEET_RUN_DIR` (made here, removed at the end):
what one generation of a process leaves there (the workers' stats for the live view) the
others and the next generation read.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from fleet.runtime.processes import IMPORTED, READY

#: How a process is announced, one line each (another tool reads this form: keep it).
PROCESS_LINE_FORM = "process {name} pid {pid}"
#: Seconds a process may take to say it is ready (a busy machine imports slowly).
START_TIMEOUT = 120.0
#: Seconds each process gets to stop on SIGTERM before it is killed.
STOP_GRACE = {"api": 15.0, "workers": 30.0, "edge": 10.0, "aws": 10.0}
#: The processes a code change replaces (moto's state stays).
RELOADED = ("api", "workers", "edge")
#: The variable naming the run's directory in every process's environment (`lambda_platform.settings`).
RUN_DIR_VARIABLE = "FLEET_RUN_DIR"


class Output:
    """Every process's lines on our stdout and stderr, prefixed with its name, one whole line at a time."""

    def __init__(self, names: list[str]) -> None:
        self.width = max(len(n) for n in names)
        self.lock = threading.Lock()

    def line(self, text: str, name: str | None = None, err: bool = False) -> None:
        """Write one line, as the process `name` (None: the supervisor itself, `fleet:`)."""
        stream = sys.stderr if err else sys.stdout
        prefix = f"{name.ljust(self.width)} | " if name else "fleet: "
        with self.lock:
            stream.write(prefix + text + "\n")
            stream.flush()


@dataclass(frozen=True)
class Role:
    """What to run for one of the fleet's processes."""

    name: str
    argv: list[str]
    env: dict[str, str]
    #: The process imports, says `imported`, and begins only on `go` (the workers).
    waits_for_go: bool = False
    #: Its death ends the fleet (moto's: the local AWS state goes with it).
    essential: bool = False


class ProcessFailed(Exception):
    """A process ended before it said it was ready."""

    def __init__(self, name: str, pid: int, code: int | None) -> None:
        super().__init__(f"process {name} pid {pid} ended before it was ready, {describe_exit(code)}")
        self.code = code


@dataclass
class Child:
    """One running process of a role, its output pumped through `Output`."""

    role: Role
    output: Output
    process: subprocess.Popen = field(init=False)
    started: float = field(init=False)
    imported: threading.Event = field(default_factory=threading.Event)
    ready: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.process = subprocess.Popen(
            self.role.argv,
            env=self.role.env,
            stdin=subprocess.PIPE if self.role.waits_for_go else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # Its own session: a Ctrl-C reaches the supervisor alone, which stops each in turn.
            start_new_session=True,
        )
        self.started = time.monotonic()
        self._pumps = [
            threading.Thread(target=self._pump, args=(self.process.stdout, False), daemon=True),
            threading.Thread(target=self._pump, args=(self.process.stderr, True), daemon=True),
        ]
        for pump in self._pumps:
            pump.start()

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def _pump(self, stream: IO[bytes], err: bool) -> None:
        for raw in iter(stream.readline, b""):
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not err and text == IMPORTED:
                self.imported.set()
            elif not err and (text == READY or text.startswith(READY + ":")):
                self.ready.set()
            else:
                self.output.line(text, self.role.name, err)

    def wait_for(self, event: threading.Event, stop: threading.Event, timeout: float = START_TIMEOUT) -> None:
        """Wait until `event`; ProcessFailed if the process ends first, TimeoutError past `timeout`."""
        deadline = time.monotonic() + timeout
        while not event.wait(0.05):
            if self.process.poll() is not None:
                for pump in self._pumps:
                    pump.join(timeout=2)  # its last words (a traceback) are printed first
                if not event.is_set():
                    raise ProcessFailed(self.role.name, self.pid, self.process.returncode)
            if stop.is_set() or time.monotonic() > deadline:
                raise TimeoutError(f"process {self.role.name} pid {self.pid} was not ready in time")

    def go(self) -> None:
        """Let a process that waits for it begin."""
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")
        self.process.stdin.flush()

    def terminate(self) -> None:
        """Ask the process to stop (SIGTERM): the API finishes its requests, the pollers their batches."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_stopped(self, grace: float) -> int:
        """Wait for the process to end, killing it after `grace` seconds; its exit code."""
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.output.line(f"process {self.role.name} pid {self.pid} did not stop in {grace:.0f} s: killed", err=True)
            self.process.kill()
            self.process.wait()
        for pump in self._pumps:
            pump.join(timeout=2)
        return self.process.returncode


def describe_exit(code: int | None) -> str:
    """`exit code 3`, or `exit code -9 (SIGKILL)` for a process ended by a signal."""
    if code is not None and code < 0:
        try:
            return f"exit code {code} ({signal.Signals(-code).name})"
        except ValueError:
            pass
    return f"exit code {code}"


class Supervisor:
    """The fleet's processes: started in order, restarted when they die, replaced on a reload."""

    def __init__(self, roles: list[Role], output: Output, stop: threading.Event) -> None:
        #: This run's directory, unless the environment names one already (then it is kept).
        self._made_run_dir = None if any(RUN_DIR_VARIABLE in r.env for r in roles) else tempfile.mkdtemp(prefix="fleet-run-")
        self.roles = {
            r.name: replace(r, env={RUN_DIR_VARIABLE: self._made_run_dir, **r.env}) if self._made_run_dir else r for r in roles
        }
        self.output = output
        self.stop = stop
        self.children: dict[str, Child] = {}
        self._failures: dict[str, int] = {}
        self._restart_at: dict[str, float] = {}

    def start(self, *names: str) -> None:
        """Start processes side by side and wait until each is ready (ProcessFailed if one ends first)."""
        fresh = [Child(self.roles[name], self.output) for name in names]
        try:
            for child in fresh:
                if child.role.waits_for_go:
                    child.wait_for(child.imported, self.stop)
                    child.go()
            for child in fresh:
                child.wait_for(child.ready, self.stop)
        except BaseException:
            for child in fresh:
                child.terminate()
            for child in fresh:
                child.wait_stopped(5)
            raise
        self.children.update((child.role.name, child) for child in fresh)

    def print_processes(self, names: list[str] | None = None) -> None:
        """`process NAME pid N`, one line per process (other tools read this form)."""
        for name in names or list(self.children):
            self.output.line(PROCESS_LINE_FORM.format(name=name, pid=self.children[name].pid))

    def watch_once(self) -> int | None:
        """Restart what died; an exit code when the fleet must end (moto's process died)."""
        now = time.monotonic()
        for name, child in list(self.children.items()):
            code = child.process.poll()
            if code is None:
                continue
            if child.role.essential:
                self.output.line(
                    f"process {name} pid {child.pid} ended, {describe_exit(code)}: the local AWS state "
                    "(every queue, table, campaign and stored entry) is gone; stopping the fleet",
                    err=True,
                )
                del self.children[name]
                return 1
            if name not in self._restart_at:
                self.output.line(f"process {name} pid {child.pid} ended, {describe_exit(code)}; starting it again", err=True)
                self._schedule_restart(name, ran=now - child.started)
            if now >= self._restart_at[name]:
                del self._restart_at[name]
                self._restart(name)
        return None

    def _schedule_restart(self, name: str, ran: float) -> None:
        # A process that dies soon after it starts waits longer each time: 0, 0, 1, 2, 4... 10 s.
        self._failures[name] = 0 if ran > 30 else self._failures.get(name, 0) + 1
        delay = 0.0 if self._failures[name] <= 1 else min(10.0, 0.25 * 2 ** self._failures[name])
        self._restart_at[name] = time.monotonic() + delay

    def _restart(self, name: str) -> None:
        try:
            self.start(name)
        except (ProcessFailed, TimeoutError) as failed:
            self.output.line(f"{failed}; trying again", err=True)
            self._schedule_restart(name, ran=0.0)
            return
        self.print_processes([name])

    def reload(self, changed: list[str]) -> bool:
        """Replace the API, the workers and the edge with new ones running the changed code; False if it does not import."""
        began = time.monotonic()
        broken = not_compiling(changed)
        if broken:
            self.output.line(broken, "reload", err=True)
            self.output.line("not reloaded: the change does not compile; the running processes keep serving", err=True)
            return False
        names = [n for n in RELOADED if n in self.roles]
        fresh = {n: Child(self.roles[n], self.output) for n in names}
        try:
            for child in fresh.values():
                child.wait_for(child.imported if child.role.waits_for_go else child.ready, self.stop)
        except (ProcessFailed, TimeoutError) as failed:
            for child in fresh.values():
                child.terminate()
                child.wait_stopped(5)
            self.output.line(f"not reloaded: {failed} (see above); the running processes keep serving", err=True)
            return False
        old = {name: self.children[name] for name in names if name in self.children}
        for child in old.values():
            # The new API and edge already serve on their ports; the old pollers finish their batches.
            child.terminate()
        for name, child in fresh.items():
            if child.role.waits_for_go:
                # Never two generations of pollers at once: the new one begins when the old has ended.
                if name in old:
                    old[name].wait_stopped(STOP_GRACE[name])
                child.go()
                try:
                    child.wait_for(child.ready, self.stop)
                except (ProcessFailed, TimeoutError) as failed:
                    self.output.line(str(failed), err=True)  # watched and started again like any death
            self.children[name] = child
            self._restart_at.pop(name, None)
        for name, child in old.items():
            child.wait_stopped(STOP_GRACE[name])
        self.print_processes(names)
        files = ", ".join(Path(p).name for p in changed[:5]) + (", ..." if len(changed) > 5 else "")
        self.output.line(f"reloaded ({files}) in {time.monotonic() - began:.1f} s")
        return True

    def stop_all(self) -> None:
        """Stop every process: the API, the workers and the edge together, moto's last."""
        for group in (
            [n for n in self.children if not self.roles[n].essential],
            [n for n in self.children if self.roles[n].essential],
        ):
            for name in group:
                self.children[name].terminate()
            for name in group:
                self.children[name].wait_stopped(STOP_GRACE.get(name, 10.0))
        if self._made_run_dir:
            shutil.rmtree(self._made_run_dir, ignore_errors=True)


def not_compiling(paths: list[str]) -> str:
    """The compile error of the first changed Python file that does not compile, or ''."""
    for path in paths:
        if not path.endswith(".py") or not Path(path).is_file():
            continue
        try:
            compile(Path(path).read_bytes(), path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            return "".join(traceback.format_exception(exc)).rstrip()
    return ""
