"""The processes `fleet up` starts, each its own entry point: `python -m fleet.runtime.processes ROLE`.

- `aws`: moto's server (`EmbeddedAws`); it owns every queue, table and object, and lives
  as long as the fleet;
- `workers`: every poller of the topology with the worker code (`LocalRuntime`).

The API is `fleet.runtime.gunicorn_app`, the edge `fleet.edge.server` under the same
gunicorn setup. Each says `ready` on a line of its own when it serves; the workers first
say `imported` and wait for `go` on their input, so that a new generation can prove its
code imports while the old one still polls (see `fleet.runtime.supervisor`). Each ends
cleanly on SIGTERM, and when its parent is gone.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time

#: What a process prints when it serves (the supervisor reads it from its output).
READY = "ready"
#: What the workers print once every module they run is imported.
IMPORTED = "imported"
#: Seconds the pollers get to finish their batches on SIGTERM; after it, what they hold
#: comes back after its visibility timeout.
WORKERS_GRACE = 25.0

#: The API under gunicorn (`fleet.runtime.gunicorn_app`): worker processes and threads each.
#: Measured on two cores against moto (see the README's Local runtime).
API_WORKERS = 1
API_THREADS = 8

log = logging.getLogger("fleet.runtime")


def exit_with_parent() -> None:
    """SIGTERM this process when the process that started it ends, even by SIGKILL."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):  # the watch below does the same, within a second
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the watch began
        os.kill(os.getpid(), signal.SIGTERM)


def say(line: str) -> None:
    """One line for the supervisor, at once."""
    print(line, flush=True)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _configure_logging() -> None:
    # The supervisor prefixes each line with the process's name, and the time is the reader's.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def run_aws(host: str, port: int, dynamodb_port: int | None = None) -> None:
    """moto's server until SIGTERM; everything it holds goes with it.

    With `dynamodb_port`, DynamoDB's moto runs in a child process on that port
    (`fleet.runtime.moto_split`); its death ends this one (exit status 1), as moto's would.
    """
    from fleet.runtime.local import EmbeddedAws

    stop = _stop_on_signals()
    child = None
    dynamodb_url = None
    if dynamodb_port is not None:
        child = _start_dynamodb(host, dynamodb_port)
        dynamodb_url = f"http://{host}:{dynamodb_port}"
    server = EmbeddedAws(host, port, dynamodb_url=dynamodb_url)
    server.start()
    say(f"{READY}: {server.endpoint_url}" + (f" (DynamoDB at {dynamodb_url})" if dynamodb_url else ""))
    lost = False
    while not stop.wait(0.5):
        if child is not None and child.poll() is not None:
            log.error("DynamoDB's moto (pid %s) ended with status %s: the embedded AWS ends", child.pid, child.returncode)
            lost = True
            break
    server.stop()
    if child is not None and child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    if lost:
        sys.exit(1)


def _start_dynamodb(host: str, port: int) -> subprocess.Popen[str]:
    """DynamoDB's moto (`aws` without a split) in a child process, once it serves."""
    child = subprocess.Popen(
        [sys.executable, "-m", "fleet.runtime.processes", "aws", "--host", host, "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line.startswith(READY):
        child.kill()
        raise SystemExit(f"DynamoDB's moto did not start: {line!r}")

    def echo() -> None:  # its later lines, so that its pipe never fills
        for later in child.stdout or ():
            say(f"dynamodb: {later.rstrip()}")

    threading.Thread(target=echo, name="dynamodb-output", daemon=True).start()
    return child


def run_workers() -> None:
    """Every poller with the worker code: imported first, polling after `go`, until SIGTERM."""
    from events.topology import TOPOLOGY
    from fleet.runtime.invoke import resolve
    from fleet.runtime.local import LocalRuntime

    stop = _stop_on_signals()
    for function in TOPOLOGY.functions:
        resolve(function.handler)  # an import error ends this process before the old one stops
    say(IMPORTED)
    if not _wait_for_go(stop):
        return
    from fleet.runtime.credentials import learn_account
    from lambda_platform.resources import function_arn

    learn_account(lambda: function_arn(TOPOLOGY.workers))  # as Lambda's context gives it
    runtime = LocalRuntime()
    runtime.start()
    for poller in [*runtime.pollers, *runtime.stream_pollers]:
        say(f"poller {poller.name}")
    say(f"{READY}: {len(runtime.pollers) + len(runtime.stream_pollers)} pollers")
    stop.wait()
    runtime.stop_event.set()
    deadline = time.monotonic() + WORKERS_GRACE
    for poller in [*runtime.pollers, *runtime.stream_pollers]:
        poller.join(timeout=max(0.0, deadline - time.monotonic()))
    runtime.save_stats()  # the next generation's counts go on from these
    held = [p.name for p in [*runtime.pollers, *runtime.stream_pollers] if p.is_alive()]
    if held:
        log.warning("still in a batch after %.0f s, left to its visibility timeout: %s", WORKERS_GRACE, held)
    say("stopped")


def _wait_for_go(stop: threading.Event) -> bool:
    """Block until the supervisor writes `go` (True) or closes our input or stops us (False)."""
    answer: list[str] = []
    read = threading.Event()

    def listen() -> None:
        answer.append(sys.stdin.readline())
        read.set()

    threading.Thread(target=listen, name="go", daemon=True).start()
    while not stop.is_set() and not read.wait(0.1):
        pass
    return not stop.is_set() and answer[0].strip() == "go"


def main(argv: list[str] | None = None) -> None:
    """Run one role of the fleet."""
    parser = argparse.ArgumentParser(prog="fleet.runtime.processes")
    roles = parser.add_subparsers(dest="role", required=True)
    aws = roles.add_parser("aws", help="moto's server")
    aws.add_argument("--host", default="127.0.0.1")
    aws.add_argument("--port", type=int, default=4566)
    aws.add_argument("--dynamodb-port", type=int, help="serve DynamoDB from a child process on this port")
    roles.add_parser("workers", help="every poller with the worker code")
    args = parser.parse_args(argv)
    exit_with_parent()
    _configure_logging()
    if args.role == "aws":
        run_aws(args.host, args.port, args.dynamodb_port)
    else:
        run_workers()


if __name__ == "__main__":
    main()
