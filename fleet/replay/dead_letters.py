"""Move dead-lettered messages back, dump them without consuming, send a dump back.

Every move sends the copy first and deletes the original only once the copy is accepted:
killed at any point, a message is in one of the two queues (at worst in both, which the
idempotent workers absorb). Body and message attributes travel unchanged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from lambda_platform import aws, settings
from lambda_platform.resources import queue_url

BATCH = 10  # SQS's limit per receive, send batch and delete batch
#: How long a message received by a replay or a dump stays hidden from other consumers.
HOLD_SECONDS = 60


@dataclass(frozen=True)
class Where:
    """A `FIELD=VALUE` filter: `body.a.b` is a dotted path into the JSON body, else a message attribute."""

    field: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Where:
        """`FIELD=VALUE`; ValueError when there is no `=` or no field."""
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"{text!r} is not FIELD=VALUE (body.campaign_id=summer, or a message attribute=value)")
        return cls(name.strip(), value)

    def matches(self, message: dict[str, Any]) -> bool:
        """True when the message's attribute or body field equals the value (compared as text)."""
        if self.field.startswith("body."):
            try:
                found: Any = json.loads(message["Body"])
            except ValueError:
                return False
            for part in self.field.split(".")[1:]:
                if not isinstance(found, dict) or part not in found:
                    return False
                found = found[part]
            return _text(found) == self.value
        attribute = message.get("MessageAttributes", {}).get(self.field)
        return attribute is not None and attribute.get("StringValue") == self.value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _attributes_to_send(message: dict[str, Any]) -> dict[str, Any]:
    sent = {}
    for name, value in message.get("MessageAttributes", {}).items():
        kept = {"DataType": value["DataType"]}
        for key in ("StringValue", "BinaryValue"):
            if key in value:
                kept[key] = value[key]
        sent[name] = kept
    return sent


def _receive(url: str, hold: int) -> list[dict[str, Any]]:
    return (
        aws.client("sqs")
        .receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=BATCH,
            WaitTimeSeconds=0,
            VisibilityTimeout=hold,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        .get("Messages", [])
    )


def release(url: str, messages: Iterable[dict[str, Any]]) -> None:
    """Make held messages visible again at once (a peek, not a consume)."""
    sqs = aws.client("sqs")
    pending = list(messages)
    for start in range(0, len(pending), BATCH):
        chunk = pending[start : start + BATCH]
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(chunk)],
        )


def peek(url: str, where: Sequence[Where] = (), limit: int | None = None, hold: int = HOLD_SECONDS) -> Iterator[dict]:
    """Every message of a queue that matches, received and held hidden; the caller releases or deletes.

    Stops when a receive brings nothing new: each message is held for `hold` seconds, so
    a queue is walked once.
    """
    seen: set[str] = set()
    skipped: list[dict[str, Any]] = []  # held until the walk ends, so they are not received again
    matched = 0
    try:
        while limit is None or matched < limit:
            messages = [m for m in _receive(url, hold) if m["MessageId"] not in seen]
            if not messages:
                return
            for message in messages:
                seen.add(message["MessageId"])
                if all(w.matches(message) for w in where) and (limit is None or matched < limit):
                    matched += 1
                    yield message
                else:
                    skipped.append(message)
    finally:
        release(url, skipped)


def dump_line(message: dict[str, Any]) -> str:
    """One message as a JSON line: id, body, message attributes, when it was first sent."""
    system = message.get("Attributes", {})
    return json.dumps(
        {
            "message_id": message["MessageId"],
            "body": message["Body"],
            "message_attributes": _attributes_to_send(message),
            "sent_timestamp": int(system["SentTimestamp"]) if "SentTimestamp" in system else None,
            "receive_count": int(system.get("ApproximateReceiveCount", 0)),
        },
        sort_keys=True,
    )


def dump(logical: str, where: Sequence[Where] = (), limit: int | None = None) -> list[str]:
    """JSON lines of the messages of a topology queue's dead-letter queue; they stay there."""
    url = queue_url(dead_letter_queue(logical))
    held = list(peek(url, where, limit))
    release(url, held)
    return [dump_line(m) for m in held]


