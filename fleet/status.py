"""Queue depths and ages, for `fleet status` and for draining the local runtime."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from events.topology import TOPOLOGY, Topology
from lambda_platform import aws
from lambda_platform.resources import queue_url

_ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
#: How many messages a peek samples for the oldest age (one receive call).
PEEK_SAMPLE = 10


@dataclass(frozen=True)
class QueueStatus:
    """The depth of one topology queue and of its dead-letter queue."""

    name: str
    visible: int
    in_flight: int
    dead_lettered: int
    #: Seconds since the oldest sampled message of the queue was first sent; None: not looked.
    oldest_age: float | None = None
    #: The same for its dead-letter queue.
    oldest_dead_age: float | None = None

    @property
    def idle(self) -> bool:
        """Nothing waiting and nothing being processed."""
        return self.visible == 0 and self.in_flight == 0


def _depth(logical: str) -> tuple[int, int]:
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=queue_url(logical), AttributeNames=_ATTRIBUTES)["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def oldest_age(logical: str, clock: Callable[[], float] = time.time) -> float | None:
    """Age in seconds, by `clock`, of the oldest of up to ten visible messages, peeked; None when none is visible.

    SQS has no queue attribute for it (ApproximateAgeOfOldestMessage is a CloudWatch
    metric, which moto does not produce): receive with SentTimestamp, then make the
    messages visible again at once. A peek counts as a receive towards maxReceiveCount.
    """
    sqs = aws.client("sqs")
    url = queue_url(logical)
    messages = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=PEEK_SAMPLE,
        WaitTimeSeconds=0,
        VisibilityTimeout=30,
        MessageSystemAttributeNames=["SentTimestamp"],
    ).get("Messages", [])
    if not messages:
        return None
    sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(messages)],
    )
    sent = min(int(m["Attributes"]["SentTimestamp"]) for m in messages) / 1000
    return max(0.0, clock() - sent)


def queue_status(
    topology: Topology = TOPOLOGY,
    ages: bool = False,
    source_ages: bool = True,
    clock: Callable[[], float] = time.time,
) -> list[QueueStatus]:
    """Every queue's visible, in-flight and dead-lettered message counts (and ages by `clock`, when asked).

    `source_ages=False` peeks only dead-letter queues: a peek at a queue with a redrive
    policy counts towards its messages' maxReceiveCount.
    """
    rows = []
    for queue in topology.queues:
        visible, in_flight = _depth(queue.name)
        dlq_visible, dlq_in_flight = _depth(queue.dlq_name)
        age = oldest_age(queue.name, clock) if ages and source_ages and visible else None
        dead_age = oldest_age(queue.dlq_name, clock) if ages and dlq_visible else None
        rows.append(QueueStatus(queue.name, visible, in_flight, dlq_visible + dlq_in_flight, age, dead_age))
    return rows


def on_failure_queues(topology: Topology = TOPOLOGY) -> set[str]:
    """The queues where stream triggers park their failures."""
    return topology.on_failure_queues()


def format_age(seconds: float | None) -> str:
    """`-`, `42s`, `12m`, `5h`, `3d`."""
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def code_pools() -> list[Any]:
    """The discount-code pool of every campaign that gives codes (`campaigns.codes.pool_status`)."""
    from campaigns.codes import pool_status
    from lambda_platform.composition import Ports

    ports = Ports(campaign_cache_seconds=0)
    return pool_status(ports.campaigns.list(), ports.codes)


def failed_messages(row: QueueStatus, parking: set[str]) -> int:
    """What `--check` counts as failed on a queue: its dead letters, and all of an on-failure queue."""
    return row.dead_lettered + (row.visible + row.in_flight if row.name in parking else 0)


def _seconds(age: float | None) -> float | None:
    return None if age is None else round(age, 1)


def status_document(
    rows: list[QueueStatus], parking: set[str], pools: list[Any], stage: str, source_ages: bool
) -> dict[str, Any]:
    """What `fleet status --json` prints: one document of a stable shape (see the command's help)."""
    return {
        "stage": stage,
        "source_ages": source_ages,
        "queues": [
            {
                "name": row.name,
                "visible": row.visible,
                "in_flight": row.in_flight,
                "oldest_age_seconds": _seconds(row.oldest_age),
                "dead_lettered": row.dead_lettered,
                "oldest_dead_age_seconds": _seconds(row.oldest_dead_age),
                "on_failure_queue": row.name in parking,
                "failed": failed_messages(row, parking),
            }
            for row in rows
        ],
        "failed": sum(failed_messages(row, parking) for row in rows),
        "code_pools": [asdict(pool) for pool in pools],
    }


def status_lines(rows: list[QueueStatus], pools: list[Any]) -> list[str]:
    """The table `fleet status` prints, then a line per discount-code pool."""
    width = max([len("queue"), *(len(r.name) for r in rows)])
    lines = [f"{'queue':<{width}}  {'visible':>8}  {'in flight':>9}  {'oldest':>6}  {'dead-lettered':>13}  {'oldest':>6}"]
    for row in rows:
        lines.append(
            f"{row.name:<{width}}  {row.visible:>8}  {row.in_flight:>9}  {format_age(row.oldest_age):>6}"
            f"  {row.dead_lettered:>13}  {format_age(row.oldest_dead_age):>6}"
        )
    for pool in pools:
        if pool.available == 0:
            lines.append(f"codes: {pool.campaign_id} pool empty, {pool.waitlisted} waitlisted ({pool.given} given)")
        else:
            lines.append(
                f"codes: {pool.campaign_id} {pool.available} available, {pool.given} given, {pool.waitlisted} waitlisted"
            )
    return lines
