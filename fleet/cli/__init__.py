"""The `fleet` command line."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from datetime import datetime, timezone
from typing import Any

import click

from fleet import settings


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class FleetGroup(click.Group):
    """Turns an unreachable AWS endpoint into a one-line error instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from botocore.exceptions import EndpointConnectionError

        from fleet.errors import RetryLater

        try:
            return super().invoke(ctx)
        except (RetryLater, EndpointConnectionError) as exc:
            if not isinstance(exc, EndpointConnectionError) and "EndpointConnectionError" not in str(exc):
                raise
            endpoint = settings.current().endpoint_url or "AWS"
            hint = " Is `fleet up` (or `make run`) running?" if settings.current().local else ""
            raise click.ClickException(f"cannot reach {endpoint}.{hint}") from None


@click.group(cls=FleetGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Fleet: an event-driven worker fleet behind a thin ingestion API."""
    _configure_logging(verbose)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on (loopback).")
@click.option("--aws-port", default=4566, show_default=True, help="Port of the embedded AWS (moto's server).")
@click.option("--api-port", default=8080, show_default=True, help="Port of the API.")
@click.option(
    "--external",
    is_flag=True,
    help="Use the AWS at AWS_ENDPOINT_URL (LocalStack, say) instead of starting the embedded one.",
)
@click.option("--no-demo", is_flag=True, help="Do not store the demo campaign (id `demo`, open for 30 days).")
def up(host: str, aws_port: int, api_port: int, external: bool, no_demo: bool) -> None:
    """Run the whole fleet locally: AWS, the API and a poller for every trigger."""
    from fleet import aws
    from fleet.provision import provision
    from fleet.runtime.local import ApiServer, EmbeddedAws, LocalRuntime

    os.environ.setdefault("FLEET_STAGE", "local")
    embedded = None
    if external:
        if not os.environ.get("AWS_ENDPOINT_URL"):
            raise click.UsageError("--external needs AWS_ENDPOINT_URL")
    else:
        embedded = EmbeddedAws(host, aws_port)
        os.environ["AWS_ENDPOINT_URL"] = embedded.endpoint_url
    settings.reset()
    aws.reset()
    if settings.current().stage != "local":
        raise click.UsageError("fleet up runs the local stage only; unset FLEET_STAGE")

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    for port in ([aws_port] if embedded else []) + [api_port]:
        _require_free_port(host, port)

    api = runtime = None
    try:
        if embedded:
            embedded.start()
        click.echo(f"fleet: AWS       {settings.current().endpoint_url}" + ("" if external else " (embedded moto)"))
        from fleet import faults

        with faults.suspended():  # FLEET_FAULTS tests the fleet, not its setup
            changes = provision()
        counts = {a: sum(1 for c in changes if c.action == a) for a in dict.fromkeys(c.action for c in changes)}
        click.echo(f"fleet: provisioned {len(changes)} resources ({', '.join(f'{v} {k}' for k, v in counts.items())})")
        api = ApiServer(host, api_port)
        api.start()
        click.echo(f"fleet: API       {api.url}")
        runtime = LocalRuntime()
        runtime.start()
        for poller in [*runtime.pollers, *runtime.stream_pollers]:
            click.echo(f"fleet: poller    {poller.name}")
        click.echo(f"fleet: outbox    {api.url}/_local/outbox (or: fleet outbox)")
        click.echo(f"fleet: issuer    {api.url}/_local/issuer (tokens: fleet token --user NAME)")
        if not no_demo:
            from fleet.demo import create_demo_campaign, entry_page_url

            demo = create_demo_campaign()
            click.echo(f"fleet: demo page {entry_page_url(api.url, demo.campaign_id)} (campaign {demo.campaign_id!r})")
        click.echo("fleet: ready. Ctrl-C stops everything.")
        while not stop.wait(0.5):
            pass
        click.echo("fleet: stopping")
    finally:
        if runtime:
            runtime.stop()
        if api:
            api.stop()
        if embedded:
            embedded.stop()
    click.echo("fleet: stopped")


def _require_free_port(host: str, port: int) -> None:
    import socket

    with socket.socket() as sock:
        # As the servers do: a port left in TIME_WAIT by the last run is free to take.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise click.ClickException(f"{host}:{port} is taken ({exc.strerror}); is another fleet running?") from None


def _use_stage(stage: str | None) -> None:
    if stage:
        from fleet import aws

        os.environ["FLEET_STAGE"] = stage
        settings.reset()
        aws.reset()


@main.command("provision")
@click.option("--stage", default=None, help="The Fleet stage (default: FLEET_STAGE, else local).")
def provision_command(stage: str | None) -> None:
    """Create or correct every resource in the topology (idempotent)."""
    from fleet.provision import provision

    _use_stage(stage)
    changes = provision(report=lambda change: click.echo(str(change)))
    changed = sum(1 for c in changes if c.action not in ("unchanged", "deferred", "pending"))
    click.echo(f"{len(changes)} resources, {changed} changed")


@main.command("wire")
@click.option("--stage", default=None, help="The Fleet stage (default: FLEET_STAGE, else local).")
def wire_command(stage: str | None) -> None:
    """After a deploy: event source mappings, pipes, the S3 notification and the usage plan (idempotent)."""
    from fleet.wire import wire

    _use_stage(stage)
    changes = wire(report=lambda change: click.echo(str(change)))
    changed = sum(1 for c in changes if c.action not in ("unchanged", "deferred"))
    click.echo(f"{len(changes)} wired, {changed} changed")


@main.command("zappa-settings")
@click.option("--stage", default=None, help="The Fleet stage to deploy (default: prod).")
@click.option("--check", is_flag=True, help="Exit 1 when zappa_settings.json differs from the rendering.")
@click.option("--output", default="zappa_settings.json", show_default=True, help="Where to write it.")
def zappa_settings_command(stage: str | None, check: bool, output: str) -> None:
    """Render zappa_settings.json (the api and workers stages) from the topology."""
    from pathlib import Path

    from fleet.zappa_config import DEFAULT_STAGE, render_json

    text = render_json(stage or DEFAULT_STAGE)
    path = Path(output)
    if check:
        if not path.exists() or path.read_text() != text:
            raise click.ClickException(f"{path} differs from the topology: run fleet zappa-settings")
        click.echo(f"{path} matches the topology")
        return
    path.write_text(text)
    click.echo(f"wrote {path}")


@main.command()
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 when any dead-letter or on-failure queue holds messages (for cron and CI); peeks only those.",
)
def status(check: bool) -> None:
    """Messages visible, in flight and dead-lettered, and the oldest one's age, for every queue."""
    from fleet.status import format_age, on_failure_queues, queue_status

    rows = queue_status(ages=True, source_ages=not check)
    parking = on_failure_queues()
    width = max(len(r.name) for r in rows)
    click.echo(
        f"{'queue':<{width}}  {'visible':>8}  {'in flight':>9}  {'oldest':>6}  {'dead-lettered':>13}  {'oldest':>6}"
    )
    for row in rows:
        click.echo(
            f"{row.name:<{width}}  {row.visible:>8}  {row.in_flight:>9}  {format_age(row.oldest_age):>6}"
            f"  {row.dead_lettered:>13}  {format_age(row.oldest_dead_age):>6}"
        )
    if check:
        troubled = [r for r in rows if r.dead_lettered or (r.name in parking and r.visible + r.in_flight)]
        for row in troubled:
            held = row.dead_lettered + (row.visible + row.in_flight if row.name in parking else 0)
            click.echo(f"check: {row.name} holds {held} failed message(s); see: fleet replay {row.name}", err=True)
        if troubled:
            sys.exit(1)
        click.echo("check: no dead-lettered or parked messages")


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


@main.command()
@click.argument("queue")
@click.option("--to", "target", help="Send to this topology queue instead of QUEUE.")
@click.option("--limit", type=click.IntRange(min=1), help="Move at most N messages.")
@click.option("--dry-run", is_flag=True, help="List what would move; move nothing.")
@click.option("--where", "where", multiple=True, help="FIELD=VALUE: a message attribute, or body.PATH into the JSON body.")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), help="At most N messages a second.")
@click.option("--from-file", "from_file", type=click.File("r"), help="Send the messages of a `fleet dlq dump` file to QUEUE.")
def replay(queue, target, limit, dry_run, where, rate, from_file) -> None:
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
            raise click.UsageError(f"{queue} is an on-failure queue: its records go back to {function}; only --limit and --dry-run apply")
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
    from fleet import replay as replaying
    from fleet.adapters.queues import queue_url
    from fleet.runtime.streams import replay_failures

    if dry_run:
        url = queue_url(queue)
        held = list(replaying.peek(url, limit=limit))
        replaying.release(url, held)
        for message in held:
            info = json.loads(message["Body"]).get("DDBStreamBatchInfo", {})
            click.echo(
                f"would invoke {function} again on {info.get('batchSize')} record(s) "
                f"{info.get('startSequenceNumber')}..{info.get('endSequenceNumber')} of {info.get('shardId')}"
            )
        click.echo(f"{len(held)} failure record(s) would be replayed")
        return
    maximum = limit or 1000
    with click.progressbar(length=maximum, label=f"{queue} -> {function}", file=sys.stderr) as bar:
        replayed, failed = replay_failures(function, maximum, bar.update)
    click.echo(f"{replayed} failure record(s) replayed, {failed} still failing (left on the queue)")
    if failed:
        sys.exit(1)


