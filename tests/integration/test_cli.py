"""The `fleet` command line, run as a user runs it: a subprocess of the venv's console script."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port

pytestmark = pytest.mark.integration

FLEET = str(Path(sys.executable).with_name("fleet"))


def run_fleet(endpoint: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "FLEET_STAGE": "local"}
    result = subprocess.run([FLEET, *args], env=env, capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.mark.slow
def test_provision_twice_changes_nothing(local_aws):
    first = run_fleet(local_aws.endpoint_url, "provision")
    assert "created" in first.stdout
    second = run_fleet(local_aws.endpoint_url, "provision")
    assert "created" not in second.stdout and "updated" not in second.stdout
    assert second.stdout.strip().endswith("0 changed")


def test_python_dash_m_fleet_is_the_same_command(local_aws):
    env = {**os.environ, "AWS_ENDPOINT_URL": local_aws.endpoint_url, "FLEET_STAGE": "local"}
    result = subprocess.run(
        [sys.executable, "-m", "fleet", "--help"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for command in ("up", "provision", "status", "campaigns"):
        assert command in result.stdout


@pytest.mark.slow
def test_campaigns_create_and_list(provisioned):
    endpoint = provisioned.endpoint_url
    run_fleet(
        endpoint, "campaigns", "create", "spring", "--name", "Spring receipts",
        "--opens", "2020-01-01T00:00:00Z", "--closes", "2100-01-01T00:00:00+02:00", "--max-entries-per-email", "3",
    )
    listed = run_fleet(endpoint, "campaigns", "list", "--json")
    (campaign,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert campaign["campaign_id"] == "spring"
    assert campaign["max_entries_per_email"] == 3 and campaign["open"] is True and campaign["entries"] == 0

    default = run_fleet(endpoint, "campaigns", "create", "autumn", "--name", "Autumn",
                        "--opens", "2020-01-01T00:00:00Z", "--closes", "2021-01-01T00:00:00Z")
    assert "1 per email" in default.stdout
    assert "autumn  closed" in run_fleet(endpoint, "campaigns", "list").stdout


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["--opens", "yesterday", "--closes", "2100-01-01T00:00:00Z"], "--opens"),
        (["--opens", "2020-01-01T00:00:00", "--closes", "2100-01-01T00:00:00Z"], "--opens"),
        (["--opens", "2100-01-01T00:00:00Z", "--closes", "2020-01-01T00:00:00Z"], "--closes"),
    ],
)
def test_campaigns_create_refuses_bad_dates(provisioned, args, complaint):
    result = run_fleet(provisioned.endpoint_url, "campaigns", "create", "bad", "--name", "Bad", *args, check=False)
    assert result.returncode == 2
    assert complaint in result.stderr and "Traceback" not in result.stderr


def test_status_lists_every_queue(provisioned):
    result = run_fleet(provisioned.endpoint_url, "status")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["queue", "visible", "in", "flight", "oldest", "dead-lettered", "oldest"]
    assert lines[1].split() == ["submissions", "0", "0", "-", "0", "-"]


def start_fleet_up(aws_port: int, api_port: int) -> tuple[subprocess.Popen, str]:
    """`fleet up` on these ports, and what it printed until it said it was ready (or ended)."""
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "FLEET_VISIBILITY_TIMEOUT")}
    env["FLEET_STAGE"] = "local"
    process = subprocess.Popen(
        [FLEET, "up", "--aws-port", str(aws_port), "--api-port", str(api_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    output = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        if "ready" in line:
            break
    return process, "".join(output)


def stop_fleet_up(process: subprocess.Popen) -> tuple[str, str]:
    """Ctrl-C, as a developer stops it; the rest of its output and its errors."""
    process.send_signal(signal.SIGINT)
    return process.communicate(timeout=60)


@pytest.mark.slow
def test_fleet_up_serves_the_whole_fleet_and_stops_cleanly_on_ctrl_c(tmp_path):
    aws_port, api_port = free_port(), free_port()
    process, text = start_fleet_up(aws_port, api_port)
    try:
        assert "ready" in text, text + process.stderr.read() if process.poll() is not None else text
        assert f"http://127.0.0.1:{aws_port}" in text and f"http://127.0.0.1:{api_port}" in text

        endpoint = f"http://127.0.0.1:{aws_port}"
        run_fleet(endpoint, "campaigns", "create", "demo", "--name", "Demo",
                  "--opens", "2020-01-01T00:00:00Z", "--closes", "2100-01-01T00:00:00Z")
        body = {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com", "consent": True}
        posted = requests.post(f"http://127.0.0.1:{api_port}/v1/campaigns/demo/submissions", json=body, timeout=10)
        assert posted.status_code == 202
        status_url = f"http://127.0.0.1:{api_port}{posted.json()['status_url']}"
        deadline = time.monotonic() + 30
        while (shown := requests.get(status_url, timeout=10)).status_code == 404 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert shown.status_code == 200 and shown.json()["status"] == "accepted"
        assert run_fleet(endpoint, "status").stdout.splitlines()[1].split() == ["submissions", "0", "0", "-", "0", "-"]
    finally:
        out, err = stop_fleet_up(process)
    assert process.returncode == 0, err
    assert "Traceback" not in err and "stopped" in out


def test_a_command_without_a_reachable_aws_says_so_in_one_line():
    result = run_fleet(f"http://127.0.0.1:{free_port()}", "status", check=False)
    assert result.returncode == 1
    assert "cannot reach http://127.0.0.1:" in result.stderr and "fleet up" in result.stderr
    assert "Traceback" not in result.stderr


def get_closed_by_server(port: int, path: str) -> tuple[int, bytes]:
    """GET over HTTP/1.0, read to the end: the server closes first, so its end of the connection waits in TIME_WAIT."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.slow
def test_fleet_up_starts_again_at_once_on_the_same_ports_after_a_stop():
    """The ports of the last run, with its served connections in TIME_WAIT, are free to take at once."""
    aws_port, api_port = free_port(), free_port()
    for run in ("first", "second"):
        process, text = start_fleet_up(aws_port, api_port)
        try:
            assert "ready" in text, f"{run} run: " + (text + process.stderr.read() if process.poll() is not None else text)
            status, body = get_closed_by_server(api_port, "/v1/campaigns/demo")
            assert status == 200 and json.loads(body)["campaign_id"] == "demo", f"{run} run: {status} {body!r}"
            status, body = get_closed_by_server(aws_port, "/moto-api/")
            assert status == 200, f"{run} run: {status}"
        finally:
            out, err = stop_fleet_up(process)
        assert process.returncode == 0, f"{run} run: {err}"
        assert "Traceback" not in err and "stopped" in out
