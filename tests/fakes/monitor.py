"""An in-memory `FleetMonitor`: queues with dead-lettered messages, a stats snapshot, an email count."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from events.topology import TOPOLOGY
from fleet.runtime.stats import live_view
from fleet.status import QueueStatus
from lambda_platform.ports import ReplayItem, ReplayOutcome


class FakeMonitor:
    """Every topology queue empty unless `dead_letter` put messages on its dead-letter queue."""

    def __init__(self, snapshot: dict[str, Any] | None = None, emails: int = 0) -> None:
        self.snapshot = snapshot
        self.emails = emails
        #: Dead-lettered messages by topology queue: (message id, body).
        self.dead: dict[str, list[tuple[str, str]]] = {}
        #: Messages moved back onto each queue by a replay.
        self.replayed: dict[str, list[tuple[str, str]]] = {}
        #: Every replay asked for: (queue, dry run).
        self.calls: list[tuple[str, bool]] = []

    def dead_letter(self, queue: str, message_id: str, body: str) -> None:
        """Put a message on a topology queue's dead-letter queue."""
        TOPOLOGY.queue(queue)
        self.dead.setdefault(queue, []).append((message_id, body))

    def queues(self) -> list[Any]:
        """Every topology queue, dead-lettered counts from `dead_letter`."""
        return [replace(QueueStatus(q.name, 0, 0, 0), dead_lettered=len(self.dead.get(q.name, []))) for q in TOPOLOGY.queues]

    def live_view(self, now: float) -> dict[str, Any]:
        """The triggers' counts from the snapshot given (all zeros without one)."""
        return live_view(self.snapshot, TOPOLOGY, now)

    def emails_accepted(self) -> int:
        """The count given."""
        return self.emails

    def email_health(self) -> dict[str, Any]:
        """No email feedback: every count zero, no rate."""
        from fleet.email_health import EmailHealth

        return EmailHealth(0, 0, 0, 0, 0, 0).document()

    def replay(self, queue: str, dry_run: bool) -> ReplayOutcome:
        """List, or move back, the queue's dead-lettered messages."""
        self.calls.append((queue, dry_run))
        source = TOPOLOGY.queue(queue).dlq_name
        held = self.dead.get(queue, [])
        if dry_run:
            return ReplayOutcome(queue, source, queue, True, tuple(ReplayItem(i, body) for i, body in held))
        self.replayed.setdefault(queue, []).extend(held)
        self.dead[queue] = []
        return ReplayOutcome(queue, source, queue, False, moved=len(held))
