"""SQS: each topology queue with its dead-letter queue and redrive policy."""

from __future__ import annotations

import json

from events.topology import Queue
from fleet.provision.base import Change
from lambda_platform import aws, resources, settings
from lambda_platform.errors import error_code


def queue_attributes(queue: Queue, dlq_arn: str | None) -> dict[str, str]:
    """The attributes a queue must have."""
    visibility = settings.current().visibility_timeout or queue.visibility_timeout
    attributes = {
        "VisibilityTimeout": str(visibility),
        "MessageRetentionPeriod": str(queue.retention_seconds if dlq_arn else queue.dlq_retention_seconds),
    }
    if dlq_arn:
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.max_receive_count}, separators=(",", ":")
        )
    return attributes


def ensure_queue(queue: Queue) -> list[Change]:
    """The dead-letter queue first, then the queue with its redrive policy."""
    dlq_name = resources.queue_name(queue.dlq_name)
    dlq_change, dlq_url = _ensure_one_queue(dlq_name, queue_attributes(queue, None))
    dlq_arn = aws.client("sqs").get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    change, _ = _ensure_one_queue(resources.queue_name(queue), queue_attributes(queue, dlq_arn))
    return [dlq_change, change]


def _ensure_one_queue(name: str, wanted: dict[str, str]) -> tuple[Change, str]:
    sqs = aws.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except Exception as exc:
        if error_code(exc) not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            raise
        url = sqs.create_queue(QueueName=name, Attributes=wanted)["QueueUrl"]
        return Change("queue", name, "created"), url
    have = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(wanted))["Attributes"]
    differs = {k: v for k, v in wanted.items() if not _same_attribute(k, have.get(k), v)}
    if not differs:
        return Change("queue", name, "unchanged"), url
    sqs.set_queue_attributes(QueueUrl=url, Attributes=differs)
    return Change("queue", name, "updated"), url


def _same_attribute(key: str, have: str | None, want: str) -> bool:
    if have is None:
        return False
    if key == "RedrivePolicy":
        return {k: str(v) for k, v in json.loads(have).items()} == {k: str(v) for k, v in json.loads(want).items()}
    return have == want
