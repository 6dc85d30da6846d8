"""The local runtime's reading of partial batch responses and its SQS record shape."""

from __future__ import annotations

import pytest

from events.sample_payloads import load_sample
from fleet.batch import batch_response, sqs_records
from fleet.runtime.queues import failed_ids, to_lambda_record

BATCH = ["m-1", "m-2", "m-3"]


@pytest.mark.parametrize(
    "response",
    [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}, {"statusCode": 200}],
    ids=["none", "empty-dict", "empty-list", "null-list", "no-failures-key"],
)
def test_responses_that_mean_every_record_succeeded(response):
    assert failed_ids(response, BATCH) == set()


def test_named_records_fail_and_only_those():
    response = {"batchItemFailures": [{"itemIdentifier": "m-2"}, {"itemIdentifier": "m-3"}, {"itemIdentifier": "m-2"}]}

    assert failed_ids(response, BATCH) == {"m-2", "m-3"}


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": "m-404"}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"itemIdentifier": 2}]},
        {"batchItemFailures": [{"id": "m-1"}]},
        {"batchItemFailures": ["m-1"]},
        {"batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-404"}]},
        {"batchItemFailures": "m-1"},
        {"batchItemFailures": {"itemIdentifier": "m-1"}},
        ["m-1"],
        "m-1",
        0,
    ],
    ids=[
        "unknown-id",
        "empty-id",
        "null-id",
        "numeric-id",
        "wrong-key",
        "bare-string-item",
        "one-unknown-among-known",
        "string-list",
        "object-list",
        "list-response",
        "string-response",
        "number-response",
    ],
)
def test_malformed_responses_fail_the_whole_batch(response):
    assert failed_ids(response, BATCH) == set(BATCH)


def test_a_handler_response_round_trips_through_failed_ids():
    assert failed_ids(batch_response(["m-3", "m-1", "m-3"]), BATCH) == {"m-1", "m-3"}
    assert batch_response(["m-3", "m-1", "m-3"]) == {
        "batchItemFailures": [{"itemIdentifier": "m-3"}, {"itemIdentifier": "m-1"}]
    }


def test_sqs_records_reads_both_trigger_shapes():
    assert sqs_records(load_sample("sqs_batch")) == load_sample("pipes_sqs")
    with pytest.raises(TypeError):
        sqs_records({"Records": None})


def received_message(**overrides):
    """A message as SQS ReceiveMessage returns it with every attribute requested."""
    message = {
        "MessageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "ReceiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "MD5OfBody": "82de942f3808f9088453affd22a6b334",
        "Body": '{"type":"SubmitEntry"}',
        "Attributes": {
            "SenderId": "AROA4QWERTYUIOPASDFGH:fleet-local-api",
            "SentTimestamp": "1749892867530",
            "ApproximateReceiveCount": "2",
            "ApproximateFirstReceiveTimestamp": "1749892867541",
        },
        "MD5OfMessageAttributes": "5ea72eaba2b24d82e51be90a0d301c93",
        "MessageAttributes": {
            "type": {"StringValue": "SubmitEntry", "DataType": "String"},
            "message_id": {"StringValue": "3f8a1c52-6d0e-4b7a-9c1e-2a5b7d9e0f13", "DataType": "String"},
        },
    }
    message.update(overrides)
    return message


ARN = "arn:aws:sqs:us-east-1:123456789012:fleet-local-submissions"


def test_to_lambda_record_has_the_shape_lambda_and_pipes_deliver():
    record = to_lambda_record(received_message(), ARN, "us-east-1")
    aws_record = load_sample("sqs_batch")["Records"][0]

    # Every key the runtime writes is one AWS writes, and every key AWS always writes is there.
    assert set(record) <= set(aws_record)
    assert set(aws_record) - set(record) <= {"md5OfMessageAttributes"}
    assert set(record["attributes"]) == set(aws_record["attributes"])
    assert record["messageId"] == "059f36b4-87a3-44ab-83d2-661975830a7d"
    assert record["receiptHandle"] == "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a"
    assert record["body"] == '{"type":"SubmitEntry"}'
    assert record["md5OfBody"] == "82de942f3808f9088453affd22a6b334"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == ARN
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["messageAttributes"]["type"]["stringValue"] == "SubmitEntry"
    assert record["messageAttributes"]["type"]["dataType"] == "String"
    assert record["messageAttributes"]["type"]["stringListValues"] == []
    assert record["messageAttributes"]["type"]["binaryListValues"] == []


def test_to_lambda_record_without_attributes():
    message = received_message()
    del message["Attributes"], message["MessageAttributes"], message["MD5OfMessageAttributes"]

    record = to_lambda_record(message, ARN, "us-east-1")

    assert record["attributes"] == {} and record["messageAttributes"] == {}