def dead_letter_queue(logical: str) -> str:
    """The logical name of a topology queue's dead-letter queue (KeyError when not a queue)."""
    from events.topology import TOPOLOGY

    return TOPOLOGY.queue(logical).dlq_name


class Pacer:
    """Keeps a loop at `rate` items a second (no limit when rate is None)."""

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic, sleep=time.sleep) -> None:
        self.rate = rate
        self.clock = clock
        self.sleep = sleep
        self.started = clock()
        self.done = 0

    def take(self, count: int) -> int:
        """How many of `count` may go now, after waiting as the rate asks."""
        if not self.rate:
            return count
        due = self.started + self.done / self.rate
        wait = due - self.clock()
        if wait > 0:
            self.sleep(wait)
        return max(1, min(count, int(self.rate))) if self.rate >= 1 else 1

    def count(self, n: int) -> None:
        """Record that n items went."""
        self.done += n


def send_then_delete(source_url: str | None, target_url: str, messages: list[dict[str, Any]]) -> int:
    """Send copies to the target; delete from the source only the originals whose copy went."""
    sqs = aws.client("sqs")
    entries = [
        {"Id": str(i), "MessageBody": m["Body"], "MessageAttributes": _attributes_to_send(m)} for i, m in enumerate(messages)
    ]
    response = sqs.send_message_batch(QueueUrl=target_url, Entries=entries)
    failed = response.get("Failed", [])
    if failed:
        raise RuntimeError(f"{len(failed)} message(s) not accepted by the target, left in place: {failed[0]}")
    if source_url:
        sqs.delete_message_batch(
            QueueUrl=source_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    return len(messages)


def move(
    source: str,
    target: str,
    where: Sequence[Where] = (),
    limit: int | None = None,
    rate: float | None = None,
    moved: Callable[[int], None] = lambda n: None,
) -> int:
    """Move matching messages from the source queue to the target (physical names' URLs); return how many."""
    source_url, target_url = queue_url(source), queue_url(target)
    pacer = Pacer(rate)
    total = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal total, batch
        while batch:
            n = pacer.take(len(batch))
            chunk, batch = batch[:n], batch[n:]
            total += send_then_delete(source_url, target_url, chunk)
            pacer.count(len(chunk))
            moved(len(chunk))

    for message in peek(source_url, where, limit):
        batch.append(message)
        if len(batch) == BATCH:
            flush()
    flush()
    return total


def start_move_task(source: str, target: str, rate: float | None) -> str | None:
    """On AWS, hand an unfiltered move to SQS (StartMessageMoveTask); None where it is missing."""
    if settings.current().local:
        return None  # moto answers HTTP 500: move by receive, send, delete
    sqs = aws.client("sqs")

    def arn(logical: str) -> str:
        return sqs.get_queue_attributes(QueueUrl=queue_url(logical), AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    kwargs: dict[str, Any] = {"SourceArn": arn(source), "DestinationArn": arn(target)}
    if rate:
        kwargs["MaxNumberOfMessagesPerSecond"] = int(rate)
    try:
        return sqs.start_message_move_task(**kwargs)["TaskHandle"]
    except Exception:  # noqa: BLE001 - not offered here: the caller moves message by message
        return None


def read_dump(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Messages from a dump's JSON lines, shaped as received messages; ValueError names a bad line."""
    messages = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            messages.append(
                {
                    "MessageId": data.get("message_id", f"line-{number}"),
                    "Body": data["body"],
                    "MessageAttributes": data.get("message_attributes") or {},
                }
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"line {number} is not a dumped message: {exc}") from None
    return messages


def send_dump(
    messages: list[dict[str, Any]],
    target: str,
    where: Sequence[Where] = (),
    limit: int | None = None,
    rate: float | None = None,
    sent: Callable[[int], None] = lambda n: None,
) -> int:
    """Send dumped messages (those matching, up to the limit) to a topology queue; return how many."""
    chosen = [m for m in messages if all(w.matches(m) for w in where)][:limit]
    target_url = queue_url(target)
    pacer = Pacer(rate)
    total = 0
    while chosen:
        n = pacer.take(min(BATCH, len(chosen)))
        chunk, chosen = chosen[:n], chosen[n:]
        total += send_then_delete(None, target_url, chunk)
        pacer.count(len(chunk))
        sent(len(chunk))
    return total
