"""The embedded SQS at the cost of a message, not of the queue's depth, as on AWS.

moto 5.2.5 pays for a queue's depth on every call. `Queue.attributes` computes every
attribute, the three message counts included, each a pass over every message that reads
the clock twice per message; SendMessage reads it once, and ReceiveMessage three times per
message it returns (to check the retention period). A delete looks for its receipt handle
in every message, twice. Measured here, one thread: a send takes 3 ms at depth 0, 50 ms at
1,000, 210 ms at 5,000, and a drain slows as it falls behind, which AWS never does.

`install` makes the moto of this process (the fleet's `aws` process) do the same work at
the cost of what it touches: the attributes are computed when read, one at a time; a
receive reads the clock once and stops at the messages it returns; a receipt handle is
found in an index (checked against the queue, so a purge or a move to the dead-letter
queue is never missed). What each call answers, its errors included, is moto's own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from copy import deepcopy
from typing import Any


def install() -> None:
    """Make this process's moto SQS cost what a call touches (again: the same)."""
    from moto.sqs.models import Queue, SQSBackend

    # Replacing moto's attributes and methods with ours is the point: mypy refuses each
    # assignment (a property over a method or an attribute, a function over a method).
    Queue.attributes = property(lambda queue: QueueAttributes(queue))  # type: ignore[assignment]
    Queue.messages = property(_visible_messages)  # type: ignore[assignment]
    Queue.approximate_number_of_messages = property(lambda queue: len(_visible_messages(queue)))  # type: ignore[assignment]
    Queue.approximate_number_of_messages_not_visible = property(_not_visible_count)  # type: ignore[assignment]
    Queue.approximate_number_of_messages_delayed = property(_delayed_count)  # type: ignore[assignment]
    Queue.delete_message = _delete_message  # type: ignore[assignment]
    SQSBackend.receive_message = _receive_message  # type: ignore[assignment]
    SQSBackend.change_message_visibility = _change_message_visibility  # type: ignore[assignment]
    SQSBackend.is_message_valid_based_on_retention_period = _retained  # type: ignore[assignment]
    SQSBackend.get_queue_attributes = _get_queue_attributes  # type: ignore[assignment]


class QueueAttributes(Mapping):
    """A queue's attributes as moto lists them, each computed only when it is read."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue

    def _names(self) -> list[str]:
        queue = self._queue
        names = list(queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:
            names += queue.KMS_ATTRIBUTES
        if queue.policy:
            names.append("Policy")
        if queue.redrive_policy:
            names.append("RedrivePolicy")
        return names

    def __getitem__(self, name: str) -> Any:
        from moto.core.utils import camelcase_to_underscores

        queue = self._queue
        if name == "Policy" and queue.policy:
            return queue.policy
        if name == "RedrivePolicy" and queue.redrive_policy:
            return json.dumps(queue.redrive_policy)
        if name not in self._names():
            raise KeyError(name)
        value = getattr(queue, camelcase_to_underscores(name))
        return str(value).lower() if isinstance(value, bool) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


def _get_queue_attributes(backend: Any, queue_name: str, attribute_names: list[str]) -> dict[str, Any]:
    """moto's GetQueueAttributes, each attribute asked for computed once."""
    from moto.sqs.exceptions import InvalidAttributeName

    queue = backend.get_queue(queue_name)
    if not attribute_names:
        return {}
    valid_names = ["All", *queue.BASE_ATTRIBUTES, *queue.FIFO_ATTRIBUTES, *queue.KMS_ATTRIBUTES]
    invalid_name = next((name for name in attribute_names if name not in valid_names), None)
    if invalid_name or invalid_name == "":
        raise InvalidAttributeName(invalid_name)
    attributes = queue.attributes
    if "All" in attribute_names:
        return dict(attributes)
    answered = {}
    for name in attribute_names:
        value = attributes.get(name)
        if value is not None:
            answered[name] = value
    return answered


def _now_millis() -> float:
    from moto.core.utils import unix_time_millis

    return unix_time_millis()


def _visible_messages(queue: Any) -> list[Any]:
    now = _now_millis()
    return [m for m in queue._messages if now > m.visible_at and not now < m.delayed_until]


def _not_visible_count(queue: Any) -> int:
    now = _now_millis()
    return sum(1 for m in queue._messages if not now > m.visible_at)


def _delayed_count(queue: Any) -> int:
    now = _now_millis()
    return sum(1 for m in queue._messages if now < m.delayed_until)


def _handles(queue: Any) -> dict[str, Any]:
    index = queue.__dict__.get("_fleet_handles")
    if index is None:
        index = queue.__dict__["_fleet_handles"] = {}
    return index


