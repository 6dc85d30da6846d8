"""One shard delivered as Lambda's DynamoDB stream mapping delivers it, with no AWS in sight.

Per shard, from the checkpoint (None: the starting position): batches up to the batch
size; `batchItemFailures` by SequenceNumber (the shard is retried from the lowest one
named, the records before it are checkpointed); a function error bisects the batch when
the trigger says so; after `MaximumRetryAttempts` retries the record (or the batch,
without bisect) is described on the on-failure destination, shaped as Lambda's
on-failure record, and the shard moves on. Records older than `MaximumRecordAgeInSeconds`
go the same way without being delivered.

Reading the shard, invoking the function and sending a failure record are callables that
the poller (`fleet.runtime.streams`) or a test hands in.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from events.topology import StreamTrigger
from fleet.runtime.invoke import reported_failures

log = logging.getLogger("fleet.runtime")

Read = Callable[[str | None, int], list[dict[str, Any]]]
Invoke = Callable[[dict[str, Any]], Any]
SendFailure = Callable[[dict[str, Any]], None]

#: What one delivery did to a shard.
CAUGHT_UP, DONE, FAILED = "caught_up", "done", "failed"


#: The fewest digits of a sequence number that AWS sends, and that botocore accepts back
#: (GetShardIterator's `SequenceNumber`: min length 21).
SEQUENCE_DIGITS = 21


def sequence_number(record: dict[str, Any]) -> str:
    """A stream record's sequence number (a decimal digit string)."""
    return record["dynamodb"]["SequenceNumber"]


def check_sequence_numbers(records: list[dict[str, Any]], operation: str = "DynamoDB Streams GetRecords") -> None:
    """OutsideContract when a record's sequence number is not one AWS would send.

    LocalEmu 1.3.2 numbers records "1", "2": botocore refuses such a number when a poller
    resumes after it or `fleet replay` reads from it, far from the answer that caused it.
    """
    from lambda_platform.errors import OutsideContract

    for record in records:
        found = str(record.get("dynamodb", {}).get("SequenceNumber", ""))
        if len(found) < SEQUENCE_DIGITS or not found.isdigit():
            raise OutsideContract(
                f"{operation} answered the sequence number {found!r}; AWS sends {SEQUENCE_DIGITS} digits or more, and "
                "botocore refuses anything shorter when a poller resumes or a replay reads from it: this AWS "
                "is outside AWS's contract for DynamoDB Streams"
            )


def lambda_record(record: dict[str, Any]) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it: the creation time in epoch seconds."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": change}


def _arrival(record: dict[str, Any]) -> float:
    value = record["dynamodb"].get("ApproximateCreationDateTime")
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value) if value is not None else time.time()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def first_failed(response: Any, sequence_numbers: list[str]) -> tuple[str, str | None]:
    """Classify a handler's response: ("ok", None), ("partial", first failed) or ("error", None).

    A malformed response is a function error; of the records named, the shard resumes at
    the lowest sequence number.
    """
    named = reported_failures(response, sequence_numbers)
    if named is None:
        return "error", None
    if not named:
        return "ok", None
    return "partial", min(named, key=int)  # sequence numbers are decimal digit strings


@dataclass
class ShardState:
    """Where a shard is: its checkpoint and the retries of the record at its head."""

    shard_id: str
    checkpoint: str | None = None  # the last sequence number done; None: the starting position
    head: str | None = None  # the record whose failures `attempts` counts
    attempts: int = 0
    limit: int = 0  # the batch size now, smaller while bisecting


