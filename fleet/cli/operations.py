"""Commands for the operator who watches queues and puts failed work back: `status`, `replay`, `dlq`."""

from __future__ import annotations

import json
import sys
from typing import IO, Any

import click


@click.command()
@click.option(
    "--check",
    is_flag=True,
    help=(
        "Exit 1 when any dead-letter or on-failure queue holds messages, or the bounce or complaint rate"
        " is over its alarm (for cron and CI); peeks only those queues."
    ),
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document for scripts (shape above).")
@click.option("--watch", is_flag=True, help="Redraw every --interval seconds until Ctrl-C.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.2),
    default=1.0,
    show_default=True,
    help="Seconds between two redraws of --watch.",
)
def status(check: bool, as_json: bool, watch: bool, interval: float) -> None:
    """Messages visible, in flight and dead-lettered, and the oldest one's age, for every queue.

    Under the table, a line per campaign that gives discount codes: codes available, given,
    and entries waitlisted ("codes: CAMPAIGN pool empty, N waitlisted" once it runs out).

    A peek at a queue's oldest message counts as a receive towards its maxReceiveCount:
    --check and --watch peek only dead-letter queues (the oldest age of the others is null).

    \b
    --json prints one document (with --watch, one a line), in this shape:
      {"stage": "local",
       "source_ages": true,         # false: queues with a redrive policy were not peeked
       "queues": [{"name": "submissions",
                   "visible": 0, "in_flight": 0,
                   "oldest_age_seconds": null,       # null: none visible, or not peeked
                   "dead_lettered": 0,
                   "oldest_dead_age_seconds": null,  # null: none dead-lettered
                   "on_failure_queue": false,        # a stream trigger parks its failures here
                   "failed": 0},                     # what --check counts
                  ...],
       "failed": 0,                 # the sum of the queues' failed
       "code_pools": [{"campaign_id": "spring", "available": 120, "given": 30, "waitlisted": 0}, ...],
       "emails": {"hours": 24, "delivered": 980, "bounced": 20, "transient_bounces": 0,
                  "complained": 0, "rejected": 0, "bounce_rate": 0.02, "complaint_rate": 0.0,
                  "bounce_alarm_rate": 0.025, "complaint_alarm_rate": 0.0005,
                  "suppressed": 20, "alarms": []}}   # rates null without emails; --check fails on an alarm
    Queues in the topology's order; fields are only ever added.
    """
    if watch and check:
        raise click.UsageError("--check gives one exit code and --watch never exits by itself: use one of them")
    if watch:
        _watch(as_json, interval)
        return
    document, lines = _status_now(source_ages=not check)
    if as_json:
        click.echo(json.dumps(document, indent=2))
    else:
        for line in lines:
            click.echo(line)
    if check:
        troubled = [q for q in document["queues"] if q["failed"]]
        for queue in troubled:
            name, held = queue["name"], queue["failed"]
            click.echo(f"check: {name} holds {held} failed message(s); see: fleet replay {name}", err=True)
        for alarm in document["emails"]["alarms"]:
            click.echo(f"check: {alarm}; see: fleet suppression list", err=True)
        if troubled or document["emails"]["alarms"]:
            sys.exit(1)
        click.echo("check: no dead-lettered or parked messages", err=as_json)


def _status_now(source_ages: bool) -> tuple[dict, list[str]]:
    """The status document and the table's lines, from one look at every queue."""
    from fleet.status import code_pools, on_failure_queues, queue_status, status_document, status_lines
    from lambda_platform import settings

    rows = queue_status(ages=True, source_ages=source_ages)
    pools = code_pools()
    document = status_document(rows, on_failure_queues(), pools, settings.current().stage, source_ages)
    health = _email_health()
    document["emails"] = health.document()
    lines = status_lines(rows, pools)
    table = len(rows) + 1  # the header and a row per queue; the code pools' lines follow
    return document, [*lines[:table], *health.lines(), *lines[table:]]


def _email_health() -> Any:
    """The stage's bounce and complaint rates over 24 hours, and its suppressed addresses."""
    from datetime import UTC, datetime

    from fleet.email_health import email_health
    from lambda_platform.composition import Ports

    ports = Ports(campaign_cache_seconds=0)
    return email_health(ports.email_events, ports.suppressions, datetime.now(UTC))


def _watch(as_json: bool, interval: float) -> None:
    """Redraw until Ctrl-C, which ends the watch with exit 0."""
    import time

    try:
        while True:
            # A peek every second would soon dead-letter what waits on a source queue.
            document, lines = _status_now(source_ages=False)
            if as_json:
                click.echo(json.dumps(document, separators=(",", ":")))
            else:
                when = time.strftime("%H:%M:%S")
                header = f"fleet status: stage {document['stage']}, {when}, every {interval:g} s (Ctrl-C stops)"
                screen = "\n".join([header, "", *lines])
                click.clear()  # only on a terminal: piped, the tables follow one another
                click.echo(screen)
            time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("", err=True)  # the ^C the terminal echoed ends its own line


def _where(values: tuple[str, ...]) -> list:
    from fleet.replay import Where

    try:
        return [Where.parse(v) for v in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--where") from None


def _topology_queue(name: str, hint: str) -> None:
    from events.topology import TOPOLOGY

    try:
        TOPOLOGY.queue(name)
    except KeyError:
        known = ", ".join(q.name for q in TOPOLOGY.queues)
        raise click.BadParameter(f"no queue {name!r} in the topology (one of: {known})", param_hint=hint) from None


@click.command()
@click.argument("queue")
@click.option("--to", "target", help="Send to this topology queue instead of QUEUE.")
@click.option("--limit", type=click.IntRange(min=1), help="Move at most N messages.")
@click.option("--dry-run", is_flag=True, help="List what would move; move nothing.")
@click.option("--where", "where", multiple=True, help="FIELD=VALUE: a message attribute, or body.PATH into the JSON body.")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), help="At most N messages a second.")
@click.option("--from-file", "from_file", type=click.File("r"), help="Send the messages of a `fleet dlq dump` file to QUEUE.")
def replay(
    queue: str,
    target: str | None,
    limit: int | None,
    dry_run: bool,
    where: tuple[str, ...],
    rate: float | None,
    from_file: IO[str] | None,
) -> None:
    """Move QUEUE's dead-lettered messages back to QUEUE; on an on-failure queue, invoke the function again.

    Each copy is sent before its original is deleted: interrupted at any point, every
    message is in one of the two queues (at worst in both; the workers are idempotent).
    """
    from fleet import replay as replaying

    filters = _where(where)
    _topology_queue(queue, "QUEUE")
    if target:
        _topology_queue(target, "--to")
    function = replaying.on_failure_function(queue)
    if function and not from_file:
        if target or filters or rate:
            raise click.UsageError(
                f"{queue} is an on-failure queue: its records go back to {function}; only --limit and --dry-run apply"
            )
        _replay_on_failure(queue, function, limit, dry_run)
        return

    destination = target or queue
    if from_file:
        try:
            messages = replaying.read_dump(from_file)
        except ValueError as exc:
            raise click.BadParameter(f"{from_file.name}: {exc}", param_hint="--from-file") from None
        if dry_run:
            chosen = [m for m in messages if all(w.matches(m) for w in filters)][:limit]
            for message in chosen:
                click.echo(f"would send {message['MessageId']} to {destination}: {message['Body'][:120]}")
            click.echo(f"{len(chosen)} message(s) would be sent to {destination}")
            return
        with click.progressbar(length=len(messages), label=f"{from_file.name} -> {destination}", file=sys.stderr) as bar:
            sent = replaying.send_dump(messages, destination, filters, limit, rate, bar.update)
        click.echo(f"{sent} message(s) sent to {destination}")
        return

    source = replaying.dead_letter_queue(queue)
    if dry_run:
        lines = replaying.dump(queue, filters, limit)
        for line in lines:
            data = json.loads(line)
            click.echo(f"would move {data['message_id']} to {destination}: {data['body'][:120]}")
        click.echo(f"{len(lines)} message(s) would move from {source} to {destination}")
        return
    if not (filters or limit):
        handle = replaying.start_move_task(source, destination, rate)
        if handle:
            click.echo(f"SQS is moving {source} to {destination} (task {handle})")
            return
    from fleet.status import queue_status

    waiting = next(r.dead_lettered for r in queue_status() if r.name == queue)
    with click.progressbar(length=limit or waiting, label=f"{source} -> {destination}", file=sys.stderr) as bar:
        moved = replaying.move(source, destination, filters, limit, rate, bar.update)
    click.echo(f"{moved} message(s) moved from {source} to {destination}")


