"""A burst of entries through the fleet in its own processes, end to end, against moto's own speed.

    make bench-drain        (or: .venv/bin/python -m bench.drain [--quick] [--small N] [--large N] [--connections N])

The fleet runs as `fleet up` runs it, each part in a process of its own on free loopback
ports (`bench.processes`). A round POSTs N entries over HTTP from a bounded pool of
keep-alive connections, as fast as the API takes them, and times, from the first POST,
until every entry is stored and its confirmation email is out. Two rounds in one run, a
small burst (2,000) and a large one (20,000): the time per submission of the large one
over the small one's says whether the fleet keeps its queues shallow (target 1.5 at most).
During each round, moto's process CPU time (from /proc/<pid>/stat) over the wall time is
the share of the drain moto was busy (target 0.85 at least: the fleet is bound by the
emulator, not by itself), with the share its threads waited for a CPU that other work
held (/proc/<pid>/task/*/schedstat) and the CPU of every process; the submissions
queue's depth is sampled every second. A round unfinished after --round-limit seconds
stops, its figures over what was confirmed.

The floor, in the same run against the same moto: a tight script making the calls the
fleet cannot do without for N entries, as fast as one thread can, in batches of ten, on
a queue and a table of its own: SendMessageBatch, ReceiveMessage, DeleteMessageBatch,
BatchWriteItem of the entries, and one SendEmail per entry. fleet/floor says how close the
fleet comes to moto's own speed for the bare work (target 0.3 at least).

It prints the figures; asserts nothing and exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from typing import Any

from bench.local_fleet import CAMPAIGN, post_entries, wait_for
from bench.machine import describe_machine
from bench.processes import FleetProcesses


class DepthSampler(threading.Thread):
    """Samples the submissions queue's depth (visible and in flight) every second."""

    def __init__(self) -> None:
        super().__init__(name="depth", daemon=True)
        self.samples: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        from lambda_platform import aws
        from lambda_platform.resources import queue_url

        sqs, url = aws.client("sqs"), queue_url("submissions")
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        while not self.stop.wait(1.0):
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
            self.samples.append(sum(int(attributes[n]) for n in names))


def fleet_round(fleet: FleetProcesses, count: int, connections: int, tag: str, limit: float = 3600) -> dict[str, Any]:
    """From the first POST until `count` more confirmations are out: seconds, moto's CPU, the depth.

    A round still unfinished after `limit` seconds ends there, its figures over what was confirmed.
    """
    emails = fleet.sent_emails() + count
    depth = DepthSampler()
    cpu, waited, by_process, started = fleet.moto_cpu(), fleet.moto_waited(), fleet.cpu_by_process(), time.monotonic()
    depth.start()
    posted = post_entries(fleet.api_url, count, connections, tag=tag)
    last_report = [time.monotonic()]

    def done() -> bool:
        sent = fleet.sent_emails()
        if time.monotonic() - last_report[0] > 30:
            last_report[0] = time.monotonic()
            print(f"    {sent - emails + count}/{count} confirmed, depth {depth.samples[-1:]}", flush=True)
        return sent >= emails

    finished = wait_for(done, max(1.0, limit - (time.monotonic() - started)), every=0.25)
    seconds = time.monotonic() - started
    confirmed = count if finished else fleet.sent_emails() - emails + count
    busy = (fleet.moto_cpu() - cpu) / seconds
    starved = (fleet.moto_waited() - waited) / seconds
    shares = {name: (used - by_process[name]) / seconds for name, used in fleet.cpu_by_process().items()}
    depth.stop.set()
    samples = depth.samples or [0]
    return {
        "count": confirmed,
        "finished": finished,
        "seconds": seconds,
        "rate": max(1, confirmed) / seconds,
        "busy": busy,
        "post_seconds": posted["seconds"],
        "errors": posted["errors"],
        "depth_max": max(samples),
        "depth_mean": sum(samples) / len(samples),
        "shares": shares,
        "starved": starved,
        "moto_ms": busy * seconds * 1000 / max(1, confirmed),
    }


