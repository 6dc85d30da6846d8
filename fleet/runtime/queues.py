"""Pollers that deliver SQS messages as Lambda's SQS mapping and EventBridge Pipes do.

A batch is gathered up to the batch size or the batching window; the handler gets
`{"Records": [...]}` (SQS mapping) or the bare array (Pipe); only the records not named
in `batchItemFailures` are deleted. The rest reappear after the visibility timeout, and
SQS moves a message to the dead-letter queue after `maxReceiveCount` receives.

moto's SQS costs more the deeper a queue is (every message it holds, in flight too, is
scanned on each send and, three times over, for each message a receive returns), so the
pollers of a trigger scale as Lambda's do: the first always polls, the others only while
its receives come back full (a backlog), and within a batching window a trickle is
gathered a few receives at a time rather than one receive per message.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from events.topology import TOPOLOGY, Function, PipeTrigger, SqsTrigger
from fleet.runtime.credentials import signing_as
from fleet.runtime.invoke import invoke, reported_failures
from fleet.runtime.stats import capturing, runtime_stats, trigger_name
from fleet.runtime.streams import wake_stream_pollers
from lambda_platform import aws, settings
from lambda_platform.resources import function_arn, queue_arn, queue_url

log = logging.getLogger("fleet.runtime")

MAX_RECEIVE = 10  # SQS returns at most ten messages a call
#: Within a batching window, how long a short receive waits before the next one: messages
#: gather meanwhile, so a trickle is a few receives a batch, not one a message.
GATHER_STEP = 0.2

#: Per runtime (its stop event) and trigger: set while a backlog waits, which wakes the
#: pollers after the first.
_backlogs: weakref.WeakKeyDictionary[threading.Event, dict[str, threading.Event]] = weakref.WeakKeyDictionary()
_backlogs_lock = threading.Lock()


def backlog_signal(stop: threading.Event, trigger_name: str) -> threading.Event:
    """The event the pollers of one trigger in one runtime share: set while receives come back full."""
    with _backlogs_lock:
        return _backlogs.setdefault(stop, {}).setdefault(trigger_name, threading.Event())


@dataclass
class PollerStats:
    """What a poller has done, for `drain` and for the operator."""

    batches: int = 0
    records: int = 0
    failed_records: int = 0
    failed_batches: int = 0
    busy: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def to_lambda_record(message: dict[str, Any], source_arn: str, region: str) -> dict[str, Any]:
    """An SQS ReceiveMessage message as the record Lambda and Pipes deliver."""
    attributes = {
        k: v
        for k, v in message.get("Attributes", {}).items()
        if k in ("ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp")
    }
    message_attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": source_arn,
        "awsRegion": region,
    }


def failed_ids(response: Any, batch_ids: list[str]) -> set[str]:
    """The record ids a handler's response names as failed; all of them if it is malformed."""
    named = reported_failures(response, batch_ids)
    return set(batch_ids) if named is None else set(named)


class QueuePoller(threading.Thread):
    """One poller of one queue trigger of one function."""

    def __init__(self, function: Function, trigger: SqsTrigger | PipeTrigger, stop: threading.Event, number: int = 1) -> None:
        super().__init__(name=f"{trigger.kind}:{trigger.queue}->{function.name}#{number}", daemon=True)
        self.function = function
        self.trigger = trigger
        self.stop_event = stop
        self.number = number
        self.stats = PollerStats()
        self.trigger_name = trigger_name(function, trigger)
        self.backlog = backlog_signal(stop, self.trigger_name)

    def run(self) -> None:
        """Poll until stopped; an error in one round is logged and the next round goes on."""
        while not self.stop_event.is_set():
            if not self.wait_for_backlog():
                continue
            try:
                self.poll_once()
            except Exception:  # the runtime keeps polling, as Lambda's pollers do
                log.exception("poller %s failed a round", self.name)
                self.stop_event.wait(1.0)

    def wait_for_backlog(self, timeout: float = 0.5) -> bool:
        """True when this poller should poll now: always the first, the others while a backlog waits."""
        return self.number == 1 or self.backlog.wait(timeout)

    def poll_once(self, wait_seconds: int = 1) -> int:
        """Gather one batch and deliver it; return how many records it had."""
        messages = self._gather(wait_seconds)
        if not messages:
            return 0
        with self.stats.lock:
            self.stats.busy = True
        try:
            self._deliver(messages)
        finally:
            with self.stats.lock:
                self.stats.busy = False
        return len(messages)

    def _gather(self, wait_seconds: int) -> list[dict[str, Any]]:
        with self._reading():
            return self._receive(wait_seconds)

    def _reading(self) -> AbstractContextManager[None]:
        """A pipe reads its queue as the pipes' role; an SQS mapping as the function's (the process's) role."""
        return signing_as(TOPOLOGY.pipes_role if isinstance(self.trigger, PipeTrigger) else TOPOLOGY.workers.name)

    def _receive(self, wait_seconds: int) -> list[dict[str, Any]]:
        sqs = aws.client("sqs")
        url = queue_url(self.trigger.queue)
        size = self.trigger.batch_size
        messages: list[dict[str, Any]] = []
        deadline: float | None = None
        while len(messages) < size and not self.stop_event.is_set():
            wait = wait_seconds
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.stop_event.wait(min(left, GATHER_STEP))  # let the window's messages gather
                wait = 0
            asked = min(MAX_RECEIVE, size - len(messages))
            received = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=asked,
                WaitTimeSeconds=wait,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if len(received) == asked:
                self.backlog.set()  # more may wait: the other pollers join in
            else:
                self.backlog.clear()
            if received:
                with self.stats.lock:
                    self.stats.busy = True
            messages.extend(received)
            if not messages:
                return messages  # nothing came during the long poll: let the loop check stop
            if deadline is None:
                deadline = time.monotonic() + self.trigger.batching_window_seconds
            if self.trigger.batching_window_seconds == 0:
                break
        return messages

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        source_arn = queue_arn(self.trigger.queue)
        records = [to_lambda_record(m, source_arn, settings.current().region) for m in messages]
        event: Any = records if isinstance(self.trigger, PipeTrigger) else {"Records": records}
        ids = [r["messageId"] for r in records]
        arn = function_arn("workers")
        with capturing() as errors:
            try:
                response = invoke(self.function, event, arn)
                failed = failed_ids(response, ids)
            except Exception:
                log.exception("%s raised on a batch of %d: the whole batch will be retried", self.function.name, len(ids))
                failed = set(ids)
        runtime_stats(self.stop_event).record(self.trigger_name, len(ids), [i for i in ids if i in failed], errors)
        with self.stats.lock:
            self.stats.batches += 1
            self.stats.records += len(ids)
            self.stats.failed_records += len(failed)
            self.stats.failed_batches += 1 if failed else 0
        done = [m for m in messages if m["MessageId"] not in failed]
        self._delete_processed(done)
        wake_stream_pollers(self.stop_event)  # the worker may have written a streamed table

    def _delete_processed(self, messages: list[dict[str, Any]]) -> None:
        with self._reading():
            self._delete_in_batches(messages)

    def _delete_in_batches(self, messages: list[dict[str, Any]]) -> None:
        sqs = aws.client("sqs")
        url = queue_url(self.trigger.queue)
        for start in range(0, len(messages), MAX_RECEIVE):
            chunk = messages[start : start + MAX_RECEIVE]
            response = sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
            for failure in response.get("Failed", []):
                # The message comes back after its visibility timeout; the handler is idempotent.
                log.warning("could not delete a processed message: %s", failure)
