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
from tests.integration.fleet_up import FleetUp, alive, descendants, wait_gone

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
    result = subprocess.run([sys.executable, "-m", "fleet", "--help"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ("up", "provision", "status", "campaigns"):
        assert command in result.stdout


@pytest.mark.slow
def test_campaigns_create_and_list(provisioned):
    endpoint = provisioned.endpoint_url
    run_fleet(
        endpoint,
        "campaigns",
        "create",
        "spring",
        "--name",
        "Spring receipts",
        "--opens",
        "2020-01-01T00:00:00Z",
        "--closes",
        "2100-01-01T00:00:00+02:00",
        "--max-entries-per-email",
        "3",
    )
    listed = run_fleet(endpoint, "campaigns", "list", "--json")
    (campaign,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert campaign["campaign_id"] == "spring"
    assert campaign["max_entries_per_email"] == 3 and campaign["open"] is True and campaign["entries"] == 0

    default = run_fleet(
        endpoint,
        "campaigns",
        "create",
        "autumn",
        "--name",
        "Autumn",
        "--opens",
        "2020-01-01T00:00:00Z",
        "--closes",
        "2021-01-01T00:00:00Z",
    )
    assert "1 per email" in default.stdout
    assert "autumn  closed" in run_fleet(endpoint, "campaigns", "list").stdout


@pytest.mark.parametrize(
    ("args", "complaint"),
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


def start_fleet_up(aws_port: int, api_port: int, *args: str) -> tuple[FleetUp, dict[str, int]]:
    """`fleet up` on these ports (no reload: the tree may change under a test), once it is ready."""
    fleet = FleetUp("--no-reload", "--aws-port", str(aws_port), "--api-port", str(api_port), *args)
    try:
        return fleet, fleet.wait_ready()
    except BaseException:
        fleet.stop()
        raise


def post_and_see_stored(api_port: int, email: str) -> None:
    """One submission through the API, then its status until the worker has stored it."""
    body = {"first_name": "Grace", "last_name": "Hopper", "email": email, "consent": True}
    posted = requests.post(f"http://127.0.0.1:{api_port}/v1/campaigns/demo/submissions", json=body, timeout=10)
    assert posted.status_code == 202, posted.text
    status_url = f"http://127.0.0.1:{api_port}{posted.json()['status_url']}"
    deadline = time.monotonic() + 60
    while (shown := requests.get(status_url, timeout=10)).status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert shown.status_code == 200 and shown.json()["status"] == "accepted"


@pytest.mark.slow
def test_fleet_up_serves_the_whole_fleet_from_its_processes_and_stops_them_all_on_ctrl_c():
    aws_port, api_port = free_port(), free_port()
    fleet, pids = start_fleet_up(aws_port, api_port)
    try:
        assert set(pids) == {"aws", "api", "workers", "edge"}, fleet.text
        assert len(set(pids.values())) == 4 and os.getpid() not in pids.values()
        assert all(alive(pid) for pid in pids.values())
        text = "\n".join(fleet.out)
        assert f"http://127.0.0.1:{aws_port}" in text and f"http://127.0.0.1:{api_port}" in text
        # Each line a process wrote says which one wrote it.
        assert any(line.startswith("workers | poller pipe:submissions->submissions") for line in fleet.out), text
        everything = [pids[name] for name in pids] + [p for pid in pids.values() for p in descendants(pid)]

        endpoint = f"http://127.0.0.1:{aws_port}"
        run_fleet(
            endpoint,
            "campaigns",
            "create",
            "demo",
            "--name",
            "Demo",
            "--opens",
            "2020-01-01T00:00:00Z",
            "--closes",
            "2100-01-01T00:00:00Z",
        )
        post_and_see_stored(api_port, "grace@example.com")
        assert run_fleet(endpoint, "status").stdout.splitlines()[1].split() == ["submissions", "0", "0", "-", "0", "-"]
    finally:
        code = fleet.stop()
    assert code == 0, fleet.text
    assert "Traceback" not in "\n".join(fleet.err) and "fleet: stopped" in fleet.out, fleet.text
    assert wait_gone(everything) == [], f"processes left after Ctrl-C: {everything}"


@pytest.mark.slow
def test_a_killed_worker_process_is_reported_with_its_exit_code_and_started_again():
    aws_port, api_port = free_port(), free_port()
    fleet, pids = start_fleet_up(aws_port, api_port)
    try:
        seen = len(fleet.out)
        os.kill(pids["workers"], signal.SIGKILL)
        fleet.wait_for(rf"process workers pid {pids['workers']} ended, exit code -9 \(SIGKILL\); starting it again", err=True)
        again = int(fleet.wait_for(r"^fleet: process workers pid (\d+)$", after=seen).group(1))
        assert again != pids["workers"] and alive(again)
        assert alive(pids["aws"]) and alive(pids["api"])  # nothing else was restarted
        post_and_see_stored(api_port, "ada@example.com")  # the new workers poll the same queues
    finally:
        code = fleet.stop()
    assert code == 0, fleet.text
    assert wait_gone([pids["aws"], pids["api"], again]) == []


@pytest.mark.slow
def test_the_death_of_the_aws_process_ends_the_fleet_saying_the_local_state_is_gone():
    aws_port, api_port = free_port(), free_port()
    fleet, pids = start_fleet_up(aws_port, api_port, "--no-demo")
    try:
        os.kill(pids["aws"], signal.SIGKILL)
        fleet.wait_for(r"process aws pid \d+ ended, exit code -9 \(SIGKILL\): the local AWS state .* is gone", err=True)
        code = fleet.process.wait(timeout=90)
    finally:
        fleet.stop()
    assert code == 1, fleet.text
    assert "fleet: stopped" in fleet.out
    assert wait_gone(list(pids.values())) == []


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
def test_fleet_iam_without_credentials_says_so_in_one_line_and_how_to_render_offline(tmp_path):
    keep = ("PATH", "HOME", "PYTHONPATH", "LANG")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_DEFAULT_REGION="us-east-1",
    )
    missing = subprocess.run([FLEET, "iam", "--stage", "prod"], env=env, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1, missing.stdout + missing.stderr
    assert "no AWS credentials" in missing.stderr and "fleet iam --account" in missing.stderr
    assert "Traceback" not in missing.stderr
    offline = subprocess.run(
        [FLEET, "iam", "--stage", "prod", "--json", "--account", "123456789012"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout)["api"]["role"] == "fleet-prod-api"


def test_fleet_up_starts_again_at_once_on_the_same_ports_after_a_stop():
    """The ports of the last run, with its served connections in TIME_WAIT, are free to take at once."""
    aws_port, api_port = free_port(), free_port()
    for run in ("first", "second"):
        fleet, _ = start_fleet_up(aws_port, api_port)
        try:
            status, body = get_closed_by_server(api_port, "/v1/campaigns/demo")
            assert status == 200 and json.loads(body)["campaign_id"] == "demo", f"{run} run: {status} {body!r}"
            status, body = get_closed_by_server(aws_port, "/moto-api/")
            assert status == 200, f"{run} run: {status}"
        finally:
            code = fleet.stop()
        assert code == 0, f"{run} run: {fleet.text}"
        assert "Traceback" not in "\n".join(fleet.err) and "fleet: stopped" in fleet.out
