"""The live view's port against moto: dry runs and replays as `fleet replay` does them, SES's count, no peeking."""

from __future__ import annotations

import json

from fleet.monitor import LocalMonitor
from lambda_platform import aws
from lambda_platform.adapters.queues import queue_url


def dead_letter(count: int) -> list[str]:
    bodies = [json.dumps({"type": "SubmitEntry", "body": {"campaign_id": "winter", "n": n}}) for n in range(count)]
    aws.client("sqs").send_message_batch(
        QueueUrl=queue_url("submissions-dlq"),
        Entries=[
            {
                "Id": str(n),
                "MessageBody": body,
                "MessageAttributes": {"type": {"DataType": "String", "StringValue": "SubmitEntry"}},
            }
            for n, body in enumerate(bodies)
        ],
    )
    return bodies


def test_a_dry_run_lists_the_dead_letters_and_a_replay_moves_them_back(provisioned):
    dead_letter(3)
    monitor = LocalMonitor()
    dry = monitor.replay("submissions", dry_run=True)
    assert (dry.source, dry.target, dry.dry_run, len(dry.items)) == ("submissions-dlq", "submissions", True, 3)
    assert all(item.summary.startswith('SubmitEntry: {"type": "SubmitEntry"') for item in dry.items)
    row = next(q for q in monitor.queues() if q.name == "submissions")
    assert (row.visible, row.dead_lettered) == (0, 3)  # the dry run released what it read
    done = monitor.replay("submissions", dry_run=False)
    assert done.moved == 3 and not done.dry_run
    row = next(q for q in monitor.queues() if q.name == "submissions")
    assert (row.visible, row.dead_lettered) == (3, 0)


def test_an_on_failure_queue_replays_to_its_function_and_an_empty_fleet_reads_zeros(provisioned):
    monitor = LocalMonitor()
    dry = monitor.replay("confirmations-failures", dry_run=True)
    assert (dry.source, dry.target, dry.items) == ("confirmations-failures", "confirmations", ())
    done = monitor.replay("confirmations-failures", dry_run=False)
    assert (done.moved, done.still_failing) == (0, 0)
    assert monitor.emails_accepted() == 0
    view = monitor.live_view(now=1000.0)  # no workers ran in this run directory
    assert view["workers"]["reporting"] is False and view["failures"] == []
    # (uploads may hold the s3:TestEvent that configuring its notification sends)
    assert all(q.dead_lettered == 0 for q in monitor.queues())
