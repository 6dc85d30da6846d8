"""A poller that delivers DynamoDB stream records as Lambda's stream event source mapping does.

Per shard, from TRIM_HORIZON on first start (or LATEST, as the trigger says): batches up
to the batch size; `batchItemFailures` by SequenceNumber (the shard is retried from the
lowest one named, the records before it are checkpointed); a function error bisects the
batch when the trigger says so; after `MaximumRetryAttempts` retries the record (or the
batch, without bisect) is described on the on-failure queue, shaped as Lambda's on-failure
record, and the shard moves on. Records older than `MaximumRecordAgeInSeconds` go the same
way without being delivered.

Checkpoints are kept in the topology's `checkpoints` table, written after each batch
that moved a shard on: a runtime killed and started again (the AWS still up) resumes
where it stopped; what it had done after its last write is delivered again, which the
idempotent handlers absorb.
moto's streams have one shard per table that never closes, so shard lineage is ignored.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from botocore.exceptions import ClientError

from events.topology import Function, StreamTrigger
from fleet import aws, settings

log = logging.getLogger("fleet.runtime")

Read = Callable[[str | None, int], list[dict[str, Any]]]
Invoke = Callable[[dict[str, Any]], Any]
SendFailure = Callable[[dict[str, Any]], None]

#: What one delivery did to a shard.
CAUGHT_UP, DONE, FAILED = "caught_up", "done", "failed"


def _sequence(record: dict[str, Any]) -> str:
    return record["dynamodb"]["SequenceNumber"]


def _arrival(record: dict[str, Any]) -> float:
    value = record["dynamodb"].get("ApproximateCreationDateTime")
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value) if value is not None else time.time()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def first_failed(response: Any, sequence_numbers: list[str]) -> tuple[str, str | None]:
    """Classify a handler's response: ("ok", None), ("partial", first failed) or ("error", None).

    As on AWS: no response, `{}` or an empty or null `batchItemFailures` mean success; an
    item naming a sequence number not in the batch, or the wrong shape, is a function error.
    """
    if response is None or response == {}:
        return "ok", None
    if not isinstance(response, dict):
        return "error", None
    items = response.get("batchItemFailures")
    if items is None:
        return "ok", None
    if not isinstance(items, list):
        return "error", None
    named = []
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in sequence_numbers:
            return "error", None
        named.append(identifier)
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
        sequence_numbers = [_sequence(r) for r in records]
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
        head = _sequence(remaining[0])
        if state.head == head:
            state.attempts += 1
        else:
            state.head, state.attempts = head, 1
        if state.attempts > self.trigger.retry.maximum_retry_attempts:
            self._give_up(give_up, "RetryAttemptsExhausted", function_error=function_error)
        return FAILED

    def _advance(self, sequence_number: str) -> None:
        state = self.state
        state.checkpoint = sequence_number
        if state.head is not None and int(state.head) <= int(sequence_number):
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
            _sequence(records[0]),
            _sequence(records[-1]),
            self.state.shard_id,
            condition,
        )
        self.send_failure(failure)
        self.given_up.append(failure)
        state = self.state
        state.head, state.attempts = None, 0
        state.checkpoint = _sequence(records[-1])
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
                "startSequenceNumber": _sequence(records[0]),
                "endSequenceNumber": _sequence(records[-1]),
                "approximateArrivalOfFirstRecord": _iso(_arrival(records[0])),
                "approximateArrivalOfLastRecord": _iso(_arrival(records[-1])),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }


# --- AWS side: reading shards, sending failures -------------------------------------------


def stream_arn(table_logical: str) -> str:
    """The latest stream ARN of a topology table."""
    table = aws.client("dynamodb").describe_table(TableName=settings.current().name(table_logical))["Table"]
    return table["LatestStreamArn"]


def shard_ids(arn: str) -> list[str]:
    """Every shard of a stream."""
    streams = aws.client("dynamodbstreams")
    shards: list[str] = []
    kwargs: dict[str, Any] = {"StreamArn": arn}
    while True:
        description = streams.describe_stream(**kwargs)["StreamDescription"]
        shards.extend(s["ShardId"] for s in description.get("Shards", []))
        last = description.get("LastEvaluatedShardId")
        if not last:
            return shards
        kwargs["ExclusiveStartShardId"] = last


def _lambda_shape(record: dict[str, Any]) -> dict[str, Any]:
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": change}


def shard_reader(arn: str, shard_id: str) -> Read:
    """Reads records after a sequence number (or from TRIM_HORIZON) with GetRecords.

    GetRecords answers with the iterator that goes on after what it read. While the next
    read starts exactly there (a batch done, or nothing new), that iterator is used and a
    read is one call; a read from anywhere else (a retry from an earlier record), or an
    iterator that has expired, gets a new one with GetShardIterator.
    """
    following: dict[str, Any] = {}  # {"after": sequence number or None, "iterator": ...}

    def read(after: str | None, limit: int) -> list[dict[str, Any]]:
        streams = aws.client("dynamodbstreams")
        iterator = following.get("iterator") if following and following["after"] == after else None
        if iterator is not None:
            try:
                answer = streams.get_records(ShardIterator=iterator, Limit=limit)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ExpiredIteratorException":
                    raise
                iterator = None
        if iterator is None:
            kwargs: dict[str, Any] = {"StreamArn": arn, "ShardId": shard_id}
            if after is None:
                kwargs["ShardIteratorType"] = "TRIM_HORIZON"
            else:
                kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=after)
            iterator = streams.get_shard_iterator(**kwargs)["ShardIterator"]
            answer = streams.get_records(ShardIterator=iterator, Limit=limit)
        records = [_lambda_shape(r) for r in answer["Records"]]
        following.clear()
        if answer.get("NextShardIterator"):  # none once a closed shard is read to its end
            following.update(after=_sequence(records[-1]) if records else after, iterator=answer["NextShardIterator"])
        return records

    return read


def failure_sender(queue_logical: str | None) -> SendFailure:
    """Sends on-failure records to a topology queue (or only logs them, with none declared)."""

    def send(failure: dict[str, Any]) -> None:
        if queue_logical is None:
            log.error("no on-failure destination: %s", json.dumps(failure))
            return
        from fleet.adapters.queues import queue_url

        aws.client("sqs").send_message(QueueUrl=queue_url(queue_logical), MessageBody=json.dumps(failure))

    return send


def read_failed_records(failure: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream records an on-failure record describes, read back for a replay."""
    info = failure["DDBStreamBatchInfo"]
    streams = aws.client("dynamodbstreams")
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=max(1, int(info["batchSize"])))["Records"]
    end = int(info["endSequenceNumber"])
    return [
        {**_lambda_shape(r), "eventSourceARN": info["streamArn"]}
        for r in records
        if int(_sequence(r)) <= end
    ]