class ShardWorker:
    """Delivers one shard's records to one function, one batch per `step`."""

    def __init__(
        self,
        trigger: StreamTrigger,
        stream_arn: str,
        shard_id: str,
        read: Read,
        invoke: Invoke,
        send_failure: SendFailure,
        function_arn: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.trigger = trigger
        self.stream_arn = stream_arn
        self.state = ShardState(shard_id, limit=trigger.batch_size)
        self.read = read
        self.invoke = invoke
        self.send_failure = send_failure
        self.function_arn = function_arn
        self.clock = clock
        self.given_up: list[dict[str, Any]] = []  # on-failure records sent, for the operator

    def step(self) -> str:
        """Deliver the next batch; CAUGHT_UP when there was nothing after the checkpoint."""
        state = self.state
        records = self.read(state.checkpoint, state.limit)
        if not records:
            return CAUGHT_UP
        aged = self._aged_prefix(records)
        if aged:
            self._give_up(aged, "RecordAgeExceeded", function_error=False)
            return DONE
        for record in records:
            record.setdefault("eventSourceARN", self.stream_arn)  # moto leaves it out; Lambda adds it
        sequence_numbers = [sequence_number(r) for r in records]
        try:
            outcome, failed = first_failed(self.invoke({"Records": records}), sequence_numbers)
        except Exception:
            log.exception("stream handler raised on a batch of %d", len(records))
            outcome, failed = "error", None

        if outcome == "ok":
            self._advance(sequence_numbers[-1])
            state.limit = self.trigger.batch_size
            return DONE
        if outcome == "partial":
            assert failed is not None  # a partial outcome names its first failed record
            index = sequence_numbers.index(failed)
            if index > 0:
                state.checkpoint = sequence_numbers[index - 1]
            return self._failed_at(records[index:], [records[index]], function_error=False)
        if self.trigger.retry.bisect_on_error and len(records) > 1:
            state.limit = (len(records) + 1) // 2  # split, and retry the first half first
            return FAILED
        return self._failed_at(records, records, function_error=True)

    def _failed_at(self, remaining: list[dict], give_up: list[dict], function_error: bool) -> str:
        state = self.state
        head = sequence_number(remaining[0])
        if state.head == head:
            state.attempts += 1
        else:
            state.head, state.attempts = head, 1
        if state.attempts > self.trigger.retry.maximum_retry_attempts:
            self._give_up(give_up, "RetryAttemptsExhausted", function_error=function_error)
        return FAILED

    def _advance(self, sequence: str) -> None:
        state = self.state
        state.checkpoint = sequence
        if state.head is not None and int(state.head) <= int(sequence):
            state.head, state.attempts = None, 0

    def _aged_prefix(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        limit = self.trigger.retry.maximum_record_age_seconds
        if limit is None or limit < 0:
            return []
        now = self.clock()
        aged = []
        for record in records:
            if now - _arrival(record) <= limit:
                break
            aged.append(record)
        return aged

    def _give_up(self, records: list[dict[str, Any]], condition: str, function_error: bool) -> None:
        """Describe the records on the on-failure destination and move the shard past them."""
        failure = self.failure_record(records, condition, function_error)
        log.warning(
            "stream records %s..%s of %s given up (%s)",
            sequence_number(records[0]),
            sequence_number(records[-1]),
            self.state.shard_id,
            condition,
        )
        self.send_failure(failure)
        self.given_up.append(failure)
        state = self.state
        state.head, state.attempts = None, 0
        state.checkpoint = sequence_number(records[-1])
        state.limit = self.trigger.batch_size

    def failure_record(self, records: list[dict[str, Any]], condition: str, function_error: bool) -> dict[str, Any]:
        """The message Lambda sends to a stream mapping's on-failure destination."""
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if function_error:
            response_context["functionError"] = "Unhandled"
        return {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": self.state.attempts,
            },
            "responseContext": response_context,
            "version": "1.0",
            "timestamp": _iso(self.clock()),
            "DDBStreamBatchInfo": {
                "shardId": self.state.shard_id,
                "startSequenceNumber": sequence_number(records[0]),
                "endSequenceNumber": sequence_number(records[-1]),
                "approximateArrivalOfFirstRecord": _iso(_arrival(records[0])),
                "approximateArrivalOfLastRecord": _iso(_arrival(records[-1])),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