@main.group()
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


@main.command()
@click.option("--lines", default=3, show_default=True, help="Lines of text shown per email.")
@click.option("--last", "last", default=0, help="Only the last N emails (0: all).")
def outbox(lines: int, last: int) -> None:
    """The emails the local SES accepted: to, subject and the first lines of text."""
    from fleet.outbox import read_outbox

    if not settings.current().local:
        raise click.UsageError("the outbox exists on the local stage only")
    emails = read_outbox()
    shown = emails[-last:] if last else emails
    click.echo(f"{len(emails)} email{'' if len(emails) == 1 else 's'} in the local outbox")
    for email in shown:
        click.echo("")
        click.echo(f"to:      {', '.join(email.to)}")
        click.echo(f"subject: {email.subject}")
        for line in email.text_lines(lines):
            click.echo(f"  {line}")


@main.command("replay-stream-failures")
@click.argument("function_name")
@click.option("--max", "maximum", default=100, show_default=True, help="At most this many failure records.")
def replay_stream_failures(function_name: str, maximum: int) -> None:
    """Deliver again the stream records parked on FUNCTION_NAME's on-failure queue."""
    from fleet.runtime.streams import replay_failures

    replayed, failed = replay_failures(function_name, maximum)
    click.echo(f"{replayed} failure record(s) replayed, {failed} still failing (left on the queue)")
    if failed:
        sys.exit(1)