class CheckpointStore:
    """Where each shard of one function's trigger got to, in the `checkpoints` table."""

    def __init__(self, function_name: str, arn: str) -> None:
        self.prefix = f"{function_name}#{arn}#"

    def load(self, shard_id: str) -> str | None:
        """The last sequence number done on a shard, or None when it never moved."""
        from fleet.adapters.dynamo import call, table_name

        item = call(
            "get_item", TableName=table_name("checkpoints"), Key={"shard_key": {"S": self.prefix + shard_id}}, ConsistentRead=True
        ).get("Item")
        return item["sequence_number"]["S"] if item else None

    def save(self, shard_id: str, sequence_number: str) -> None:
        """Record that a shard is done up to `sequence_number`."""
        from fleet.adapters.dynamo import call, table_name

        call(
            "put_item",
            TableName=table_name("checkpoints"),
            Item={"shard_key": {"S": self.prefix + shard_id}, "sequence_number": {"S": sequence_number}},
        )


@dataclass
class StreamStats:
    """What a stream poller has done, for `drain` and for the operator."""

    batches: int = 0
    failed_batches: int = 0
    busy: bool = False
    caught_up_at: float | None = None  # when the last round that found nothing anywhere began
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class StreamPoller(threading.Thread):
    """Polls every shard of one table's stream for one function."""

    idle_wait = 0.25  # Lambda polls a shard about four times a second
    retry_wait = 0.2  # before retrying a failed batch (doubles per attempt, up to 2 s)

    def __init__(self, function: Function, trigger: StreamTrigger, stop: threading.Event) -> None:
        super().__init__(name=f"stream:{trigger.table}->{function.name}", daemon=True)
        self.function = function
        self.trigger = trigger
        self.stop_event = stop
        self.stats = StreamStats()
        self.shards: dict[str, ShardWorker] = {}
        self.checkpoints: CheckpointStore | None = None
        self._saved: dict[str, str | None] = {}

    def caught_up_since(self, moment: float) -> bool:
        """True when a round begun at or after `moment` found every shard caught up."""
        with self.stats.lock:
            return not self.stats.busy and self.stats.caught_up_at is not None and self.stats.caught_up_at >= moment

    def run(self) -> None:
        """Poll until stopped; a failing round is logged and the next goes on."""
        while not self.stop_event.is_set():
            try:
                wait = self.poll_once()
            except Exception:
                log.exception("stream poller %s failed a round", self.name)
                wait = 1.0
            self.stop_event.wait(wait)

    def poll_once(self) -> float:
        """One step on every shard; return how long to wait before the next round."""
        started = time.monotonic()
        self._discover()
        outcomes = []
        for worker in list(self.shards.values()):
            with self.stats.lock:
                self.stats.busy = True
            try:
                outcome = worker.step()
                self._save_checkpoint(worker)
            finally:
                with self.stats.lock:
                    self.stats.busy = False
            outcomes.append(outcome)
            if outcome != CAUGHT_UP:
                with self.stats.lock:
                    self.stats.batches += 1
                    self.stats.failed_batches += outcome == FAILED
        if all(o == CAUGHT_UP for o in outcomes):
            with self.stats.lock:
                self.stats.caught_up_at = started
            return self.idle_wait
        with self.stats.lock:
            self.stats.caught_up_at = None
        if FAILED in outcomes:
            attempts = max(w.state.attempts for w in self.shards.values())
            return min(2.0, self.retry_wait * 2 ** max(0, attempts - 1))
        return 0.0

    def _save_checkpoint(self, worker: ShardWorker) -> None:
        shard_id, checkpoint = worker.state.shard_id, worker.state.checkpoint
        if checkpoint is None or self._saved.get(shard_id) == checkpoint or self.checkpoints is None:
            return
        try:
            self.checkpoints.save(shard_id, checkpoint)
        except Exception:  # the records are done; a lagging checkpoint only re-delivers after a restart
            log.warning("checkpoint of %s not saved; the next batch saves it", shard_id, exc_info=True)
            return
        self._saved[shard_id] = checkpoint

    def _discover(self) -> None:
        if self.shards:
            return  # moto's single shard never closes; on AWS, Lambda itself does this
        current = settings.current()
        arn = stream_arn(self.trigger.table)
        function_arn = aws.arn("lambda", f"function:{current.name('workers')}")
        from fleet.runtime.invoke import invoke

        self.checkpoints = CheckpointStore(self.function.name, arn)
        for shard_id in shard_ids(arn):
            worker = ShardWorker(
                self.trigger,
                arn,
                shard_id,
                read=shard_reader(arn, shard_id),
                invoke=lambda event: invoke(self.function, event, function_arn),
                send_failure=failure_sender(self.trigger.retry.on_failure_queue),
                function_arn=function_arn,
            )
            saved = self.checkpoints.load(shard_id)
            if saved is not None:
                worker.state.checkpoint = saved  # a restarted runtime resumes here
            elif self.trigger.starting_position == "LATEST":
                worker.state.checkpoint = _latest(worker.read)
            self._saved[shard_id] = worker.state.checkpoint
            self.shards[shard_id] = worker


