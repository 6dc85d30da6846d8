"""2,000 submissions through the embedded fleet, end to end, against moto's own speed.

    make bench-drain        (or: .venv/bin/python -m bench.drain [--repeats N] [--submissions N])

The whole fleet runs in this process (moto on a free loopback port, the API, every
poller). Each round POSTs N entries over HTTP from eight threads and times, from the first
POST, until every entry is stored and its confirmation email is out: submissions per
second end to end.

The baseline, in the same run against the same moto server: a tight script making the
calls the fleet cannot do without for N entries, as fast as one thread can, in batches
of ten, on a queue and a table of its own: SendMessageBatch, ReceiveMessage, DeleteMessageBatch, BatchWriteItem
of the entries, and one SendEmail per entry. The ratio fleet/baseline says how close the
fleet comes to moto's own speed for the bare work.

It prints the medians of the rounds and the ratio; asserts nothing and exits 0.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid

from bench.local_fleet import CAMPAIGN, LocalFleet, rounds, wait_for
from bench.machine import describe_machine


def fleet_round(fleet: LocalFleet, count: int, tag: str) -> float:
    """Seconds from the first POST until `count` more confirmations are out."""
    emails = fleet.sent_emails() + count
    started = time.monotonic()
    fleet.post_submissions(count, tag=tag)
    if not wait_for(lambda: fleet.sent_emails() >= emails, 900, every=0.05):
        raise SystemExit("the fleet did not confirm every entry in 15 minutes")
    return time.monotonic() - started


def moto_round(count: int) -> float:
    """Seconds for the bare calls of `count` entries, made directly against the same moto."""
    from fleet import aws, settings

    sqs, dynamodb, ses = aws.client("sqs"), aws.client("dynamodb"), aws.client("ses")
    name = f"bench-baseline-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    # A table of its own, without a stream: the fleet's workers must not see these items.
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "submission_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "submission_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table = name
    sender = settings.current().sender
    body = json.dumps({"first_name": "Ana", "last_name": "Souza", "email": "ana@example.com", "consent": True})
    started = time.monotonic()
    for start in range(0, count, 10):
        chunk = range(start, min(count, start + 10))
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": body} for n in chunk])
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if received:
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)],
            )
        dynamodb.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": {
                "submission_id": {"S": f"baseline-{uuid.uuid4()}"}, "campaign_id": {"S": CAMPAIGN},
                "email": {"S": f"ana.{n}@example.com"}, "status": {"S": "accepted"},
            }}} for n in chunk
        ]})
        for n in chunk:
            ses.send_email(
                Source=sender,
                Destination={"ToAddresses": [f"ana.{n}@example.com"]},
                Message={"Subject": {"Data": "Thanks"}, "Body": {"Text": {"Data": "Entry received."}}},
            )
    elapsed = time.monotonic() - started
    sqs.delete_queue(QueueUrl=url)
    dynamodb.delete_table(TableName=name)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.drain", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--submissions", type=int, default=2000)
    args = parser.parse_args(argv)
    print(describe_machine())
    fleet_seconds, moto_seconds = [], []
    with LocalFleet() as fleet:
        fleet_round(fleet, 20, "warm")
        for n in rounds(args.repeats):
            fleet_seconds.append(fleet_round(fleet, args.submissions, f"r{n}"))
            moto_seconds.append(moto_round(args.submissions))
    fleet_rate = args.submissions / statistics.median(fleet_seconds)
    moto_rate = args.submissions / statistics.median(moto_seconds)
    print(f"\n{args.submissions} submissions a round, median of {args.repeats} rounds:")
    print(f"  fleet, POST to confirmation email   {fleet_rate:7.1f} submissions/s   "
          f"rounds: {' '.join(f'{s:.1f} s' for s in fleet_seconds)}")
    print(f"  moto, the bare calls in one thread  {moto_rate:7.1f} submissions/s   "
          f"rounds: {' '.join(f'{s:.1f} s' for s in moto_seconds)}")
    print(f"  ratio fleet/moto {fleet_rate / moto_rate:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
