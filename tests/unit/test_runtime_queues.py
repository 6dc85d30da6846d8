"""The local runtime's SQS pollers: partial batch responses, the record shape, how they poll."""

from __future__ import annotations

import threading
import time

import pytest

from events.sample_payloads import load_sample
from events.topology import Function, PipeTrigger, SqsTrigger
from fleet.runtime import queues
from fleet.runtime.queues import failed_ids, to_lambda_record
from lambda_platform.batch import batch_response, sqs_records

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
    assert batch_response(["m-3", "m-1", "m-3"]) == {"batchItemFailures": [{"itemIdentifier": "m-3"}, {"itemIdentifier": "m-1"}]}


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


class TrickleSqs:
    """An SQS queue that messages reach one every `every` seconds (all of them at once with every=0).

    A receive returns what has arrived and nobody took yet, at once; with nothing there it
    waits (a long poll) until the next arrival or its WaitTimeSeconds, as SQS does.
    """

    def __init__(self, count: int, every: float) -> None:
        self.count, self.every, self.taken, self.started = count, every, 0, time.monotonic()
        self.receives: list[int] = []  # what each receive returned
        self.calls = 0  # receives begun

    def arrived(self) -> int:
        if self.every == 0:
            return self.count
        return min(self.count, int((time.monotonic() - self.started) / self.every))

    def receive_message(self, QueueUrl, MaxNumberOfMessages, WaitTimeSeconds=0, **_):
        self.calls += 1
        deadline = time.monotonic() + WaitTimeSeconds
        while self.arrived() == self.taken and time.monotonic() < deadline:
            time.sleep(0.005)
        got = min(MaxNumberOfMessages, self.arrived() - self.taken)
        self.receives.append(got)
        messages = [received_message(MessageId=f"m-{self.taken + n}", ReceiptHandle=f"r-{self.taken + n}") for n in range(got)]
        self.taken += got
        return {"Messages": messages} if messages else {}


@pytest.fixture
def sqs(monkeypatch):
    """Point the pollers at a TrickleSqs set by the test (`sqs.queue = TrickleSqs(...)`)."""

    class Holder:
        queue: TrickleSqs | None = None

    holder = Holder()
    monkeypatch.setattr("lambda_platform.aws.client", lambda service: holder.queue)
    monkeypatch.setattr(queues, "queue_url", lambda name: f"https://sqs.local/{name}")
    return holder


def poller(trigger, stop, number=1):
    made = queues.QueuePoller(
        Function("submissions", handler="workers.submissions.handler", triggers=(trigger,)), trigger, stop, number
    )
    made.delivered = []
    made._deliver = made.delivered.append  # the batch, as it would be delivered
    return made


def test_only_the_first_poller_of_a_trigger_polls_an_idle_queue(sqs):
    sqs.queue = TrickleSqs(0, every=0)
    stop = threading.Event()
    second = poller(SqsTrigger(queue="users"), stop, number=2)
    second.start()
    time.sleep(0.4)
    assert sqs.queue.calls == 0  # the second waits for a backlog; an idle queue has none

    first = poller(SqsTrigger(queue="users"), stop, number=1)
    assert first.poll_once(wait_seconds=0) == 0
    assert sqs.queue.receives == [0]
    stop.set()
    second.join(timeout=5)


def test_the_other_pollers_join_in_while_receives_come_back_full(sqs):
    sqs.queue = TrickleSqs(25, every=0)
    stop = threading.Event()
    first, second = (poller(SqsTrigger(queue="users"), stop, number=n) for n in (1, 2))
    assert not second.wait_for_backlog(timeout=0)

    assert first.poll_once(wait_seconds=0) == 10  # a full receive: more may wait
    assert second.wait_for_backlog(timeout=0)
    assert second.poll_once(wait_seconds=0) == 10
    assert first.poll_once(wait_seconds=0) == 5  # a short one: the queue is drained
    assert not second.wait_for_backlog(timeout=0)
    assert [len(batch) for batch in first.delivered + second.delivered] == [10, 5, 10]


def test_a_trickle_is_gathered_a_few_receives_a_batch_within_the_window(sqs):
    # Ten messages, one every 50 ms, for a pipe that waits up to a second to fill a batch of ten.
    sqs.queue = TrickleSqs(10, every=0.05)
    first = poller(
        PipeTrigger(pipe="submissions", queue="submissions", batch_size=10, batching_window_seconds=1), threading.Event()
    )

    assert first.poll_once(wait_seconds=1) == 10
    # Not one receive a message: the window's messages gather between receives.
    assert len(sqs.queue.receives) <= 6
    assert [len(batch) for batch in first.delivered] == [10]


def test_a_window_of_zero_delivers_what_one_receive_brought(sqs):
    sqs.queue = TrickleSqs(3, every=0)
    first = poller(SqsTrigger(queue="users", batch_size=10, batching_window_seconds=0), threading.Event())

    assert first.poll_once(wait_seconds=0) == 3
    assert sqs.queue.receives == [3]