def floor_round(count: int, moto_cpu: Any) -> dict[str, float]:
    """Seconds (and moto's busy share) for the bare calls of `count` entries, made directly against the same moto."""
    from lambda_platform import aws, settings

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
    sender = settings.current().sender
    body = json.dumps({"first_name": "Ana", "last_name": "Souza", "email": "ana@example.com", "consent": True})
    cpu, started = moto_cpu(), time.monotonic()
    for start in range(0, count, 10):
        chunk = range(start, min(count, start + 10))
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": body} for n in chunk])
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if received:
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)],
            )
        dynamodb.batch_write_item(
            RequestItems={
                name: [
                    {
                        "PutRequest": {
                            "Item": {
                                "submission_id": {"S": f"baseline-{uuid.uuid4()}"},
                                "campaign_id": {"S": CAMPAIGN},
                                "email": {"S": f"ana.{n}@example.com"},
                                "status": {"S": "accepted"},
                            }
                        }
                    }
                    for n in chunk
                ]
            }
        )
        for n in chunk:
            ses.send_email(
                Source=sender,
                Destination={"ToAddresses": [f"ana.{n}@example.com"]},
                Message={"Subject": {"Data": "Thanks"}, "Body": {"Text": {"Data": "Entry received."}}},
            )
    seconds = time.monotonic() - started
    busy = (moto_cpu() - cpu) / seconds
    sqs.delete_queue(QueueUrl=url)
    dynamodb.delete_table(TableName=name)
    return {"seconds": seconds, "rate": count / seconds, "busy": busy}


def _line(label: str, r: dict[str, Any]) -> str:
    shares = ", ".join(f"{name} {share:.2f}" for name, share in r["shares"].items())
    if not r["finished"]:
        label += f" (stopped, {r['count']} confirmed)"
    return (
        f"  {label:<16} {r['rate']:6.1f} submissions/s  {1000 / r['rate']:6.1f} ms each  "
        f"{r['seconds']:6.1f} s  moto busy {r['busy']:.2f}  posting {r['post_seconds']:.1f} s "
        f"({r['errors']} errors)  depth mean {r['depth_mean']:.0f} max {r['depth_max']}\n"
        f"  {'':<16} moto CPU {r['moto_ms']:.1f} ms a submission; moto waited for a CPU {r['starved']:.2f} "
        f"of the time; CPU seconds a second: {shares}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.drain", description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2000, help="entries in the small burst")
    parser.add_argument("--large", type=int, default=20000, help="entries in the large burst")
    parser.add_argument("--quick", action="store_true", help="bursts of 300 and 3,000 (a few minutes)")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections that POST")
    parser.add_argument("--echo", action="store_true", help="print the fleet's own output")
    parser.add_argument("--round-limit", type=float, default=1200, help="seconds after which a round stops")
    parser.add_argument("--no-iam", action="store_true", help="skip the round under IAM enforcement")
    args = parser.parse_args(argv)
    small, large = (300, 3000) if args.quick else (args.small, args.large)
    print(describe_machine())
    with FleetProcesses(echo=args.echo) as fleet:
        print(f"fleet: {fleet.how}; pids {fleet.pids}", flush=True)
        fleet_round(fleet, 20, args.connections, "warm")
        print(f"  burst of {small}...", flush=True)
        first = fleet_round(fleet, small, args.connections, "small", args.round_limit)
        print(f"  burst of {large}...", flush=True)
        second = fleet_round(fleet, large, args.connections, "large", args.round_limit)
        print(f"  floor, {small} entries of bare calls...", flush=True)
        floor = floor_round(small, fleet.moto_cpu)
    enforced = None
    if not args.no_iam:
        # The same small burst on a fresh fleet under IAM enforcement: what policy evaluation costs moto.
        with FleetProcesses(echo=args.echo, enforce_iam=True) as iam_fleet:
            print(f"  burst of {small} under IAM enforcement ({iam_fleet.how} --enforce-iam)...", flush=True)
            fleet_round(iam_fleet, 20, args.connections, "warm-iam")
            enforced = fleet_round(iam_fleet, small, args.connections, "iam", args.round_limit)
    ratio = (1 / second["rate"]) / (1 / first["rate"])
    print(f"\nPOST to confirmation email, {args.connections} connections posting:")
    print(_line(f"burst of {small}", first))
    print(_line(f"burst of {large}", second))
    print(f"  time per submission, {large} over {small}: {ratio:.2f} (target <= 1.5)")
    print(
        f"  moto, the bare calls in one thread: {floor['rate']:.1f} submissions/s "
        f"({floor['seconds']:.1f} s, moto busy {floor['busy']:.2f}, "
        f"moto CPU {floor['busy'] * floor['seconds'] * 1000 / small:.1f} ms a submission)"
    )
    print(
        f"  ratio fleet/floor: {first['rate'] / floor['rate']:.2f} ({small}), "
        f"{second['rate'] / floor['rate']:.2f} ({large}) (target >= 0.3)"
    )
    print(f"  moto busy during the drain: {first['busy']:.2f} ({small}), {second['busy']:.2f} ({large}) (target >= 0.85)")
    if enforced is not None:
        print(_line(f"{small}, IAM enforced", enforced))
        print(
            f"  ratio enforced/plain stored/s: {enforced['rate'] / first['rate']:.2f} ({small}; "
            f"moto CPU {enforced['moto_ms']:.1f} against {first['moto_ms']:.1f} ms a submission) (target >= 0.85)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
