"""Commands for a developer's fleet on this machine: `up`, `outbox`, `token`."""

from __future__ import annotations

import os
import signal
import threading

import click

from fleet import settings
from fleet.access import MAX_TOKEN_SECONDS


@click.command()
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


@click.command()
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


@click.command()
@click.option("--user", "username", required=True, help="The local user's name (its subject is derived from it).")
@click.option("--api-url", default="http://127.0.0.1:8080", show_default=True, help="The local API the token is for.")
@click.option(
    "--ttl",
    default=3600,
    show_default=True,
    type=click.IntRange(1, MAX_TOKEN_SECONDS),
    help=f"Seconds the token is good for, at most a day ({MAX_TOKEN_SECONDS}).",
)
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


COMMANDS = [up, outbox, token]
