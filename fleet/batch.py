"""Partial batch responses, for SQS event source mappings and EventBridge Pipes alike.

Lambda's SQS mapping passes `{"Records": [...]}`; a Pipe passes the bare list. Both read
`{"batchItemFailures": [{"itemIdentifier": messageId}]}` back and retry only those.
"""

from __future__ import annotations

from typing import Any, Iterable


def sqs_records(event: Any) -> list[dict[str, Any]]:
    """The SQS records of a Lambda SQS event or of a Pipe's bare array."""
    if isinstance(event, list):
        return event
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        return event["Records"]
    raise TypeError("not an SQS event: expected a list of records or {'Records': [...]}")


def batch_response(failed_ids: Iterable[str]) -> dict[str, list[dict[str, str]]]:
    """The partial batch response naming the failed records, in order, once each."""
    return {"batchItemFailures": [{"itemIdentifier": i} for i in dict.fromkeys(failed_ids)]}