def _latest(read: Read) -> str | None:
    checkpoint = None
    while True:
        records = read(checkpoint, 1000)
        if not records:
            return checkpoint
        checkpoint = _sequence(records[-1])


def replay_failures(
    function_name: str, maximum: int = 100, progress: Callable[[int], None] = lambda n: None
) -> tuple[int, int]:
    """Deliver again the records described on a function's on-failure queue(s).

    Each failure record is read back from the stream (records live 24 hours there) and
    handed to the function; it leaves the queue only when every record succeeded.
    Returns (replayed, still failing).
    """
    from events.topology import TOPOLOGY
    from fleet.adapters.queues import queue_url
    from fleet.runtime.invoke import invoke

    function = TOPOLOGY.function(function_name)
    queues = [
        t.retry.on_failure_queue
        for t in function.triggers
        if isinstance(t, StreamTrigger) and t.retry.on_failure_queue
    ]
    if not queues:
        raise ValueError(f"{function_name} has no stream trigger with an on-failure queue")
    sqs = aws.client("sqs")
    function_arn = aws.arn("lambda", f"function:{settings.current().name('workers')}")
    replayed = failed = 0
    for logical in queues:
        url = queue_url(logical)
        while replayed + failed < maximum:
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=min(10, maximum - replayed - failed), WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                records = read_failed_records(json.loads(message["Body"]))
                if not records:  # trimmed from the stream (24 h): nothing left to deliver
                    log.error("records of %s are no longer on the stream", message["MessageId"])
                    failed += 1
                    continue
                try:
                    response = invoke(function, {"Records": records}, function_arn)
                    outcome, _ = first_failed(response, [_sequence(r) for r in records])
                except Exception:
                    log.exception("replay of %s failed", message["MessageId"])
                    outcome = "error"
                if outcome == "ok":
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    replayed += 1
                else:
                    failed += 1
                progress(1)
    return replayed, failed
