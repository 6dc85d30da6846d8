"""The workers' batch skeleton: partial batch responses for SQS, EventBridge Pipes and DynamoDB streams.

Lambda's SQS mapping passes `{"Records": [...]}`; a Pipe passes the bare list. Both read
`{"batchItemFailures": [{"itemIdentifier": messageId}]}` back and retry only those. A
stream mapping passes `{"Records": [...]}` and reads failures by `SequenceNumber`: Lambda
retries the shard from the lowest one named.

A worker hands `process_sqs`, `process_inserts` or `process_changes` a function of one
record and its ports, and a function that makes the ports. Powertools' BatchProcessor
runs it on each record; a record whose function raises is reported failed, the others
succeed. The ports are made on the first record that needs them, once per batch, so a
batch with nothing to do builds no AWS client. Each record's log lines carry its
identifier as correlation id. `process_whole_batch` is the one skeleton of our own, for a
worker that must see the whole batch at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from lambda_platform.telemetry import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

P = TypeVar("P")
T = TypeVar("T")


def sqs_records(event: Any) -> list[dict[str, Any]]:
    """The SQS records of a Lambda SQS event or of a Pipe's bare array."""
    if isinstance(event, list):
        return event
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        records: list[dict[str, Any]] = event["Records"]
        return records
    raise TypeError("not an SQS event: expected a list of records or {'Records': [...]}")


def stream_records(event: Any) -> list[dict[str, Any]]:
    """The records of a Lambda DynamoDB stream event."""
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        records: list[dict[str, Any]] = event["Records"]
        return records
    raise TypeError("not a DynamoDB stream event: expected {'Records': [...]}")


def batch_response(failed_ids: Iterable[str]) -> dict[str, list[dict[str, str]]]:
    """The partial batch response naming the failed records, in order, once each."""
    return {"batchItemFailures": [{"itemIdentifier": i} for i in dict.fromkeys(failed_ids)]}


def process_sqs(event: Any, handle: Callable[[SQSRecord, P], Any], ports: Callable[[], P], context: Any) -> dict[str, Any]:
    """Run `handle(record, ports)` on each record of an SQS event or a Pipe's array; report those that raised."""
    from aws_lambda_powertools.utilities.batch import EventType

    made = functools.cache(ports)

    def run(record: SQSRecord) -> Any:
        logger.set_correlation_id(record.message_id)
        return handle(record, made())

    return _process(EventType.SQS, sqs_records(event), run, context)


def process_inserts(
    event: Any, handle: Callable[[dict[str, Any], P], Any], ports: Callable[[], P], context: Any
) -> dict[str, Any]:
    """Run `handle(new image, ports)` on each INSERT of a stream event; report those that raised.

    Other records (a MODIFY, which moto emits for an identical put, or a REMOVE) succeed
    untouched. The image is Powertools' deserialization: numbers come as Decimal.
    """
    return _process_images(event, handle, ports, context, ("INSERT",))


def process_changes(
    event: Any, handle: Callable[[dict[str, Any], P], Any], ports: Callable[[], P], context: Any
) -> dict[str, Any]:
    """Run `handle(new image, ports)` on each INSERT and MODIFY of a stream event; report those that raised.

    For a worker that follows an item through its life, where a later change (a MODIFY) may
    be the one it waits for. A REMOVE succeeds untouched; numbers come as Decimal.
    """
    return _process_images(event, handle, ports, context, ("INSERT", "MODIFY"))


def _process_images(
    event: Any, handle: Callable[[dict[str, Any], P], Any], ports: Callable[[], P], context: Any, names: tuple[str, ...]
) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import EventType
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecordEventName

    made = functools.cache(ports)
    wanted = {DynamoDBRecordEventName[name] for name in names}

    def run(record: DynamoDBRecord) -> Any:
        change = record.dynamodb
        if record.event_name not in wanted or change is None or not change.new_image:
            return None
        logger.set_correlation_id(change.sequence_number)
        return handle(change.new_image, made())

    return _process(EventType.DynamoDBStreams, stream_records(event), run, context)


def _process(event_type: Any, records: list[dict[str, Any]], handle: Callable[[Any], Any], context: Any) -> dict[str, Any]:
    """Powertools' BatchProcessor over `records`, through its context manager.

    Not `process_partial_response`: it refuses a Pipe's bare list and raises on an empty
    batch, which a worker answers with no failures. One processor per batch, since it holds
    the batch's results and the local runtime runs several batches at once in one process.
    A batch whose every record failed is reported like a partial one, not raised, so that
    Lambda, a Pipe and the local pollers retry the records it names as they do any other.
    """
    from aws_lambda_powertools.utilities.batch import BatchProcessor

    # Powertools' Logger stands in for logging.Logger here: the processor only calls warning().
    processor = BatchProcessor(event_type, raise_on_entire_batch_failure=False, logger=logger)  # type: ignore[arg-type]
    with processor(records, handle, context):
        processor.process()
    return dict(processor.response())


def process_whole_batch(
    event: Any,
    parse: Callable[[SQSRecord], T],
    key: Callable[[T], str],
    handle: Callable[[list[T]], Mapping[str, BaseException]],
) -> dict[str, list[dict[str, str]]]:
    """Parse every record of an SQS event or a Pipe's array, hand the messages to `handle` at once; report failures.

    Our own skeleton, because Powertools' BatchProcessor hands a worker one record at a
    time and the submissions worker batches its reads and writes over the whole batch. A
    record that `parse` refuses fails alone; `handle` returns the failures by `key`, and
    every record whose message has a failed key fails (two deliveries of one message fail
    together). `handle` is not called for a batch with nothing parsed.
    """
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    records = [SQSRecord(raw) for raw in sqs_records(event)]
    failed: set[str] = set()
    keys: dict[str, str] = {}
    messages: list[T] = []
    for record in records:
        try:
            message = parse(record)
        except Exception:  # noqa: BLE001 - this record alone fails; the batch goes on
            logger.warning("unparseable record", extra={"message_id": record.message_id}, exc_info=True)
            failed.add(record.message_id)
            continue
        keys[record.message_id] = key(message)
        messages.append(message)
    failures = handle(messages) if messages else {}
    failed.update(message_id for message_id, k in keys.items() if k in failures)
    return batch_response(r.message_id for r in records if r.message_id in failed)