@main.group()
def campaigns() -> None:
    """Create and list campaigns."""


@campaigns.command("create")
@click.argument("campaign_id")
@click.option("--name", required=True, help="The campaign's public name.")
@click.option("--opens", required=True, help="When entries open, ISO 8601 with a time zone.")
@click.option("--closes", required=True, help="When entries close, ISO 8601 with a time zone.")
@click.option("--max-entries-per-email", default=1, show_default=True, help="Entries one email address may make.")
def campaigns_create(campaign_id: str, name: str, opens: str, closes: str, max_entries_per_email: int) -> None:
    """Create or replace a campaign."""
    from marshmallow import ValidationError

    from events.models import Campaign
    from events.schemas import CampaignSchema
    from fleet.adapters.tables import DynamoCampaigns

    try:
        data = CampaignSchema().load(
            {
                "campaign_id": campaign_id,
                "name": name,
                "opens_at": opens,
                "closes_at": closes,
                "max_entries_per_email": max_entries_per_email,
            }
        )
    except ValidationError as exc:
        names = {"opens_at": "--opens", "closes_at": "--closes", "campaign_id": "CAMPAIGN_ID"}
        problems = "; ".join(f"{names.get(k, '--' + k.replace('_', '-'))}: {' '.join(v)}" for k, v in exc.messages.items())
        raise click.BadParameter(problems) from None
    campaign = Campaign(**data)
    DynamoCampaigns().put(campaign)
    click.echo(f"campaign {campaign.campaign_id} saved: {campaign.name}, {_window(campaign)}")