def _replay_on_failure(queue: str, function: str, limit: int | None, dry_run: bool) -> None:
    from fleet.replay import parked, replay_queue

    if dry_run:
        batches = parked(queue, limit)
        for info in batches:
            click.echo(
                f"would invoke {function} again on {info.get('batchSize')} record(s) "
                f"{info.get('startSequenceNumber')}..{info.get('endSequenceNumber')} of {info.get('shardId')}"
            )
        click.echo(f"{len(batches)} failure record(s) would be replayed")
        return
    maximum = 1000 if limit is None else limit
    with click.progressbar(length=maximum, label=f"{queue} -> {function}", file=sys.stderr) as bar:
        replayed, failed = replay_queue(queue, maximum, bar.update)
    click.echo(f"{replayed} failure record(s) replayed, {failed} still failing (left on the queue)")
    if failed:
        sys.exit(1)


@click.command("replay-stream-failures")
@click.argument("function_name")
@click.option("--max", "maximum", default=100, show_default=True, help="At most this many failure records.")
@click.pass_context
def replay_stream_failures(ctx: click.Context, function_name: str, maximum: int) -> None:
    """Deliver again the stream records parked on FUNCTION_NAME's on-failure queue (`fleet replay QUEUE` by function)."""
    from events.topology import TOPOLOGY
    from fleet.replay import on_failure_queues

    parking = {f.name: on_failure_queues(f.name) for f in TOPOLOGY.functions}
    queues = parking.get(function_name)
    if not queues:
        known = ", ".join(name for name, found in parking.items() if found)
        raise click.ClickException(f"no function {function_name!r} with a stream on-failure queue (one of: {known})")
    if len(queues) > 1:
        raise click.ClickException(f"{function_name} parks failures on {', '.join(queues)}: fleet replay QUEUE for each")
    ctx.invoke(replay, queue=queues[0], limit=maximum)


@click.group()
def dlq() -> None:
    """Read dead-letter queues."""


@dlq.command("dump")
@click.argument("queue")
@click.option("--limit", type=click.IntRange(min=1), help="At most N messages.")
@click.option("--where", "where", multiple=True, help="FIELD=VALUE: a message attribute, or body.PATH into the JSON body.")
def dlq_dump(queue: str, limit: int | None, where: tuple[str, ...]) -> None:
    """Print QUEUE's dead-lettered messages as JSON lines, without consuming them."""
    from fleet.replay import dump

    filters = _where(where)
    _topology_queue(queue, "QUEUE")
    lines = dump(queue, filters, limit)
    for line in lines:
        click.echo(line)
    click.echo(f"{len(lines)} message(s) dumped; they stay in the dead-letter queue", err=True)


COMMANDS = [status, replay, replay_stream_failures, dlq]
