"""`fleet status` for scripts (`--json`, with `--check`) and for people (`--watch`), run as a
user runs it against moto: the numbers after messages are sent, the exit codes, a watch
that redraws until Ctrl-C and exits 0."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from events.topology import TOPOLOGY
from tests.integration.test_cli import FLEET, run_fleet

HEADER = "fleet status: stage local"


def _send(queue: str, count: int) -> None:
    from lambda_platform import aws, resources

    entries = [{"Id": str(i), "MessageBody": json.dumps({"n": i})} for i in range(count)]
    aws.client("sqs").send_message_batch(QueueUrl=resources.queue_url(queue), Entries=entries)


@pytest.fixture
def troubled(provisioned):
    """Three users waiting, two dead-lettered entries, one parked welcome failure."""
    _send("users", 3)
    _send("submissions-dlq", 2)
    _send("welcome-failures", 1)
    return provisioned


def _queues(document: dict) -> dict[str, dict]:
    return {q["name"]: q for q in document["queues"]}


@pytest.mark.slow
def test_json_has_every_queue_in_the_topology_order_with_its_numbers(troubled):
    from events.models import Campaign
    from lambda_platform.adapters.tables import DynamoCampaigns

    now = datetime.now(UTC)
    DynamoCampaigns().put(Campaign("spring", "Spring", now - timedelta(days=1), now + timedelta(days=1), gives_codes=True))
    DynamoCampaigns().put(Campaign("plain", "Plain", now - timedelta(days=1), now + timedelta(days=1)))

    document = json.loads(run_fleet(troubled.endpoint_url, "status", "--json").stdout)
    assert document["stage"] == "local" and document["source_ages"] is True
    assert [q["name"] for q in document["queues"]] == [q.name for q in TOPOLOGY.queues]
    queues = _queues(document)
    assert set(queues["users"]) == {
        "name",
        "visible",
        "in_flight",
        "oldest_age_seconds",
        "dead_lettered",
        "oldest_dead_age_seconds",
        "on_failure_queue",
        "failed",
    }
    users = queues["users"]
    assert (users["visible"], users["in_flight"], users["dead_lettered"], users["failed"]) == (3, 0, 0, 0)
    assert isinstance(users["oldest_age_seconds"], (int, float)) and users["oldest_age_seconds"] >= 0
    assert users["oldest_dead_age_seconds"] is None and users["on_failure_queue"] is False

    submissions = queues["submissions"]
    assert (submissions["visible"], submissions["dead_lettered"], submissions["failed"]) == (0, 2, 2)
    assert submissions["oldest_age_seconds"] is None
    assert isinstance(submissions["oldest_dead_age_seconds"], (int, float))

    welcome = queues["welcome-failures"]
    assert welcome["on_failure_queue"] is True and welcome["visible"] == 1 and welcome["failed"] == 1
    assert document["failed"] == 3
    # Only the campaign that gives codes has a pool; it has none yet.
    assert document["code_pools"] == [{"campaign_id": "spring", "available": 0, "given": 0, "waitlisted": 0}]

    table = run_fleet(troubled.endpoint_url, "status").stdout.splitlines()
    assert table[-1] == "codes: spring pool empty, 0 waitlisted (0 given)"


def test_check_with_json_keeps_its_exit_codes_and_prints_only_json(troubled):
    result = run_fleet(troubled.endpoint_url, "status", "--check", "--json", check=False)
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["failed"] == 3 and document["source_ages"] is False
    # --check peeks no queue with a redrive policy: a peek counts as a receive.
    assert _queues(document)["users"]["oldest_age_seconds"] is None
    assert "check: submissions holds 2 failed message(s); see: fleet replay submissions" in result.stderr
    assert "check: welcome-failures holds 1 failed message(s)" in result.stderr


def test_check_with_json_on_a_clean_fleet_exits_0(provisioned):
    result = run_fleet(provisioned.endpoint_url, "status", "--check", "--json")
    assert json.loads(result.stdout)["failed"] == 0
    plain = run_fleet(provisioned.endpoint_url, "status", "--check")
    assert plain.stdout.splitlines()[-1] == "check: no dead-lettered or parked messages"


def test_watch_and_check_do_not_go_together(local_aws):
    result = run_fleet(local_aws.endpoint_url, "status", "--watch", "--check", check=False)
    assert result.returncode == 2 and "--check" in result.stderr and "Traceback" not in result.stderr


def _read_until(fd: int, wanted: int, marker: bytes, timeout: float = 30.0) -> bytes:
    """Read `fd` until `marker` was seen `wanted` times."""
    seen = b""
    deadline = time.monotonic() + timeout
    while seen.count(marker) < wanted and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the other end closed: the process ended
                break
            if not chunk:
                break
            seen += chunk
    return seen


def _with_ctrl_c(*argv: str) -> list[str]:
    """`argv` run with SIGINT as a terminal delivers it.

    A runner that starts the suite in the background without job control (`cmd &` in a
    script) passes SIGINT on ignored, and an ignored signal stays ignored across exec: the
    watch would never see its Ctrl-C. The launcher puts the default back, then execs.
    """
    launcher = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"
    return [sys.executable, "-c", launcher, *argv]


def _environment(endpoint: str) -> dict[str, str]:
    return {**os.environ, "AWS_ENDPOINT_URL": endpoint, "FLEET_STAGE": "local"}


@pytest.mark.slow
def test_watch_redraws_the_table_on_a_terminal_until_ctrl_c_and_exits_0(troubled):
    main, other = pty.openpty()
    process = subprocess.Popen(
        _with_ctrl_c(FLEET, "status", "--watch", "--interval", "0.5"),
        env=_environment(troubled.endpoint_url),
        stdin=other,
        stdout=other,
        stderr=other,
        close_fds=True,
    )
    os.close(other)
    try:
        shown = _read_until(main, 2, HEADER.encode())
        assert shown.count(HEADER.encode()) >= 2, shown
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        rest = _read_until(main, 1, b"\x00", timeout=2)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(main)
    text = (shown + rest).decode()
    assert "\x1b[2J" in text  # click.clear on a terminal: each draw replaces the last
    assert "Traceback" not in text and "Aborted" not in text
    assert "submissions" in text and "welcome-failures" in text


@pytest.mark.slow
def test_watch_json_prints_a_document_a_line_and_never_peeks_a_source_queue(troubled):
    process = subprocess.Popen(
        _with_ctrl_c(FLEET, "status", "--watch", "--json", "--interval", "0.5"),
        env=_environment(troubled.endpoint_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        lines = [process.stdout.readline(), process.stdout.readline()]
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert b"Traceback" not in err
    for line in lines:
        document = json.loads(line)
        assert document["source_ages"] is False and document["failed"] == 3
        assert _queues(document)["users"]["oldest_age_seconds"] is None
    from lambda_platform import aws, resources

    # Not one receive of the users waiting (a peek is one): none is closer to its dead-letter queue.
    messages = aws.client("sqs").receive_message(
        QueueUrl=resources.queue_url("users"), MaxNumberOfMessages=10, MessageSystemAttributeNames=["ApproximateReceiveCount"]
    )["Messages"]
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in messages] == ["1", "1", "1"]
