"""The AWS calls of the submissions worker against moto, counted by a hook on every `lambda_platform.aws`
client: a batch of new entries is two BatchGetItem (stored ids, claims), one conditional
PutItem claim per entry and one BatchWriteItem; a warm process reads its campaign once,
not once a batch."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from events.messages.campaigns import SubmitEntry
from events.messages.envelope import dump_message
from lambda_platform import settings
from tests.calls import counting_calls


@pytest.fixture
def calls(provisioned, make_campaign, monkeypatch):
    """Counts of every AWS operation from now on; campaigns cached for a minute, as on AWS."""
    monkeypatch.setenv("FLEET_CAMPAIGN_CACHE_SECONDS", "60")
    settings.reset()
    make_campaign("receipts")
    with counting_calls() as counted:
        yield counted


def pipe_batch(count: int) -> list[dict]:
    """A Pipe's event (a bare array of SQS records) of `count` new entries of `receipts`."""
    now = datetime.now(UTC).isoformat()
    records = []
    for _ in range(count):
        entry = SubmitEntry(str(uuid.uuid4()), "receipts", "Ana", "Souza", f"ana.{uuid.uuid4().hex[:8]}@example.com", True, now)
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "r",
                "body": dump_message(entry),
                "attributes": {},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            }
        )
    return records


def test_batches_of_new_entries_read_their_campaign_once_and_batch_the_rest(calls):
    from fleet.runtime.invoke import LocalContext
    from workers.submissions import handler

    context = LocalContext("submissions", 256, "arn:aws:lambda:us-east-1:123456789012:function:workers", 30)
    per_batch = []
    for _ in range(2):
        calls.clear()
        assert handler(pipe_batch(10), context) == {"batchItemFailures": []}
        per_batch.append(dict(calls))

    assert per_batch[0] == {"GetItem": 1, "BatchGetItem": 2, "PutItem": 10, "BatchWriteItem": 1}
    assert per_batch[1] == {"BatchGetItem": 2, "PutItem": 10, "BatchWriteItem": 1}  # the campaign is known
