"""Queue depths, for `fleet status` and for draining the local runtime."""

from __future__ import annotations

from dataclasses import dataclass

from events.topology import TOPOLOGY, Topology
from fleet import aws
from fleet.adapters.queues import queue_url

_ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


@dataclass(frozen=True)
class QueueStatus:
    """The depth of one topology queue and of its dead-letter queue."""

    name: str
    visible: int
    in_flight: int
    dead_lettered: int

    @property
    def idle(self) -> bool:
        """Nothing waiting and nothing being processed."""
        return self.visible == 0 and self.in_flight == 0


def _depth(logical: str) -> tuple[int, int]:
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=queue_url(logical), AttributeNames=_ATTRIBUTES)[
        "Attributes"
    ]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def queue_status(topology: Topology = TOPOLOGY) -> list[QueueStatus]:
    """Every queue's visible, in-flight and dead-lettered message counts."""
    rows = []
    for queue in topology.queues:
        visible, in_flight = _depth(queue.name)
        dlq_visible, dlq_in_flight = _depth(queue.dlq_name)
        rows.append(QueueStatus(queue.name, visible, in_flight, dlq_visible + dlq_in_flight))
    return rows
