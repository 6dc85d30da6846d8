"""`make conformance-edge`: the HTTP caching tests against the local edge, scored, checked against what is expected.

    python -m tests.conformance.check [--json OUT]

Starts the suite's origin (`origin.mjs`, loopback only), the edge in front of it with one
catch-all behaviour (`tests.conformance.edge`, under gunicorn as `fleet up` runs it), and
the suite's client (`run.mjs`); prints the score of the required tests and every one that
failed, with why when it is expected to (`expected.py`). Exits 1 on a regression: fewer
required tests passing than the baseline, or a required test failing that is not listed.
A listed test that passes is reported, so the list can shrink. The suite must be installed
in this folder first (`npm ci`, which `make conformance-edge` runs).
"""

from __future__ import annotations

import argparse
import json
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conformance.expected import BASELINE, EXPECTED_FAILURES, SUITE

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: Seconds the client may take (it takes about 20: some tests pause a few seconds by design).
CLIENT_TIMEOUT = 300


@contextmanager
def _process(argv: list[str], cwd: Path, ready: str, timeout: float = 60.0) -> Iterator[str]:
    """A child process, until the block ends; yields the value of its first stdout line `ready=...`.

    Its output is read all along (a full pipe would stall it); its stderr is shown if it fails to start."""
    with tempfile.TemporaryFile(mode="w+") as log:
        child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=log, text=True)
        lines: queue.Queue[str] = queue.Queue()

        def drain() -> None:
            assert child.stdout is not None
            for line in child.stdout:
                lines.put(line)
            lines.put("")  # it ended

        threading.Thread(target=drain, daemon=True).start()
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    line = ""
                if line.startswith(ready + "="):
                    yield line.strip().split("=", 1)[1]
                    return
                if not line:
                    log.seek(0)
                    raise RuntimeError(f"{' '.join(argv)} did not start (exit {child.poll()}):\n{log.read()[-2000:]}")
        finally:
            child.terminate()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _wait_for(url: str, timeout: float = 30.0) -> None:
    """Until something accepts connections at `url`'s port."""
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def run_suite(node: str) -> dict[str, dict[str, str]]:
    """Every test's outcome, the suite's client run through the edge in front of its origin."""
    with _process([node, "origin.mjs"], HERE, "ORIGIN_URL") as origin:
        edge_argv = [sys.executable, "-m", "tests.conformance.edge", "--origin", origin]
        with _process(edge_argv, ROOT, "EDGE_URL") as edge:
            _wait_for(edge)
            done = subprocess.run(
                [node, "--no-warnings", "run.mjs", edge], cwd=HERE, capture_output=True, text=True, timeout=CLIENT_TIMEOUT
            )
    if done.returncode != 0:
        raise RuntimeError(f"the suite's client failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    outcomes: dict[str, dict[str, str]] = json.loads(done.stdout)
    return outcomes


def judge(outcomes: dict[str, dict[str, str]]) -> tuple[int, int, list[str], list[str], list[str]]:
    """The required tests' score: how many pass of how many, those failing as expected,
    those failing unexpectedly, and those expected to fail that pass."""
    required = {test_id: o for test_id, o in outcomes.items() if o["kind"] == "required"}
    failing = sorted(test_id for test_id, o in required.items() if o["outcome"] != "pass")
    expected = [test_id for test_id in failing if test_id in EXPECTED_FAILURES]
    unexpected = [test_id for test_id in failing if test_id not in EXPECTED_FAILURES]
    now_passing = sorted(test_id for test_id in EXPECTED_FAILURES if required.get(test_id, {}).get("outcome") == "pass")
    return len(required) - len(failing), len(required), expected, unexpected, now_passing


def main(argv: list[str] | None = None) -> int:
    """Run the suite, print the score and the failures; 1 on a regression."""
    parser = argparse.ArgumentParser(prog="tests.conformance.check")
    parser.add_argument("--json", type=Path, help="also write every test's outcome here")
    args = parser.parse_args(argv)
    node = shutil.which("node")
    if node is None:
        print("conformance-edge needs Node.js (Debian: apt-get install nodejs npm)", file=sys.stderr)
        return 2
    if not (HERE / "node_modules" / "http-cache-tests").is_dir():
        print(f"the suite is not installed: cd {HERE.relative_to(ROOT)} && npm ci", file=sys.stderr)
        return 2
    started = time.monotonic()
    outcomes = run_suite(node)
    if args.json:
        args.json.write_text(json.dumps(outcomes, indent=1) + "\n")
    passed, required, expected, unexpected, now_passing = judge(outcomes)
    print(f"edge conformance, {SUITE}: {passed}/{required} required tests pass ({100 * passed / required:.1f} %)", end="")
    print(f", baseline {BASELINE}, in {time.monotonic() - started:.0f} s")
    for test_id in unexpected:
        print(f"  FAIL (not expected) {test_id}: {outcomes[test_id]['outcome']}: {outcomes[test_id]['detail']}")
    by_reason: dict[str, list[str]] = {}
    for test_id in expected:
        by_reason.setdefault(EXPECTED_FAILURES[test_id], []).append(test_id)
    for reason, test_ids in by_reason.items():
        print(f"  fails on purpose ({len(test_ids)}): {', '.join(test_ids)}")
        print(f"    {reason}")
    for test_id in now_passing:
        print(f"  passes now         {test_id}: take it off tests/conformance/expected.py and docs/edge.md")
    if passed > BASELINE:
        print(f"  the score beat the baseline: raise BASELINE in tests/conformance/expected.py to {passed}")
    regressed = passed < BASELINE or bool(unexpected)
    if regressed:
        print("edge conformance: REGRESSION", file=sys.stderr)
    return 1 if regressed else 0


if __name__ == "__main__":
    sys.exit(main())
