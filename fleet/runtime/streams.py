"""A poller that delivers DynamoDB stream records as Lambda's stream event source mapping does.

One thread per stream trigger steps every shard of the table's stream through a
`ShardWorker` (`fleet.runtime.shards`: batching, bisect, retries, the on-failure record),
reading with GetRecords, invoking the function in this process, sending failure records
to the trigger's on-failure queue and saving each shard's checkpoint
(`fleet.runtime.checkpoints`). It starts from TRIM_HORIZON (or LATEST, as the trigger
says) when a shard has no checkpoint yet.
moto's streams have one shard per table that never closes, so shard lineage is ignored.

An idle poller backs off (a quarter of a second after records, up to a second), and the
queue pollers of the same runtime wake it when they have delivered a batch (their
workers write the streamed tables), so an idle fleet reads less and a write is still
seen at once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from events.topology import Function, StreamTrigger
from fleet.runtime.checkpoints import CheckpointStore
from fleet.runtime.credentials import as_operator
from fleet.runtime.invoke import invoke, reported_failures
from fleet.runtime.shards import (
    CAUGHT_UP,
    FAILED,
    Read,
    SendFailure,
    ShardWorker,
    check_sequence_numbers,
    lambda_record,
    sequence_number,
)
from fleet.runtime.stats import capturing, describe_error, runtime_stats, trigger_name
from lambda_platform import aws
from lambda_platform.resources import function_arn, queue_url, stream_arn

log = logging.getLogger("fleet.runtime")

#: The stream pollers of each runtime (by its stop event), for `wake_stream_pollers`.
_pollers: weakref.WeakKeyDictionary[threading.Event, weakref.WeakSet[StreamPoller]] = weakref.WeakKeyDictionary()
_pollers_lock = threading.Lock()


def wake_stream_pollers(stop: threading.Event) -> None:
    """Start the next round of every stream poller of the runtime at once: a table may have changed."""
    with _pollers_lock:
        pollers = list(_pollers.get(stop, ()))
    for poller in pollers:
        poller.wake()


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
        check_sequence_numbers(answer["Records"])
        records = [lambda_record(r) for r in answer["Records"]]
        following.clear()
        if answer.get("NextShardIterator"):  # none once a closed shard is read to its end
            following.update(after=sequence_number(records[-1]) if records else after, iterator=answer["NextShardIterator"])
        return records

    return read


def failure_sender(queue_logical: str | None) -> SendFailure:
    """Sends on-failure records to a topology queue (or only logs them, with none declared)."""

    def send(failure: dict[str, Any]) -> None:
        if queue_logical is None:
            log.error("no on-failure destination: %s", json.dumps(failure))
            return
        aws.client("sqs").send_message(QueueUrl=queue_url(queue_logical), MessageBody=json.dumps(failure))

    return send


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

    idle_wait = 0.25  # Lambda polls a shard about four times a second...
    idle_max = 1.0  # ...and an idle one here backs off to once a second
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
        self._idle_rounds = 0
        self._woken = threading.Event()
        with _pollers_lock:
            _pollers.setdefault(stop, weakref.WeakSet()).add(self)

    def wake(self) -> None:
        """Begin the next round now rather than after the idle wait."""
        self._woken.set()

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
            self._rest(wait)

    def _rest(self, seconds: float) -> None:
        """Wait before the next round; a wake or a stop ends the wait early."""
        deadline = time.monotonic() + seconds
        while not self.stop_event.is_set() and not self._woken.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._woken.wait(min(left, 0.25))
        self._woken.clear()

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
            self._idle_rounds += 1
            return min(self.idle_max, self.idle_wait * 2 ** (self._idle_rounds - 1))
        self._idle_rounds = 0
        with self.stats.lock:
            self.stats.caught_up_at = None
        if FAILED in outcomes:
            attempts = max(w.state.attempts for w in self.shards.values())
            return min(2.0, self.retry_wait * 2 ** max(0, attempts - 1))
        return 0.0

    def _invoke_counted(self, event: dict[str, Any], workers_arn: str) -> Any:
        """Invoke the function on a batch and count it (records handled, failed, their errors) for the live view."""
        records = event.get("Records", [])
        ids = [sequence_number(r) for r in records]
        labels = dict(zip(ids, (_record_label(r) for r in records), strict=True))
        counts = runtime_stats(self.stop_event)
        name = trigger_name(self.function, self.trigger)
        with capturing() as errors:
            try:
                response = invoke(self.function, event, workers_arn)
            except Exception as exc:  # counted, then raised on: the shard worker retries or bisects
                counts.record(name, len(ids), list(labels.values()), [*errors, describe_error(exc)][-1:])
                raise
        named = reported_failures(response, ids)
        failed = ids if named is None else [i for i in ids if i in set(named)]
        counts.record(name, len(ids), [labels[i] for i in failed], errors)
        return response

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
        with as_operator():  # the mapping knows its stream's ARN; the function's role reads only the stream
            arn = stream_arn(self.trigger.table)
            workers_arn = function_arn("workers")
        self.checkpoints = CheckpointStore(self.function.name, arn)
        for shard_id in shard_ids(arn):
            worker = ShardWorker(
                self.trigger,
                arn,
                shard_id,
                read=shard_reader(arn, shard_id),
                invoke=lambda event: self._invoke_counted(event, workers_arn),
                send_failure=failure_sender(self.trigger.retry.on_failure_queue),
                function_arn=workers_arn,
            )
            saved = self.checkpoints.load(shard_id)
            if saved is not None:
                worker.state.checkpoint = saved  # a restarted runtime resumes here
            elif self.trigger.starting_position == "LATEST":
                worker.state.checkpoint = _latest(worker.read)
            self._saved[shard_id] = worker.state.checkpoint
            self.shards[shard_id] = worker


def _record_label(record: dict[str, Any]) -> str:
    """A stream record as a person finds it: its sequence number and the item's key."""
    keys = record.get("dynamodb", {}).get("Keys") or {}
    shown = ", ".join(f"{name}={next(iter(value.values()), '')}" for name, value in keys.items() if isinstance(value, dict))
    return f"{sequence_number(record)} ({shown})" if shown else sequence_number(record)


def _latest(read: Read) -> str | None:
    checkpoint = None
    while True:
        records = read(checkpoint, 1000)
        if not records:
            return checkpoint
        checkpoint = sequence_number(records[-1])
