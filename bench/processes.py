"""The fleet under load in processes of its own, on free loopback ports, for the HTTP benchmarks.

`fleet up --no-reload --no-demo` once it supervises processes (it prints
`fleet: process NAME pid N` for aws, api and workers before `fleet: ready`); before that,
the same roles started here. moto's pid is what the benchmarks read its CPU time by.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.local_fleet import CAMPAIGN
from bench.machine import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: The trigger whose handled records are the stored entries.
STORED_TRIGGER = "pipe:submissions->submissions"
#: What `fleet up` prints for each process it started, when it is ready.
PROCESS_LINE = re.compile(r"fleet: process (\w+) pid (\d+)")


def bench_env(aws_port: int, state_dir: str) -> dict[str, str]:
    """The environment of a fleet under load: local stage, free ports, no limit on one client."""
    env = {
        **os.environ,
        "FLEET_STAGE": "local",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port}",
        "FLEET_STATE_DIR": state_dir,
        # One client (127.0.0.1) posts everything: lift the per-client and campaign limits.
        "FLEET_RATE_PER_CLIENT": str(10**9),
        "FLEET_RATE_PER_CAMPAIGN": str(10**9),
        # The workers' per-record INFO lines and metrics would drown the figures.
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    return env


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def runqueue_seconds(pid: int) -> float:
    """Seconds the threads of a process have waited, runnable, for a CPU (/proc/<pid>/task/*/schedstat).

    A busy machine (other work on its CPUs) shows here; a thread waiting for the GIL does not.
    """
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as stat:
                total += int(stat.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # a thread that ended meanwhile
    return total / 1e9


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and of every process below it (gunicorn's workers, say)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            total += cpu_seconds(current)
        except OSError:
            continue  # ended meanwhile
        todo.extend(children.get(current, []))
    return total


def supervised_fleet_up() -> bool:
    """True when `fleet up` runs each part in a process of its own (it has --no-reload)."""
    out = subprocess.run([sys.executable, "-m", "fleet", "up", "--help"], cwd=ROOT, capture_output=True, text=True)
    return "--no-reload" in out.stdout


class _Lines:
    """Reads a child's output on a thread (so the pipe never fills) and waits for a line."""

    def __init__(self, process: subprocess.Popen, name: str, echo: bool) -> None:
        self.process, self.name, self.echo = process, name, echo
        self.seen: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, name=f"out:{name}", daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if self.echo:
                print(f"  [{self.name}] {line.rstrip()}", flush=True)
            with self.changed:
                self.seen.append(line)
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = 120.0) -> re.Match[str]:
        """The first line matching `pattern` (searched anywhere in it)."""
        deadline, regex, looked = time.monotonic() + timeout, re.compile(pattern), 0
        with self.changed:
            while True:
                for line in self.seen[looked:]:
                    match = regex.search(line)
                    if match:
                        return match
                looked = len(self.seen)
                if self.process.poll() is not None or time.monotonic() > deadline:
                    tail = "".join(self.seen[-20:])
                    raise SystemExit(f"{self.name} ended or stalled before {pattern!r}:\n{tail}")
                self.changed.wait(0.5)


class FleetProcesses:
    """The fleet under load, each part in its own process, and an open campaign `bench`.

    Without a supervising `fleet up`, the roles are started here: moto
    (`fleet.runtime.processes aws`), the API under gunicorn (`fleet.runtime.gunicorn_app`)
    and the pollers (`fleet.runtime.processes workers`).
    """

    def __init__(self, echo: bool = False, enforce_iam: bool = False, external: Any = None) -> None:
        self.echo = echo
        #: `fleet up --enforce-iam`: each process signs as its role, moto checks every call.
        self.enforce_iam = enforce_iam
        #: `fleet up --external` on another emulator (`bench.ministack.MiniStack`, started): its
        #: process stands where moto's would.
        self.external = external
        self.state_dir = tempfile.TemporaryDirectory(prefix="fleet-bench-")
        self.aws_port, self.api_port = (external.port if external else free_port()), free_port()
        self.env = bench_env(self.aws_port, self.state_dir.name)
        #: Where the workers write their counts once a second (`stored`).
        self.run_dir = os.path.join(self.state_dir.name, "run")
        os.makedirs(self.run_dir)
        self.env["FLEET_RUN_DIR"] = self.run_dir
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.pids: dict[str, int] = {}
        self.how = ""
        self._stop_signal = signal.SIGTERM
        self._children: list[subprocess.Popen] = []

    def _spawn(self, name: str, *args: str) -> _Lines:
        process = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env=self.env,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        return self.adopt(process, name)

    def adopt(self, process: subprocess.Popen, name: str) -> _Lines:
        """Stop `process` (text output piped) with the fleet; its output read as it comes."""
        self._children.append(process)
        return _Lines(process, name, self.echo)

    def __enter__(self) -> FleetProcesses:
        os.environ.update({k: v for k, v in self.env.items() if k.startswith(("FLEET_", "AWS_", "POWERTOOLS_"))})
        for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        from lambda_platform import aws, settings

        settings.reset()
        aws.reset()
        try:
            if supervised_fleet_up():
                self._fleet_up()
            elif self.enforce_iam:
                raise SystemExit("--enforce-iam needs fleet up's processes")
            else:
                self._roles()
            if self.enforce_iam:
                self._sign_as_operator()
            self._campaign()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _fleet_up(self) -> None:
        self.how = "fleet up --no-reload (its processes)"
        self._stop_signal = signal.SIGINT  # Ctrl-C, as a developer stops it
        enforce = ["--enforce-iam"] if self.enforce_iam else []
        external = ["--external"] if self.external else []
        lines = self._spawn(
            "fleet",
            "fleet",
            "up",
            "--no-reload",
            "--no-demo",
            *enforce,
            *external,
            "--aws-port",
            str(self.aws_port),
            "--api-port",
            str(self.api_port),
            "--edge-port",
            str(free_port()),
        )
        lines.wait_for(r"fleet: ready", timeout=180)
        for line in lines.seen:
            match = PROCESS_LINE.search(line)
            if match:
                self.pids[match.group(1)] = int(match.group(2))
        if self.external:
            self.pids["aws"] = self.external.pid
        if "aws" not in self.pids:
            raise SystemExit("fleet up named no aws process")

    def _roles(self) -> None:
        self.how = "moto, gunicorn and the pollers started by the bench (fleet up runs in one process)"
        aws_lines = self._spawn("aws", "fleet.runtime.processes", "aws", "--port", str(self.aws_port))
        aws_lines.wait_for(r"^ready")
        self.pids["aws"] = aws_lines.process.pid
        from fleet.provision import provision

        provision()
        api = self._spawn("api", "fleet.runtime.gunicorn_app", "--port", str(self.api_port))
        api.wait_for(r"ready")
        self.pids["api"] = api.process.pid
        workers = self._spawn("workers", "fleet.runtime.processes", "workers")
        workers.wait_for(r"^imported")
        assert workers.process.stdin is not None
        workers.process.stdin.write("go\n")
        workers.process.stdin.flush()
        workers.wait_for(r"^ready")
        self.pids["workers"] = workers.process.pid

    def _sign_as_operator(self) -> None:
        """This process's own calls (the campaign, the queue's depth, the email count) as the local operator."""
        from events.topology import physical_name
        from fleet.iam import OPERATOR
        from fleet.runtime import credentials
        from lambda_platform import aws, settings

        os.environ[credentials.CONFIG_VARIABLE] = str(credentials.config_path(self.state_dir.name).resolve())
        os.environ[credentials.PROFILE_VARIABLE] = physical_name("local", OPERATOR)
        settings.reset()
        aws.reset()

    def _campaign(self) -> None:
        from events.models import Campaign
        from lambda_platform.adapters.tables import DynamoCampaigns

        now = datetime.now(UTC)
        DynamoCampaigns().put(Campaign(CAMPAIGN, "Bench", now - timedelta(days=1), now + timedelta(days=30), 100))

    def __exit__(self, *exc: Any) -> None:
        for process in reversed(self._children):
            if process.poll() is None:
                process.send_signal(self._stop_signal)
        for process in reversed(self._children):
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
        self.state_dir.cleanup()

    def moto_cpu(self) -> float:
        """CPU seconds moto's processes (DynamoDB's is a child of the other) have used so far."""
        return tree_cpu_seconds(self.pids["aws"])

    def moto_waited(self) -> float:
        """Seconds moto's threads have waited for a CPU so far (see `runqueue_seconds`)."""
        return runqueue_seconds(self.pids["aws"])

    def cpu_by_process(self) -> dict[str, float]:
        """CPU seconds so far of each process of the fleet (with its children) and of this one."""
        used = {name: tree_cpu_seconds(pid) for name, pid in self.pids.items()}
        used["bench"] = cpu_seconds(os.getpid())
        return used

    def stored(self) -> tuple[int, dict[str, Any] | None]:
        """Entries the submissions worker has stored so far, and the workers' last snapshot (`bench.drain`)."""
        from fleet.runtime.stats import read_snapshot

        snapshot = read_snapshot(self.run_dir)
        if not snapshot:
            return 0, None
        counts = snapshot.get("triggers", {}).get(STORED_TRIGGER, {})
        return int(counts.get("handled", 0)) - int(counts.get("failed", 0)), snapshot

    def sent_emails(self) -> int:
        """Emails the local SES has sent so far (GetSendQuota: one cheap call)."""
        from lambda_platform import aws

        return int(aws.client("ses").get_send_quota()["SentLast24Hours"])
