"""The SQS adapter of the MessageQueue port."""

from __future__ import annotations

from typing import Any

from events.messages.envelope import dump_message, message_type
from events.topology import TOPOLOGY
from lambda_platform import aws
from lambda_platform.errors import translate
from lambda_platform.resources import queue_url  # also imported from here by the runtime, replay and tests


class SqsQueue:
    """A topology queue; each message goes out in its JSON envelope."""

    def __init__(self, logical: str) -> None:
        self.logical = TOPOLOGY.queue(logical).name

    def resolve(self) -> str:
        """Look the queue's URL up now (GetQueueUrl, once per process), so no send waits on it."""
        return queue_url(self.logical)

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
        message_id: str = response["MessageId"]
        return message_id
