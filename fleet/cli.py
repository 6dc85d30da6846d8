"""The `fleet` command line."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from datetime import datetime, timezone

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


@click.group()
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
def up(host: str, aws_port: int, api_port: int, external: bool) -> None:
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
        changes = provision()
        counts = {a: sum(1 for c in changes if c.action == a) for a in ("created", "updated", "unchanged")}
        click.echo(f"fleet: provisioned {len(changes)} resources ({', '.join(f'{v} {k}' for k, v in counts.items())})")
        api = ApiServer(host, api_port)
        api.start()
        click.echo(f"fleet: API       {api.url}")
        runtime = LocalRuntime()
        runtime.start()
        for poller in [*runtime.pollers, *runtime.stream_pollers]:
            click.echo(f"fleet: poller    {poller.name}")
        click.echo(f"fleet: outbox    {api.url}/_local/outbox (or: fleet outbox)")
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
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise click.ClickException(f"{host}:{port} is taken ({exc.strerror}); is another fleet running?") from None


@main.command("provision")
def provision_command() -> None:
    """Create or correct every resource in the topology (idempotent)."""
    from fleet.provision import provision

    changes = provision(report=lambda change: click.echo(str(change)))
    changed = sum(1 for c in changes if c.action != "unchanged")
    click.echo(f"{len(changes)} resources, {changed} changed")


@main.command()
def status() -> None:
    """Messages visible, in flight and dead-lettered, for every queue."""
    from fleet.status import queue_status

    rows = queue_status()
    width = max(len(r.name) for r in rows)
    click.echo(f"{'queue':<{width}}  {'visible':>8}  {'in flight':>9}  {'dead-lettered':>13}")
    for row in rows:
        click.echo(f"{row.name:<{width}}  {row.visible:>8}  {row.in_flight:>9}  {row.dead_lettered:>13}")


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