@campaigns.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
def campaigns_list(as_json: bool) -> None:
    """Every campaign, whether it is open now, and its stored entries."""
    from fleet.adapters.tables import DynamoCampaigns

    store = DynamoCampaigns()
    now = datetime.now(timezone.utc)
    found = store.list()
    if not found and not as_json:
        click.echo("no campaigns")
    for campaign in found:
        entries = store.count_entries(campaign.campaign_id)
        state = "open" if campaign.is_open(now) else "closed"
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "campaign_id": campaign.campaign_id,
                        "name": campaign.name,
                        "opens_at": campaign.opens_at.isoformat(),
                        "closes_at": campaign.closes_at.isoformat(),
                        "max_entries_per_email": campaign.max_entries_per_email,
                        "open": campaign.is_open(now),
                        "entries": entries,
                    }
                )
            )
        else:
            click.echo(f"{campaign.campaign_id}  {state:<6}  {entries:>7} entries  {campaign.name}  ({_window(campaign)})")


def _window(campaign) -> str:
    return (
        f"{campaign.opens_at.isoformat()} to {campaign.closes_at.isoformat()}, "
        f"{campaign.max_entries_per_email} per email"
    )


if __name__ == "__main__":
    main()


@main.group()
def keys() -> None:
    """API keys for integrations and admins (stored hashed; shown once)."""


@keys.command("create")
@click.option("--name", required=True, help="Who or what the key is for.")
@click.option("--scope", "scopes", multiple=True, required=True, help="A scope (repeat for more): articles:write, subscriptions:write, campaigns:write.")
def keys_create(name: str, scopes: tuple[str, ...]) -> None:
    """Make a key and print it once: only its hash is kept."""
    from fleet.access import new_key
    from fleet.adapters.access import DynamoApiKeys

    try:
        key, record = new_key(name, list(scopes), DynamoApiKeys())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scope") from None
    click.echo(key)
    click.echo(f"key id {record['key_id']}, name {name!r}, scopes {' '.join(record['scopes'])}: keep it now, it is not shown again", err=True)


@keys.command("revoke")
@click.argument("key_id_or_name")
def keys_revoke(key_id_or_name: str) -> None:
    """Revoke the keys with this key id or name."""
    from fleet.access import revoke
    from fleet.adapters.access import DynamoApiKeys

    revoked = revoke(key_id_or_name, DynamoApiKeys())
    if not revoked:
        raise click.ClickException(f"no active key with id or name {key_id_or_name!r}")
    for record in revoked:
        click.echo(f"revoked {record['key_id']} ({record['name']})")


@keys.command("list")
def keys_list() -> None:
    """Every key: id, name, scopes, whether revoked (never the key)."""
    from fleet.adapters.access import DynamoApiKeys

    for record in sorted(DynamoApiKeys().list(), key=lambda r: r.get("created_at", "")):
        state = "revoked" if record.get("revoked") else "active"
        click.echo(f"{record['key_id']}  {state:7}  {record['name']}  {' '.join(record.get('scopes', []))}")


@main.command()
@click.option("--user", "username", required=True, help="The local user's name (its subject is derived from it).")
@click.option("--api-url", default="http://127.0.0.1:8080", show_default=True, help="The local API the token is for.")
@click.option("--ttl", default=3600, show_default=True, help="Seconds the token is good for.")
def token(username: str, api_url: str, ttl: int) -> None:
    """Print a bearer token of the local development issuer (local stage only)."""
    from fleet import access

    current = settings.current()
    if not current.local:
        raise click.UsageError("fleet token signs local tokens only; on AWS, users sign in with Cognito")
    try:
        key = access.signing_key(current.state_dir, create=False)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(access.issue_token(key, access.local_issuer(api_url), current.cognito_client_id, username, ttl))
