"""Bursts of entries through the fleet in its own processes, end to end: embedded AWS against MiniStack, and against moto's own speed.

    make bench-drain        (or: .venv/bin/python -m bench.drain [--quick] [--sizes 300,2000,20000] [--connections N])

The fleet runs as `fleet up` runs it, each part in a process of its own on free loopback
ports (`bench.processes`). A round POSTs N entries over HTTP from a bounded pool of
keep-alive connections, as fast as the API takes them, and times, from the first POST,
until every entry is stored (the submissions worker's per-second counts) and until its
confirmation email is out (SES GetSendQuota). Rounds of 300, 2,000 and 20,000 on the
embedded AWS and on the same Fleet with `fleet up --external` on MiniStack (pinned in
requirements-ministack.txt, installed by `make ministack` in a venv of its own), in one
run and in turns: the bursts under 20,000 on the embedded AWS then on MiniStack, twice
(`--repeats`), each turn on freshly started fleets, then the 20,000 burst on each. This
machine is shared: the same burst on the same code varies by a quarter from one minute to
the next, so the turns put the two AWSes side by side in time. `ratio embedded/ministack
stored/s` and `... confirmed/s` for each size are the medians of the turns' ratios
(target 1.0 at least); the other figures are each size's median round. The 20,000
burst's time per submission over the 2,000's says whether the fleet keeps its queues
shallow (target 1.5 at most). During each round, the
AWS process's CPU time (from /proc/<pid>/stat) over the wall time is the share of the
drain it was busy, with the share its threads waited for a CPU that other work held
(/proc/<pid>/task/*/schedstat) and the CPU of every process; the submissions queue's
depth is sampled every second. A round unfinished after --round-limit seconds stops,
its figures over what was confirmed.

Like for like: MiniStack publishes no configuration set's events, so on it no delivery
event comes back and the feedback worker never runs; on the embedded AWS every email's
Delivery event is received, marked and recorded. After its rounds, the embedded fleet
takes the feedback queue off SES's events topic (SES still publishes to it) and runs the
2,000 burst again: `like for like ... ratio embedded/ministack` is that burst's against
MiniStack's.

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
import statistics
import sys
import threading
import time
import uuid
from typing import Any

from bench.local_fleet import CAMPAIGN, post_entries, wait_for
from bench.machine import describe_machine
from bench.processes import STORED_TRIGGER, FleetProcesses


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
    """From the first POST until `count` more entries are stored and confirmed: seconds, moto's CPU, the depth.

    A round still unfinished after `limit` seconds ends there, its figures over what was confirmed.
    """
    emails = fleet.sent_emails() + count
    stored_before = fleet.stored()[0]
    depth = DepthSampler()
    cpu, waited, by_process, started = fleet.moto_cpu(), fleet.moto_waited(), fleet.cpu_by_process(), time.monotonic()
    started_wall = time.time()
    depth.start()
    posted = post_entries(fleet.api_url, count, connections, tag=tag)
    last_report = [time.monotonic()]
    stored_seconds: list[float] = []

    def done() -> bool:
        if not stored_seconds:
            stored, snapshot = fleet.stored()
            if stored - stored_before >= count and snapshot is not None:
                stored_seconds.append(stored_at(snapshot, stored_before + count, started_wall, time.time()))
        sent = fleet.sent_emails()
        if time.monotonic() - last_report[0] > 30:
            last_report[0] = time.monotonic()
            print(f"    {sent - emails + count}/{count} confirmed, depth {depth.samples[-1:]}", flush=True)
        return sent >= emails and bool(stored_seconds)

    finished = wait_for(done, max(1.0, limit - (time.monotonic() - started)), every=0.25)
    seconds = time.monotonic() - started
    confirmed = count if finished else fleet.sent_emails() - emails + count
    busy = (fleet.moto_cpu() - cpu) / seconds
    starved = (fleet.moto_waited() - waited) / seconds
    shares = {name: (used - by_process[name]) / seconds for name, used in fleet.cpu_by_process().items()}
    depth.stop.set()
    samples = depth.samples or [0]
    stored = stored_seconds[0] if stored_seconds else seconds
    return {
        "count": confirmed,
        "finished": finished,
        "seconds": seconds,
        "rate": max(1, confirmed) / seconds,
        "stored_seconds": stored,
        "stored_rate": (count if stored_seconds else max(1, fleet.stored()[0] - stored_before)) / stored,
        "busy": busy,
        "post_seconds": posted["seconds"],
        "errors": posted["errors"],
        "depth_max": max(samples),
        "depth_mean": sum(samples) / len(samples),
        "shares": shares,
        "starved": starved,
        "moto_ms": busy * seconds * 1000 / max(1, confirmed),
    }


def stored_at(snapshot: dict[str, Any], total: int, started_wall: float, now: float) -> float:
    """Seconds from `started_wall` until the stored count reached `total`, from the workers' per-second counts.

    The snapshot is written once a second; its per-second series says within which second
    the count crossed `total` (the share of that second's records taken as evenly spread).
    """
    counts = snapshot["triggers"][STORED_TRIGGER]
    series = counts.get("per_second") or {}
    handled, failed = series.get("handled") or [], series.get("failed") or []
    reached = int(counts.get("handled", 0)) - int(counts.get("failed", 0))
    # Walk back from the snapshot's last second to the one in which the count passed `total`.
    for offset in range(len(handled) - 1, -1, -1):
        net = handled[offset] - (failed[offset] if offset < len(failed) else 0)
        if reached - net < total <= reached and net > 0:
            second = int(series["first"]) + offset
            return max(0.0, second + (total - (reached - net)) / net - started_wall)
        reached -= net
    return now - started_wall  # no series: when it was seen


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
        f"  {label:<22} stored {r['stored_rate']:6.1f}/s ({r['stored_seconds']:.1f} s)  confirmed {r['rate']:6.1f}/s "
        f"({r['seconds']:.1f} s, {1000 / r['rate']:.1f} ms each)  AWS busy {r['busy']:.2f}  posting {r['post_seconds']:.1f} s "
        f"({r['errors']} errors)  depth mean {r['depth_mean']:.0f} max {r['depth_max']}\n"
        f"  {'':<22} AWS CPU {r['moto_ms']:.1f} ms a submission; AWS waited for a CPU {r['starved']:.2f} "
        f"of the time; CPU seconds a second: {shares}"
    )


def _bursts(fleet: FleetProcesses, sizes: list[int], args: argparse.Namespace, name: str) -> dict[int, dict[str, Any]]:
    """A warm-up, then one round of each size, on `fleet`."""
    print(f"{name}: {fleet.how}; pids {fleet.pids}", flush=True)
    tag = uuid.uuid4().hex[:6]  # a part of each entry's email address
    fleet_round(fleet, 20, args.connections, f"warm-{tag}")
    found = {}
    for size in sizes:
        print(f"  {name}, burst of {size}...", flush=True)
        found[size] = fleet_round(fleet, size, args.connections, f"{tag}-{size}", args.round_limit)
    return found


def unsubscribe_feedback() -> int:
    """Take the email-feedback queue off SES's events topic: SES still publishes, nothing consumes. How many were taken off."""
    from events.topology import TOPOLOGY
    from lambda_platform import aws
    from lambda_platform.resources import topic_arn

    assert TOPOLOGY.email_feedback is not None
    sns = aws.client("sns")
    found = sns.list_subscriptions_by_topic(TopicArn=topic_arn(TOPOLOGY.email_feedback.topic))["Subscriptions"]
    for subscription in found:
        sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    return len(found)


def _ministack_rounds(sizes: list[int], args: argparse.Namespace) -> tuple[str, dict[int, dict[str, Any]]]:
    """The same bursts against the same Fleet with `fleet up --external` on MiniStack."""
    from bench.ministack import MiniStack, ministack_python

    if not ministack_python():
        print("MiniStack is not installed (make ministack): no comparison", flush=True)
        return "", {}
    with MiniStack() as ministack, FleetProcesses(echo=args.echo, external=ministack) as fleet:
        return ministack.version, _bursts(fleet, sizes, args, f"MiniStack {ministack.version}")


def _median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Of a size's rounds, the one with the median confirmed rate (the lower middle of an even count)."""
    ordered = sorted(rounds, key=lambda r: r["rate"])
    return ordered[(len(ordered) - 1) // 2]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.drain", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,2000,20000", help="entries in each burst, comma-separated")
    parser.add_argument("--quick", action="store_true", help="bursts of 300 and 2,000 (a few minutes)")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections that POST")
    parser.add_argument("--echo", action="store_true", help="print the fleet's own output")
    parser.add_argument("--round-limit", type=float, default=1200, help="seconds after which a round stops")
    parser.add_argument("--repeats", type=int, default=2, help="turns of the two AWSes for the bursts under 20,000")
    parser.add_argument("--no-iam", action="store_true", help="skip the round under IAM enforcement")
    parser.add_argument("--no-ministack", action="store_true", help="skip the same bursts on MiniStack")
    args = parser.parse_args(argv)
    sizes = [300, 2000] if args.quick else [int(n) for n in args.sizes.split(",")]
    small = 2000 if 2000 in sizes else sizes[0]
    short, long = [n for n in sizes if n < 20000], [n for n in sizes if n >= 20000]
    print(describe_machine())
    embedded_rounds: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
    ministack_rounds: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
    version, floor, unconsumed = "", None, None
    # Turns, each AWS's fleet started afresh: the machine's other work weighs on both alike.
    turns = ([short] * max(1, args.repeats) if short else []) + ([long] if long else [])
    for turn, turn_sizes in enumerate(turns, 1):
        print(f"turn {turn} of {len(turns)}: bursts of {', '.join(map(str, turn_sizes))}", flush=True)
        with FleetProcesses(echo=args.echo) as fleet:
            for size, found in _bursts(fleet, turn_sizes, args, "embedded").items():
                embedded_rounds[size].append(found)
            if floor is None:  # the first turn's fleet
                print(f"  floor, {small} entries of bare calls...", flush=True)
                floor = floor_round(small, fleet.moto_cpu)
                if not args.no_ministack and small in turn_sizes:
                    # Like for like: MiniStack publishes no configuration set's events, so no feedback flow runs there.
                    print(f"  embedded, burst of {small} with SES's events not consumed...", flush=True)
                    if unsubscribe_feedback():
                        tag = f"nofeedback-{uuid.uuid4().hex[:6]}"
                        unconsumed = fleet_round(fleet, small, args.connections, tag, args.round_limit)
        if not args.no_ministack:
            version, found_there = _ministack_rounds(turn_sizes, args)
            for size, found in found_there.items():
                ministack_rounds[size].append(found)
    assert floor is not None
    embedded = {n: _median_round(r) for n, r in embedded_rounds.items() if r}
    ministack = {n: _median_round(r) for n, r in ministack_rounds.items() if r}
    enforced = None
    if not args.no_iam:
        # The same burst on a fresh fleet under IAM enforcement: what policy evaluation costs moto.
        with FleetProcesses(echo=args.echo, enforce_iam=True) as iam_fleet:
            print(f"  burst of {small} under IAM enforcement ({iam_fleet.how} --enforce-iam)...", flush=True)
            fleet_round(iam_fleet, 20, args.connections, "warm-iam")
            enforced = fleet_round(iam_fleet, small, args.connections, "iam", args.round_limit)
    print(f"\nPOST to stored entry and to confirmation email, {args.connections} connections posting:")
    for size in sizes:
        for n, found in enumerate(embedded_rounds[size], 1):
            print(_line(f"embedded, {size} #{n}", found))
        for n, found in enumerate(ministack_rounds[size], 1):
            print(_line(f"MiniStack, {size} #{n}", found))
    for size in sizes:
        pairs = list(zip(embedded_rounds[size], ministack_rounds[size], strict=False))
        if not pairs:
            continue
        stored = [mine["stored_rate"] / theirs["stored_rate"] for mine, theirs in pairs]
        confirmed = [mine["rate"] / theirs["rate"] for mine, theirs in pairs]
        each = f"each turn: {', '.join(f'{x:.2f}' for x in stored)} and {', '.join(f'{y:.2f}' for y in confirmed)}"
        print(f"  ratio embedded/ministack stored/s: {statistics.median(stored):.2f} ({size}; MiniStack {version}; {each})")
        print(f"  ratio embedded/ministack confirmed/s: {statistics.median(confirmed):.2f} ({size}; target >= 1.0 each)")
    if unconsumed is not None and small in ministack:
        print(_line(f"embedded, {small}, no feedback", unconsumed))
        theirs = ministack_rounds[small][0]
        print(
            f"  like for like, SES's events not consumed (MiniStack publishes none): ratio embedded/ministack "
            f"stored/s {unconsumed['stored_rate'] / theirs['stored_rate']:.2f}, confirmed/s {unconsumed['rate'] / theirs['rate']:.2f} "
            f"({small}, against MiniStack's first turn)"
        )
    if 2000 in embedded and 20000 in embedded:
        ratio = embedded[2000]["rate"] / embedded[20000]["rate"]
        print(f"  time per submission, 20000 over 2000: {ratio:.2f} (target <= 1.5)")
    rate = floor["rate"]
    print(
        f"  moto, the bare calls in one thread: {rate:.1f} submissions/s "
        f"({floor['seconds']:.1f} s, moto busy {floor['busy']:.2f}, "
        f"moto CPU {floor['busy'] * floor['seconds'] * 1000 / small:.1f} ms a submission)"
    )
    print("  ratio fleet/floor: " + ", ".join(f"{embedded[n]['rate'] / rate:.2f} ({n})" for n in sizes) + " (target >= 0.3)")
    print("  moto busy during the drain: " + ", ".join(f"{embedded[n]['busy']:.2f} ({n})" for n in sizes) + " (target >= 0.85)")
    if enforced is not None:
        print(_line(f"{small}, IAM enforced", enforced))
        print(
            f"  ratio enforced/plain stored/s: {enforced['stored_rate'] / embedded[small]['stored_rate']:.2f} ({small}; "
            f"moto CPU {enforced['moto_ms']:.1f} against {embedded[small]['moto_ms']:.1f} ms a submission) (target >= 0.85)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