def _holder(queue: Any, receipt_handle: str) -> Any | None:
    """The message in `queue` that ever had this receipt handle, or None."""
    index = _handles(queue)
    message = index.get(receipt_handle)
    if message is not None and message in queue._messages:  # identity: Message has no __eq__
        return message
    index.pop(receipt_handle, None)
    for candidate in queue._messages:  # a handle issued before the index, or a moved message
        if candidate.had_receipt_handle(receipt_handle):
            for handle in candidate.all_receipt_handles:
                index[handle] = candidate
            return candidate
    return None


def _delete_message(queue: Any, receipt_handle: str) -> None:
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    if receipt_handle in queue.deleted_messages:
        return  # already deleted: moto answers a second delete quietly, as AWS does
    message = _holder(queue, receipt_handle)
    if message is None:
        raise ReceiptHandleIsInvalid()
    queue.pending_messages.discard(message)
    queue.deleted_messages.update(message.all_receipt_handles)
    index = _handles(queue)
    for handle in message.all_receipt_handles:
        index.pop(handle, None)
    with queue._messages_lock:
        queue._messages.remove(message)  # in place, by identity: one pass in C


def _retained(backend: Any, queue_name: str, message: Any) -> bool:
    from moto.core.utils import unix_time

    queue = backend.get_queue(queue_name)
    return int(queue.message_retention_period) + message.sent_timestamp / 1000 > unix_time()


def _receive_message(
    backend: Any,
    queue_name: str,
    count: int,
    wait_seconds_timeout: int,
    visibility_timeout: int,
    message_attribute_names: list[str] | None = None,
) -> list[Any]:
    """moto's ReceiveMessage, step for step, stopping at the messages it returns."""
    from moto.core.utils import unix_time
    from moto.sqs.models import _filter_message_attributes

    message_attribute_names = message_attribute_names or []
    queue = backend.get_queue(queue_name)
    result: list[Any] = []
    previous_result_count = 0
    polling_end = unix_time() + wait_seconds_timeout
    currently_pending_groups = deepcopy(queue.pending_message_groups)
    index = _handles(queue)

    while True:
        if result or (wait_seconds_timeout and unix_time() > polling_end):
            break
        messages_to_dlq: list[Any] = []
        now = _now_millis()
        for message in list(queue._messages):
            if not (now > message.visible_at and not now < message.delayed_until):
                continue
            if message in queue.pending_messages:
                # Pending but visible again: its consumer timed out.
                queue.pending_messages.remove(message)
                currently_pending_groups = deepcopy(queue.pending_message_groups)
            if message.group_id and queue.fifo_queue and message.group_id in currently_pending_groups:
                continue
            if (
                queue.dead_letter_queue is not None
                and queue.redrive_policy
                and message.approximate_receive_count >= queue.redrive_policy["maxReceiveCount"]
            ):
                messages_to_dlq.append(message)
                continue
            queue.pending_messages.add(message)
            message.mark_received(visibility_timeout=visibility_timeout)
            index[message.receipt_handle] = message
            message_copy = deepcopy(message)
            _filter_message_attributes(message_copy, message_attribute_names)
            if not backend.is_message_valid_based_on_retention_period(queue_name, message):
                break
            result.append(message_copy)
            if len(result) >= count:
                break

        for message in messages_to_dlq:
            queue._messages.remove(message)
            for handle in message.all_receipt_handles:
                index.pop(handle, None)
            queue.dead_letter_queue.add_message(message)

        if previous_result_count == len(result):
            if wait_seconds_timeout == 0:
                break
            queue.wait_for_messages(1)
            continue
        previous_result_count = len(result)
    return result


def _change_message_visibility(backend: Any, queue_name: str, receipt_handle: str, visibility_timeout: int) -> None:
    """moto's ChangeMessageVisibility, the message found by its handle's index."""
    from moto.sqs.exceptions import InvalidParameterValue, ReceiptHandleIsInvalid

    queue = backend.get_queue(queue_name)
    message = _holder(queue, receipt_handle)
    if message is None:
        raise ReceiptHandleIsInvalid
    given_visibility_timeout = _now_millis() + int(visibility_timeout) * 1000
    if given_visibility_timeout - message.sent_timestamp > 43200 * 1000:
        raise InvalidParameterValue(
            f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. Reason: Total "
            "VisibilityTimeout for the message is beyond the limit [43200 seconds]"
        )
    message.change_visibility(visibility_timeout)
    if message.visible and message in queue.pending_messages:
        queue.pending_messages.remove(message)
