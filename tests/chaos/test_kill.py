"""SIGKILL the local runtime mid-drain (the whole fleet, or its worker process alone): nothing lost, no email sent twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fleet.status import queue_status
from tests.chaos.common import CAMPAIGN, plan, queue_directly, sent_confirmations
from tests.conftest import free_port
from tests.integration.fleet_up import FleetUp, alive
from tests.tables import scan

FLEET = str(Path(sys.executable).with_name("fleet"))
TOTAL = 400


def start_runtime(endpoint: str, log: Path) -> subprocess.Popen:
    """`fleet up --external` against the test's moto, faults on, its own API port."""
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "FLEET_STAGE": "local",
        "FLEET_FAULTS": "dynamodb:0.2,ses:0.2",
        "FLEET_VISIBILITY_TIMEOUT": "2",
    }
    return subprocess.Popen(
        [FLEET, "up", "--external", "--no-demo", "--no-reload", "--api-port", str(free_port()), "--edge-port", str(free_port())],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def settled(ids: set[str], timeout: float) -> tuple[dict, object]:
    """Wait for every entry stored and every confirmation sent (or the deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        stored = {i["submission_id"]: i for i in scan("submissions")}
        accepted = {i for i, item in stored.items() if item["status"] == "accepted"}
        sent = sent_confirmations()
        if (set(stored) == ids and accepted <= set(sent)) or time.monotonic() > deadline:
            return stored, sent
        time.sleep(1)


def test_a_runtime_killed_mid_drain_and_restarted_loses_nothing_and_sends_once(provisioned, make_campaign, tmp_path):
    make_campaign(CAMPAIGN, max_entries_per_email=1)
    ids = set(queue_directly(plan(TOTAL, repeat_share=0.05, poison_share=0.0, seed=9)))
    log = tmp_path / "runtime.log"

    first = start_runtime(provisioned.endpoint_url, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # mid-drain: some entries stored and confirmed, not all
        if len(sent_confirmations()) >= 40:
            break
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    stored_at_kill = len(scan("submissions"))
    assert 0 < stored_at_kill < TOTAL, log.read_text()[-2000:]

    second = start_runtime(provisioned.endpoint_url, log)
    try:
        stored, sent = settled(ids, timeout=400)
    finally:
        second.send_signal(signal.SIGINT)
        second.wait(timeout=60)

    assert set(stored) == ids  # every entry stored once (the table is keyed by submission id)
    accepted = {i for i, item in stored.items() if item["status"] == "accepted"}
    assert set(sent) == accepted
    doubled = {i: n for i, n in sent.items() if n > 1}
    # The one window left open (see README): SES accepted a send and the process died
    # before its idempotency record said COMPLETED. One kill can hit it at most once.
    assert len(doubled) <= 1 and set(doubled.values()) <= {2}, doubled
    rows = {r.name: r for r in queue_status()}
    assert all(r.dead_lettered == 0 for r in rows.values())
    assert rows["confirmations-failures"].visible == 0
    print(f"\nkill: {stored_at_kill}/{TOTAL} stored at the kill; doubled after restart: {len(doubled)}")


def assert_settled_once(ids: set[str], stored: dict, sent) -> dict:
    """Every entry stored once, each accepted one confirmed, at most one email doubled (the README's window)."""
    assert set(stored) == ids  # every entry stored once (the table is keyed by submission id)
    accepted = {i for i, item in stored.items() if item["status"] == "accepted"}
    assert set(sent) == accepted
    doubled = {i: n for i, n in sent.items() if n > 1}
    # The one window left open (see README, Crash safety): SES accepted a send and the
    # process died before its idempotency record said COMPLETED. One kill, one email at most.
    assert len(doubled) <= 1 and set(doubled.values()) <= {2}, doubled
    rows = {r.name: r for r in queue_status()}
    assert all(r.dead_lettered == 0 for r in rows.values())
    assert rows["confirmations-failures"].visible == 0
    return doubled


def test_the_worker_process_killed_mid_drain_is_restarted_and_loses_nothing_and_sends_once(provisioned, make_campaign, tmp_path):
    make_campaign(CAMPAIGN, max_entries_per_email=1)
    ids = set(queue_directly(plan(TOTAL, repeat_share=0.05, poison_share=0.0, seed=11)))
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": provisioned.endpoint_url,
        "FLEET_STAGE": "local",
        "FLEET_FAULTS": "dynamodb:0.1,ses:0.1",
        "FLEET_VISIBILITY_TIMEOUT": "2",
    }
    fleet = FleetUp("--external", "--no-demo", "--no-reload", "--api-port", str(free_port()), env=env)
    try:
        pids = fleet.wait_ready()
        assert set(pids) == {"api", "workers", "edge"}  # --external: no moto process of its own
        deadline = time.monotonic() + 120
        while len(sent_confirmations()) < 40 and time.monotonic() < deadline:
            time.sleep(0.2)
        seen = len(fleet.out)
        os.kill(pids["workers"], signal.SIGKILL)  # the worker process alone; moto and the API stay
        stored_at_kill = len(scan("submissions"))
        fleet.wait_for(rf"process workers pid {pids['workers']} ended, exit code -9 \(SIGKILL\)", err=True)
        again = int(fleet.wait_for(r"^fleet: process workers pid (\d+)$", after=seen).group(1))
        assert alive(again) and alive(pids["api"])
        assert 0 < stored_at_kill < TOTAL, fleet.text
        stored, sent = settled(ids, timeout=400)
    finally:
        code = fleet.stop()
    assert code == 0, fleet.text
    doubled = assert_settled_once(ids, stored, sent)
    print(f"\nworker kill: {stored_at_kill}/{TOTAL} stored at the kill; doubled after restart: {len(doubled)}")
