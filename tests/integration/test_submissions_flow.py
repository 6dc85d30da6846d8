"""Campaign entries end to end: HTTP -> SQS -> the local pipe -> workers.submissions -> DynamoDB."""

from __future__ import annotations

import json
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from fleet.status import queue_status
from lambda_platform import aws
from lambda_platform.adapters.queues import queue_url
from tests.tables import scan

pytestmark = pytest.mark.integration


def stored_submissions() -> list[dict]:
    """Every item of the submissions table."""
    return scan("submissions")


def entry(email: str, **extra) -> dict:
    body = {"first_name": "Ada", "last_name": "Lovelace", "email": email, "consent": True}
    body.update(extra)
    return body


@pytest.mark.slow
def test_two_hundred_submissions_store_exactly_the_valid_entries(running_fleet, make_campaign):
    make_campaign("receipts", max_entries_per_email=1)
    make_campaign("double", max_entries_per_email=2)
    api = running_fleet.api_url

    requests_to_send: list[tuple[str, str, object, dict]] = []  # (kind, campaign, body, headers)
    for n in range(120):
        requests_to_send.append(("valid", "receipts", entry(f"person{n}@example.com", phone="+44 20 7946 0000"), {}))
    for n in range(20):  # the same people again, in another case: stored as duplicates
        requests_to_send.append(("valid", "receipts", entry(f"PERSON{n}@Example.com"), {}))
    for n in range(10):  # two entries each allowed on "double", a third is a duplicate
        for _ in range(2):
            requests_to_send.append(("valid", "double", entry(f"twice{n}@example.com"), {}))
    for n in range(5):
        requests_to_send.append(("valid", "double", entry(f"twice{n}@example.com"), {}))
    for _ in range(10):  # one client retrying with its Idempotency-Key
        requests_to_send.append(("keyed", "receipts", entry("retry@example.com"), {"Idempotency-Key": "client-42"}))
    invalid = [
        entry("not-an-email"),
        entry("x@example.com", consent=False),
        entry("x@example.com", consent="true"),
        entry("x@example.com", unexpected="field"),
        entry("x@example.com", phone="call me"),
        entry("x@example.com", postal_code="!!"),
        entry("x@example.com", first_name=""),
        entry("x@example.com", first_name="a" * 101),
        entry("x@example.com", answers={f"q{i}": "a" for i in range(30)}),
        entry("x@example.com", answers={"q": 1}),
        entry("x@example.com", upload_key="uploads/campaigns/other/abc.jpg"),
        {"first_name": "Ada"},
        [],
    ]
    for n in range(25):
        requests_to_send.append(("invalid", "receipts", invalid[n % len(invalid)], {}))
    assert len(requests_to_send) == 200
    random.Random(7).shuffle(requests_to_send)

    def send(item):
        kind, campaign, body, headers = item
        response = requests.post(f"{api}/v1/campaigns/{campaign}/submissions", json=body, headers=headers, timeout=30)
        return kind, campaign, body, response

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, requests_to_send))

    accepted_ids: dict[str, tuple[str, str]] = {}
    for kind, campaign, body, response in results:
        if kind == "invalid":
            assert response.status_code == 422, response.text
            assert response.json()["error"]["code"] == "invalid_fields"
            assert response.json()["error"]["fields"]
        else:
            assert response.status_code == 202, response.text
            accepted_ids[response.json()["submission_id"]] = (campaign, body["email"].lower())
    keyed = {r.json()["submission_id"] for k, _, _, r in results if k == "keyed"}
    assert len(keyed) == 1, "every retry with one Idempotency-Key gets the same submission id"

    running_fleet.drain(timeout=90)

    items = stored_submissions()
    assert {i["submission_id"] for i in items} == set(accepted_ids), "exactly the accepted requests are stored"
    assert len(items) == 120 + 20 + 25 + 1
    per_email = Counter((i["campaign_id"], i["email_lower"], i["status"]) for i in items)
    for (campaign, email), count in Counter(accepted_ids.values()).items():
        limit = 1 if campaign == "receipts" else 2
        assert per_email[(campaign, email, "accepted")] == min(count, limit), email
        assert per_email[(campaign, email, "duplicate")] == max(0, count - limit), email

    sample_id = next(iter(accepted_ids))
    shown = requests.get(f"{api}/v1/submissions/{sample_id}", timeout=10)
    assert shown.status_code == 200
    assert shown.json()["status"] in ("accepted", "duplicate")

    for row in queue_status():
        assert row.idle, row
        assert row.dead_lettered == 0, row


@pytest.mark.slow
def test_poison_message_reaches_the_dead_letter_queue_and_spares_its_batch(running_fleet, make_campaign):
    make_campaign("receipts")
    sqs = aws.client("sqs")
    url = queue_url("submissions")
    sqs.send_message(QueueUrl=url, MessageBody="this is not an envelope")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"type": "SubmitEntry", "version": 1, "body": {}}))
    ids = []
    for n in range(8):
        response = requests.post(
            f"{running_fleet.api_url}/v1/campaigns/receipts/submissions",
            json=entry(f"neighbour{n}@example.com"),
            timeout=10,
        )
        assert response.status_code == 202
        ids.append(response.json()["submission_id"])

    running_fleet.drain(timeout=60)

    assert {i["submission_id"] for i in stored_submissions()} == set(ids)
    (row,) = [r for r in queue_status() if r.name == "submissions"]
    assert row.idle and row.dead_lettered == 2
    dlq = queue_url("submissions-dlq")
    bodies = []
    for message in sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]).get(
        "Messages", []
    ):
        bodies.append(message["Body"])
        max_receives = 5
        assert int(message["Attributes"]["ApproximateReceiveCount"]) > max_receives
    assert sorted(bodies) == sorted(["this is not an envelope", json.dumps({"type": "SubmitEntry", "version": 1, "body": {}})])


@pytest.mark.quick
def test_unknown_and_closed_campaigns_are_refused_and_nothing_is_queued(running_fleet, make_campaign):
    from datetime import timedelta

    make_campaign("later", opens_in=timedelta(days=1), closes_in=timedelta(days=2))
    make_campaign("over", opens_in=-timedelta(days=2), closes_in=-timedelta(days=1))
    api = running_fleet.api_url
    missing = requests.post(f"{api}/v1/campaigns/nope/submissions", json=entry("a@example.com"), timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "campaign_not_found"
    for campaign in ("later", "over"):
        refused = requests.post(f"{api}/v1/campaigns/{campaign}/submissions", json=entry("a@example.com"), timeout=10)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "campaign_not_open"
    (row,) = [r for r in queue_status() if r.name == "submissions"]
    assert row.visible == 0 and row.in_flight == 0
