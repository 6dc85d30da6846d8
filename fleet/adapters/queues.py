"""The SQS adapter of the MessageQueue port."""

from __future__ import annotations

import functools
from typing import Any

from events.messages import message_type
from events.schemas import dump_message
from fleet import aws, settings
from fleet.errors import translate


@functools.lru_cache(maxsize=None)
def _queue_url(name: str, endpoint_url: str | None, region: str) -> str:
    try:
        return aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
    except Exception as exc:
        raise translate(exc) from exc


def queue_url(logical: str) -> str:
    """The URL of a logical queue (looked up once, then cached)."""
    current = settings.current()
    return _queue_url(current.name(logical), current.endpoint_url, current.region)


class SqsQueue:
    """A topology queue; each message goes out in its JSON envelope."""

    def __init__(self, logical: str) -> None:
        self.logical = logical

    def send(self, message: Any) -> str:
        """Send one message with its type and id as message attributes."""
        attributes: dict[str, Any] = {
            "type": {"DataType": "String", "StringValue": message_type(message)},
            "message_id": {"DataType": "String", "StringValue": message.message_id},
        }
        try:
            response = aws.client("sqs").send_message(
                QueueUrl=queue_url(self.logical),
                MessageBody=dump_message(message),
                MessageAttributes=attributes,
            )
        except Exception as exc:
            raise translate(exc) from exc
        return response["MessageId"]
