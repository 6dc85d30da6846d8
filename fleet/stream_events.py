"""DynamoDB stream events as Lambda delivers them: `{"Records": [...]}`, one item change each.

Partial failures are reported by `SequenceNumber` (`fleet.batch.batch_response`): Lambda
retries the shard from the lowest one named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StreamRecord:
    """One DynamoDB stream record, its image already turned into plain values."""

    event_id: str
    event_name: str  # INSERT | MODIFY | REMOVE
    sequence_number: str
    keys: dict[str, Any]
    new_image: dict[str, Any] | None
    source_arn: str | None

    @property
    def is_insert(self) -> bool:
        """True for a record of an item's creation."""
        return self.event_name == "INSERT"


def stream_records(event: Any) -> list[StreamRecord]:
    """The records of a Lambda DynamoDB stream event."""
    from fleet.adapters.dynamo import from_item

    if not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        raise TypeError("not a DynamoDB stream event: expected {'Records': [...]}")
    records = []
    for raw in event["Records"]:
        change = raw["dynamodb"]
        image = change.get("NewImage")
        records.append(
            StreamRecord(
                event_id=raw.get("eventID", ""),
                event_name=raw["eventName"],
                sequence_number=change["SequenceNumber"],
                keys=from_item(change.get("Keys", {})),
                new_image=from_item(image) if image is not None else None,
                source_arn=raw.get("eventSourceARN"),
            )
        )
    return records
