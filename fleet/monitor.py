"""The local live view's port (`FleetMonitor`) over the local AWS: queue depths, the workers' stats, SES's count, replays.

The local runtime gives it to the API it serves (`fleet.runtime.local.local_app`): only
the host can read the workers' stats file and replay a queue, and the API reaches them
through this port alone.

A replay goes through `fleet.replay`, the functions `fleet replay` calls: a dead-letter
queue's messages are moved back to their queue (each copy sent before its original is
deleted), an on-failure queue's parked stream records are handed to their function again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fleet.runtime.credentials import as_operator
from lambda_platform import aws, settings
from lambda_platform.ports import QueueDepths, ReplayItem, ReplayOutcome

#: A dry run lists at most this many messages (the count of the rest is the queue's depth).
DRY_RUN_LIMIT = 50
#: A replay from the page moves at most this many (as `fleet replay` hands an on-failure
#: queue at most 1,000); what is left is replayed by the next click.
REPLAY_LIMIT = 1000
#: A message's body is shown cut to this many characters.
SUMMARY_CHARS = 160


class LocalMonitor:
    """The live view's reads and replays against the fleet's AWS (moto's server, locally).

    It acts for the operator, as `fleet status` and `fleet replay` do: under IAM
    enforcement it signs as the operator, not as the API whose process it serves in.
    """

    def queues(self) -> Sequence[QueueDepths]:
        """Every topology queue's depths; never a peek (a peek counts towards maxReceiveCount)."""
        from fleet.status import queue_status

        with as_operator():
            return queue_status()

    def live_view(self, now: float) -> dict[str, Any]:
        """Every trigger's counts up to `now`, from the snapshot the workers wrote into this run's directory."""
        from fleet.runtime.stats import live_view, read_snapshot

        return live_view(read_snapshot(settings.current().run_dir), now=now)

    def emails_accepted(self) -> int:
        """SES's count of sent mail: one call, where the outbox page reads all of moto's state.

        moto counts recipients; each of our emails has one, so it is the outbox's count.
        """
        with as_operator():
            return int(float(aws.client("ses").get_send_quota().get("SentLast24Hours", 0)))

    def email_health(self) -> dict[str, Any]:
        """As `fleet status` shows it: 24 hours of SES's feedback, and the suppression list's size."""
        from datetime import UTC, datetime

        from fleet.email_health import email_health
        from lambda_platform.composition import Ports

        ports = Ports()
        with as_operator():
            return email_health(ports.email_events, ports.suppressions, datetime.now(UTC)).document()

    def replay(self, queue: str, dry_run: bool) -> ReplayOutcome:
        """As `fleet replay QUEUE [--dry-run]`: by `fleet.replay`, at most REPLAY_LIMIT messages."""
        with as_operator():
            return self._replay(queue, dry_run)

    def _replay(self, queue: str, dry_run: bool) -> ReplayOutcome:
        from fleet import replay as replaying

        function = replaying.on_failure_function(queue)
        if function:
            if dry_run:
                batches = replaying.parked(queue, DRY_RUN_LIMIT)
                return ReplayOutcome(queue, queue, function, True, tuple(_parked_item(b) for b in batches))
            replayed, failing = replaying.replay_queue(queue, REPLAY_LIMIT)
            return ReplayOutcome(queue, queue, function, False, moved=replayed, still_failing=failing)
        source = replaying.dead_letter_queue(queue)
        if dry_run:
            lines = [json.loads(line) for line in replaying.dump(queue, limit=DRY_RUN_LIMIT)]
            items = tuple(ReplayItem(d["message_id"], _message_summary(d)) for d in lines)
            return ReplayOutcome(queue, source, queue, True, items)
        moved = replaying.move(source, queue, limit=REPLAY_LIMIT)
        return ReplayOutcome(queue, source, queue, False, moved=moved)


def _message_summary(dumped: dict[str, Any]) -> str:
    """`SubmitEntry 5ed2...: {"body": ...`: the message's type and id attributes (as our queues send them), then its body."""
    attributes = dumped.get("message_attributes") or {}
    named = " ".join(attributes[k].get("StringValue", "") for k in ("type", "message_id") if k in attributes)
    body = dumped["body"][:SUMMARY_CHARS]
    return f"{named}: {body}" if named else body


def _parked_item(info: dict[str, Any]) -> ReplayItem:
    first, last = info.get("startSequenceNumber"), info.get("endSequenceNumber")
    return ReplayItem(f"{info.get('shardId')}:{first}", f"{info.get('batchSize')} record(s), {first}..{last}")
