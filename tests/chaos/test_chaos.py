"""Never lose a message: 1,000 entries through injected faults, poison records and a replay."""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from click.testing import CliRunner

import workers.submissions
from fleet.cli import main
from fleet.replay import dump
from fleet.status import queue_status
from lambda_platform import faults, settings
from tests.chaos.common import CAMPAIGN, is_poison, plan, queue_directly, sent_confirmations
from tests.tables import scan

TOTAL = 1000
THROUGH_API = 200  # the rest go straight onto the queue: the API is not what this tests


@pytest.fixture
def faults_switch(monkeypatch):
    """Turns FLEET_FAULTS on and off for the whole process (every client has the hook)."""

    def switch(spec: str) -> None:
        monkeypatch.setenv("FLEET_FAULTS", spec)
        monkeypatch.setenv("FLEET_FAULTS_SEED", "2024")
        settings.reset()

    faults.reset()
    yield switch
    monkeypatch.delenv("FLEET_FAULTS", raising=False)
    settings.reset()
    faults.reset()


@pytest.fixture
def poison_rule(monkeypatch):
    """A bug that fails poison entries, until `fix()` (a stand-in for deploying the fix)."""
    original = workers.submissions.load_message

    def buggy(body):
        entry = original(body)
        if is_poison(entry):
            raise ValueError("poison entry: the bug this test stands in for")
        return entry

    monkeypatch.setattr(workers.submissions, "load_message", buggy)
    return lambda: monkeypatch.setattr(workers.submissions, "load_message", original)


def post(api_url: str, planned) -> str:
    """POST one entry; a 503 (throttled downstream) is retried with the same Idempotency-Key."""
    for attempt in range(8):
        response = requests.post(
            f"{api_url}/v1/campaigns/{CAMPAIGN}/submissions",
            json=planned.body,
            headers={"Idempotency-Key": planned.key},
            timeout=30,
        )
        if response.status_code != 503:
            assert response.status_code == 202, response.text
            return response.json()["submission_id"]
        time.sleep(0.05 * 2**attempt)
    raise AssertionError(f"{planned.key} still 503 after retries")


def test_a_thousand_entries_through_faults_and_poison_are_all_stored_once_and_confirmed_once(
    running_fleet, make_campaign, faults_switch, poison_rule
):
    make_campaign(CAMPAIGN, max_entries_per_email=1)
    planned = plan(TOTAL, repeat_share=0.05, poison_share=0.02)
    faults_switch("dynamodb:0.2,ses:0.2")
    started = time.monotonic()

    with ThreadPoolExecutor(8) as pool:
        api_ids = list(pool.map(lambda p: post(running_fleet.api_url, p), planned[:THROUGH_API]))
    ids = api_ids + queue_directly(planned[THROUGH_API:])
    by_id = dict(zip(ids, planned, strict=True))
    poison = {i for i, p in by_id.items() if p.poison}
    assert len(set(ids)) == TOTAL and 10 <= len(poison) <= 35

    running_fleet.drain(timeout=600)
    drained = time.monotonic() - started
    plan_now = faults.current_plan()
    injected = dict(plan_now.injected)
    faults_switch("")  # the checks below read without faults

    stored = {item["submission_id"]: item for item in scan("submissions")}
    assert set(stored) == set(ids) - poison  # every valid entry stored, nothing else
    statuses = Counter(item["status"] for item in stored.values())
    accepted = {i for i, item in stored.items() if item["status"] == "accepted"}
    # One entry per address: the first delivery of each address wins, repeats are duplicates.
    assert len({stored[i]["email_lower"] for i in accepted}) == len(accepted)
    assert {item["email_lower"] for item in stored.values()} == {stored[i]["email_lower"] for i in accepted}
    assert statuses["duplicate"] >= 30

    confirmations = sent_confirmations()
    assert set(confirmations) == accepted  # one confirmation per stored non-duplicate entry...
    assert set(confirmations.values()) == {1}  # ...and exactly one

    dead_lines = dump("submissions")
    dead_ids = {json.loads(json.loads(line)["body"])["body"]["submission_id"] for line in dead_lines}
    assert dead_ids == poison  # the poison records and nothing else (SQS may hold one twice)
    rows = {r.name: r for r in queue_status()}
    assert all(rows[n].dead_lettered == 0 for n in rows if n != "submissions")
    assert rows["confirmations-failures"].visible == 0  # no confirmation parked

    # The bug is fixed: replay the dead-letter queue (faults back on: the replay copes too).
    poison_rule()
    faults_switch("dynamodb:0.2,ses:0.2")
    result = CliRunner().invoke(main, ["replay", "submissions"], catch_exceptions=False)
    assert result.exit_code == 0 and f"{len(dead_lines)} message(s) moved" in result.output, result.output
    running_fleet.drain(timeout=300)
    faults_switch("")

    stored = {item["submission_id"]: item for item in scan("submissions")}
    assert set(stored) == set(ids)
    assert next(r for r in queue_status() if r.name == "submissions").dead_lettered == 0
    accepted = {i for i, item in stored.items() if item["status"] == "accepted"}
    confirmations = sent_confirmations()
    assert set(confirmations) == accepted and set(confirmations.values()) == {1}
    print(
        f"\nchaos: {TOTAL} entries ({len(poison)} poison, {sum(p.repeat for p in planned)} repeats), "
        f"drained in {drained:.0f} s; faults injected {injected} out of calls {dict(plan_now.calls)}"
    )
