"""The embedded SQS at the cost of a message: moto's answers, without paying for the depth."""

from __future__ import annotations

import json

import pytest
from moto.sqs import models as sqs_models
from moto.sqs.exceptions import ReceiptHandleIsInvalid

from fleet.runtime import sqs_depth

#: An account of its own, so that nothing here meets what a moto server of this process holds.
ACCOUNT = "000000000044"
REGION = "us-east-1"
PATCHED = {
    sqs_models.Queue: (
        "attributes",
        "messages",
        "approximate_number_of_messages",
        "approximate_number_of_messages_not_visible",
        "approximate_number_of_messages_delayed",
        "delete_message",
    ),
    sqs_models.SQSBackend: (
        "receive_message",
        "change_message_visibility",
        "is_message_valid_based_on_retention_period",
        "get_queue_attributes",
    ),
}


@pytest.fixture
def backend(monkeypatch):
    """moto's SQS with the correction installed and two queues; moto as it was, afterwards."""
    for cls, names in PATCHED.items():
        for name in names:
            monkeypatch.setattr(cls, name, cls.__dict__[name])
    sqs_depth.install()
    made = sqs_models.sqs_backends[ACCOUNT][REGION]
    dlq = made.create_queue("work-dlq")
    made.create_queue(
        "work",
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq.queue_arn, "maxReceiveCount": 2}),
    )
    yield made
    for name in ("work", "work-dlq"):
        made.delete_queue(name)


def counts(backend, name: str = "work") -> tuple[int, int]:
    """Visible and in-flight messages, as GetQueueAttributes answers."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    answered = backend.get_queue_attributes(name, names)
    return int(answered[names[0]]), int(answered[names[1]])


def send(backend, n: int) -> None:
    for i in range(n):
        backend.send_message("work", f"m{i}")


def test_receive_returns_distinct_messages_in_order_and_hides_them(backend):
    send(backend, 30)
    first = backend.receive_message("work", 10, 0, 30)
    second = backend.receive_message("work", 10, 0, 30)
    assert [m.body for m in first] == [f"m{i}" for i in range(10)]
    assert [m.body for m in second] == [f"m{i}" for i in range(10, 20)]
    assert counts(backend) == (10, 20)


def test_delete_takes_the_message_away_and_a_second_delete_is_quiet(backend):
    send(backend, 5)
    received = backend.receive_message("work", 5, 0, 30)
    for message in received[:3]:
        backend.delete_message("work", message.receipt_handle)
    backend.delete_message("work", received[0].receipt_handle)
    assert counts(backend) == (0, 2)


def test_an_unknown_handle_is_refused_and_an_older_handle_of_the_message_still_deletes(backend):
    send(backend, 1)
    old = backend.receive_message("work", 1, 0, 0)[0].receipt_handle
    newer = backend.receive_message("work", 1, 0, 30)[0]
    assert newer.receipt_handle != old
    with pytest.raises(ReceiptHandleIsInvalid):
        backend.delete_message("work", "not-a-handle")
    backend.delete_message("work", old)
    assert counts(backend) == (0, 0)


def test_a_message_given_back_is_received_again(backend):
    send(backend, 2)
    taken = backend.receive_message("work", 2, 0, 30)
    backend.change_message_visibility("work", taken[1].receipt_handle, 0)
    again = backend.receive_message("work", 2, 0, 30)
    assert [m.body for m in again] == ["m1"]
    with pytest.raises(ReceiptHandleIsInvalid):
        backend.change_message_visibility("work", "not-a-handle", 0)


def test_a_purged_message_can_no_longer_be_deleted(backend):
    send(backend, 1)
    handle = backend.receive_message("work", 1, 0, 30)[0].receipt_handle
    backend.purge_queue("work")
    with pytest.raises(ReceiptHandleIsInvalid):
        backend.delete_message("work", handle)


def test_a_message_received_too_often_moves_to_the_dead_letter_queue(backend):
    send(backend, 1)
    for _ in range(2):
        assert [m.body for m in backend.receive_message("work", 1, 0, 0)] == ["m0"]
    assert backend.receive_message("work", 1, 0, 0) == []
    assert counts(backend) == (0, 0)
    assert counts(backend, "work-dlq") == (1, 0)


def test_sending_and_receiving_at_depth_count_no_messages(backend, monkeypatch):
    """moto counted every message of the queue three times per message it received."""
    send(backend, 2000)
    passes = []
    original = sqs_models.Queue.approximate_number_of_messages

    def counting(queue):
        passes.append(queue.name)
        return original.fget(queue)

    monkeypatch.setattr(sqs_models.Queue, "approximate_number_of_messages", property(counting))
    backend.send_message("work", "one more")
    received = backend.receive_message("work", 10, 0, 30)
    for message in received:
        backend.delete_message("work", message.receipt_handle)
    assert len(received) == 10 and passes == []
    assert counts(backend) == (1991, 0)
    assert passes == ["work"]  # GetQueueAttributes counts once what it is asked for


def test_all_attributes_are_listed_as_moto_lists_them(backend):
    answered = backend.get_queue_attributes("work", ["All"])
    assert json.loads(answered["RedrivePolicy"])["maxReceiveCount"] == 2
    assert answered["ApproximateNumberOfMessages"] == 0 and "QueueArn" in answered
    with pytest.raises(Exception, match="Unknown"):
        backend.get_queue_attributes("work", ["Unknown"])
