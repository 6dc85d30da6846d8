"""workers.submissions.handler fed the canonical SQS batch and Pipes array."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from events.messages.envelope import dump_message, load_message
from events.models import ACCEPTED
from events.sample_payloads import load_sample
from workers.submissions import handler

NO_FAILURES = {"batchItemFailures": []}


def sample_ids(name: str) -> list[str]:
    records = load_sample(name)
    records = records["Records"] if isinstance(records, dict) else records
    return [load_message(r["body"]).submission_id for r in records]


@pytest.mark.parametrize("sample", ["sqs_batch", "pipes_sqs"])
def test_stores_every_entry_of_a_sample_batch(sample, worker_stores, submissions, lambda_context):
    assert handler(load_sample(sample), lambda_context) == NO_FAILURES

    assert set(submissions.items) == set(sample_ids(sample))
    assert {item["status"] for item in submissions.items.values()} == {ACCEPTED}


def test_a_pipe_replaying_an_sqs_batch_stores_nothing_new(worker_stores, submissions, lambda_context):
    handler(load_sample("sqs_batch"), lambda_context)
    before = copy.deepcopy(submissions.items)

    assert handler(load_sample("pipes_sqs"), lambda_context) == NO_FAILURES

    assert submissions.items == before


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[" * 100_000,
        '{"type":"SubmitEntry","version":1,"body":{"submission_id":"x"}}',
        '{"type":"DeleteEverything","version":1,"body":{}}',
        '{"type":"SubmitEntry","version":99,"body":{}}',
        "[]",
    ],
    ids=["text", "deep", "missing-fields", "unknown-type", "future-version", "array"],
)
def test_one_unparseable_body_fails_exactly_that_record(body, worker_stores, submissions, lambda_context):
    event = load_sample("pipes_sqs")
    event[1]["body"] = body

    assert handler(event, lambda_context) == {"batchItemFailures": [{"itemIdentifier": event[1]["messageId"]}]}

    assert set(submissions.items) == {load_message(event[i]["body"]).submission_id for i in (0, 2)}


def test_a_failed_write_reports_every_record_carrying_that_entry(worker_stores, submissions, lambda_context):
    event = load_sample("sqs_batch")
    duplicate_delivery = copy.deepcopy(event["Records"][0])
    duplicate_delivery["messageId"] = "5b0e7c1a-0d4f-4f6e-9a55-6e2f1c3d4b7a"
    event["Records"].append(duplicate_delivery)
    stuck = load_message(duplicate_delivery["body"]).submission_id
    submissions.fail_puts.add(stuck)

    response = handler(event, lambda_context)

    assert response == {
        "batchItemFailures": [
            {"itemIdentifier": event["Records"][0]["messageId"]},
            {"itemIdentifier": duplicate_delivery["messageId"]},
        ]
    }
    assert stuck not in submissions.items and len(submissions.items) == 2


def test_an_entry_for_an_unknown_campaign_fails_only_its_record(worker_stores, submissions, lambda_context):
    event = load_sample("pipes_sqs")
    stray = replace(load_message(event[2]["body"]), campaign_id="no-such-campaign")
    event[2]["body"] = dump_message(stray)

    response = handler(event, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": event[2]["messageId"]}]}
    assert stray.submission_id not in submissions.items and len(submissions.items) == 2


def test_an_empty_pipe_batch_touches_no_store(monkeypatch, lambda_context):
    def no_adapters():
        raise AssertionError("no records, no store")

    monkeypatch.setattr("workers.submissions._adapters", no_adapters)

    assert handler([], lambda_context) == NO_FAILURES


def test_an_event_that_is_not_an_sqs_batch_raises(worker_stores, lambda_context):
    # Raising fails the whole invocation, so nothing is deleted: better than a silent success.
    with pytest.raises(TypeError):
        handler({"Records": "nope"}, lambda_context)
