"""Never lose a message: every queue has a dead-letter queue, every stream an on-failure queue."""

from __future__ import annotations

import json

import pytest

from events.topology import TOPOLOGY, Queue, StreamTrigger
from fleet.provision import queue_attributes


def stream_triggers():
    return [(f, t) for f in TOPOLOGY.functions for t in f.triggers if isinstance(t, StreamTrigger)]


@pytest.mark.parametrize("queue", TOPOLOGY.queues, ids=lambda q: q.name)
def test_every_queue_redrives_to_its_own_dead_letter_queue(queue: Queue, monkeypatch):
    monkeypatch.setenv("FLEET_STAGE", "local")
    from fleet import settings

    settings.reset()
    policy = json.loads(queue_attributes(queue, f"arn:aws:sqs:us-east-1:1:{queue.dlq_name}")["RedrivePolicy"])
    assert policy["deadLetterTargetArn"].endswith(queue.dlq_name)
    assert 1 <= policy["maxReceiveCount"] <= 10
    assert queue.dlq_retention_seconds > queue.retention_seconds  # a DLQ outlives what it catches
    settings.reset()


@pytest.mark.parametrize("pair", stream_triggers(), ids=lambda p: p[0].name)
def test_every_stream_trigger_has_an_on_failure_queue_and_a_retry_limit(pair):
    function, trigger = pair
    retry = trigger.retry
    assert retry.on_failure_queue, f"{function.name} has no on-failure destination"
    TOPOLOGY.queue(retry.on_failure_queue)  # declared, so it has a dead-letter queue too
    assert 0 <= retry.maximum_retry_attempts <= 10
    assert retry.maximum_record_age_seconds > 0
    assert retry.bisect_on_error


def test_no_queue_is_the_dead_letter_queue_of_another():
    names = {q.name for q in TOPOLOGY.queues}
    assert not names & {q.dlq_name for q in TOPOLOGY.queues}
