"""Commands for a developer's fleet on this machine: `up`, `outbox`, `token`."""

from __future__ import annotations

import os
import signal
import sys
import threading

import click

from events.topology import TOPOLOGY
from fleet.runtime import credentials
from fleet.runtime.processes import API_THREADS, API_WORKERS
from lambda_platform import settings
from lambda_platform.access import MAX_TOKEN_SECONDS


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on (loopback).")
@click.option("--aws-port", default=4566, show_default=True, help="Port of the embedded AWS (moto's server).")
@click.option("--api-port", default=8080, show_default=True, help="Port of the API.")
@click.option(
    "--edge-port", default=8081, show_default=True, help="Port of the local edge (the distribution's behaviours, cached)."
)
@click.option(
    "--external",
    is_flag=True,
    help="Use the AWS at AWS_ENDPOINT_URL (LocalStack, say) instead of starting the embedded one.",
)
@click.option(
    "--no-edge",
    is_flag=True,
    help="Neither provision the distribution nor serve the local edge (an AWS without CloudFront); the API serves on.",
)
@click.option("--no-demo", is_flag=True, help="Do not store the demo campaign (id `demo`, open for 30 days).")
@click.option(
    "--enforce-iam/--no-enforce-iam",
    default=lambda: os.environ.get("FLEET_ENFORCE_IAM", "") == "1",
    show_default="FLEET_ENFORCE_IAM=1",
    help="Check every call against the signer's IAM policy, each process signing as its own role (`fleet iam`).",
)
@click.option(
    "--aws-split/--no-aws-split",
    default=True,
    show_default=True,
    help="The embedded AWS as two processes, DynamoDB in its own (both cores); one under --enforce-iam.",
)
@click.option(
    "--reload/--no-reload",
    default=True,
    show_default=True,
    help="Restart the API and the workers when a source file changes (moto's state stays).",
)
@click.option(
    "--api-workers",
    default=API_WORKERS,
    show_default=True,
    type=click.IntRange(1, 16),
    help="gunicorn worker processes of the API.",
)
@click.option(
    "--api-threads", default=API_THREADS, show_default=True, type=click.IntRange(1, 64), help="Threads of each API worker."
)
def up(
    host: str,
    aws_port: int,
    api_port: int,
    edge_port: int,
    external: bool,
    no_edge: bool,
    no_demo: bool,
    enforce_iam: bool,
    aws_split: bool,
    reload: bool,
    api_workers: int,
    api_threads: int,
) -> None:
    """Run the whole fleet locally: AWS, the API, a poller for every trigger and the edge, each in its own process."""
    from fleet.runtime.supervisor import Output, ProcessFailed, Supervisor
    from lambda_platform import aws

    os.environ.setdefault("FLEET_STAGE", "local")
    if external:
        if not os.environ.get("AWS_ENDPOINT_URL"):
            raise click.UsageError("--external needs AWS_ENDPOINT_URL")
        if enforce_iam:
            raise click.UsageError("--enforce-iam needs the embedded AWS (moto's enforcement), not --external")
    else:
        os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{aws_port}"
    from fleet.runtime import moto_split

    dynamodb_port = None
    if not external:
        for name in moto_split.VARIABLES:  # the embedded AWS decides where DynamoDB is
            os.environ.pop(name, None)
        if aws_split and not enforce_iam:  # moto checks a call against the IAM state of its own process
            dynamodb_port = _free_port(host)
            os.environ.update(moto_split.endpoint_variables(f"http://{host}:{dynamodb_port}"))
    # What the workers and `fleet publish` purge: this fleet's edge, wherever it serves.
    os.environ["FLEET_EDGE_URL"] = f"http://{host}:{edge_port}"
    # A fleet of this state directory signed with the profiles of its last enforcing run: not this one.
    os.environ.pop(credentials.PROFILE_VARIABLE, None)
    os.environ.pop(credentials.CONFIG_VARIABLE, None)
    settings.reset()
    aws.reset()
    credentials.config_path().unlink(missing_ok=True)
    if settings.current().stage != "local":
        raise click.UsageError("fleet up runs the local stage only; unset FLEET_STAGE")
    for port in ([] if external else [aws_port]) + [api_port] + ([] if no_edge else [edge_port]):
        _require_free_port(host, port)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    api_args = ["--workers", str(api_workers), "--threads", str(api_threads)]
    roles = _roles(
        host, aws_port, api_port, external, api_args, edge_port=None if no_edge else edge_port, dynamodb_port=dynamodb_port
    )
    output = Output([r.name for r in roles] + (["reload"] if reload else []))
    fleet = Supervisor(roles, output, stop)
    code = 0
    try:
        if not external:
            fleet.start("aws")
        where = f", DynamoDB in its own process at http://{host}:{dynamodb_port}" if dynamodb_port else ""
        output.line(f"AWS       {settings.current().endpoint_url}" + ("" if external else f" (embedded moto{where})"))
        _prepare(output, no_demo, api_url=f"http://{host}:{api_port}", topology=_without_edge(TOPOLOGY) if no_edge else TOPOLOGY)
        if enforce_iam:
            _enforce_iam(fleet, output)
        fleet.start(*[r.name for r in roles if r.name != "aws"])
        api_url, edge_url = f"http://{host}:{api_port}", f"http://{host}:{edge_port}"
        output.line(f"API       {api_url}")
        output.line(_limit_line())
        if no_edge:
            output.line("edge      off (--no-edge): no distribution provisioned, no site or blog served; the API serves all")
        else:
            output.line(f"edge      {edge_url} (the distribution's behaviours over the site bucket and the API, cached)")
            output.line(f"blog      {edge_url}/blog/")
        output.line(f"outbox    {api_url}/_local/outbox (or: fleet outbox)")
        output.line(f"dashboard {api_url}/_local/dashboard (queues, triggers, failures, replays: live)")
        output.line(f"issuer    {api_url}/_local/issuer (tokens: fleet token --user NAME)")
        if not no_demo and not no_edge:
            from fleet.demo import DEMO_CAMPAIGN_ID, entry_page_url

            output.line(
                f"demo page {entry_page_url(edge_url, DEMO_CAMPAIGN_ID)} (campaign {DEMO_CAMPAIGN_ID!r}, through the edge)"
            )
        fleet.print_processes()
        changes = _watch(stop) if reload else None
        output.line("ready. Ctrl-C stops everything." + (" Saved code reloads." if reload else ""))
        code = _supervise(fleet, stop, changes, output)
        if code == 0:
            output.line("stopping")
    except (ProcessFailed, TimeoutError) as failed:
        if not stop.is_set():
            output.line(str(failed), err=True)
            code = 1
    finally:
        stop.set()
        fleet.stop_all()
    output.line("stopped")
    if code:
        sys.exit(code)


def _roles(
    host: str,
    aws_port: int,
    api_port: int,
    external: bool,
    api_args: list[str],
    edge_port: int | None = 8081,
    dynamodb_port: int | None = None,
) -> list:
    """The fleet's processes: moto's (unless external), the API under gunicorn, the workers, the edge (unless None)."""
    from fleet.runtime.supervisor import Role

    env = dict(os.environ)
    python = sys.executable
    roles = []
    if not external:
        # Faults hook botocore in the callers; moto's process calls nothing.
        aws_env = {k: v for k, v in env.items() if k not in ("FLEET_FAULTS", "FLEET_FAULTS_SEED")}
        argv = [python, "-m", "fleet.runtime.processes", "aws", "--host", host, "--port", str(aws_port)]
        if dynamodb_port is not None:
            argv += ["--dynamodb-port", str(dynamodb_port)]
        roles.append(Role("aws", argv, aws_env, essential=True))
    api = [python, "-m", "fleet.runtime.gunicorn_app", "--host", host, "--port", str(api_port), *api_args]
    # Each its own copy: --enforce-iam gives each process its own signing profile.
    roles.append(Role("api", api, dict(env)))
    roles.append(Role("workers", [python, "-m", "fleet.runtime.processes", "workers"], dict(env), waits_for_go=True))
    if edge_port is not None:
        edge = [
            python,
            "-m",
            "fleet.edge.server",
            "--host",
            host,
            "--port",
            str(edge_port),
            "--api-url",
            f"http://{host}:{api_port}",
        ]
        roles.append(Role("edge", edge, dict(env)))
    return roles


def _without_edge(topology):
    """The topology less its distribution (`--no-edge`): the site's bucket stays, CloudFront is never asked."""
    from dataclasses import replace

    return replace(topology, site=None)


#: The per-client limit that `fleet up` suggests for a load test from one machine.
LOAD_TEST_RATE = 100000


def _limit_line() -> str:
    """The per-client limit of the local API, and how to lift it for a load test."""
    current = settings.current()
    line = f"limit     {current.rate_per_client} requests a minute per client address (FLEET_RATE_PER_CLIENT)"
    if current.rate_per_client < LOAD_TEST_RATE:
        line += f"; a load test from this machine is one client: FLEET_RATE_PER_CLIENT={LOAD_TEST_RATE} fleet up"
    return line


def _prepare(output, no_demo: bool, api_url: str, topology=TOPOLOGY) -> None:
    """Once, before the API and the workers start: provision, publish the site, the demo campaign, the issuer's key."""
    from fleet.provision import provision
    from lambda_platform import access, faults

    with faults.suspended():  # FLEET_FAULTS tests the fleet, not its setup
        changes = provision(topology)
        if not no_demo:
            from fleet.demo import create_demo_campaign

            create_demo_campaign()
    counts = {a: sum(1 for c in changes if c.action == a) for a in dict.fromkeys(c.action for c in changes)}
    output.line(f"provisioned {len(changes)} resources ({', '.join(f'{v} {k}' for k, v in counts.items())})")
    try:
        _publish(output)
    except FileNotFoundError as exc:  # a folder of the site not written yet: the rest of the fleet serves
        output.line(f"not published: {exc}; the edge answers 404 for what the bucket lacks", err=True)
    current = settings.current()
    if not current.cognito_issuer:
        access.signing_key(current.state_dir)  # made once here, not raced by the API's workers


def _enforce_iam(fleet, output) -> None:
    """Make the local operator and every principal's profile, give each process its own, switch enforcement on."""
    from fleet.iam import OPERATOR
    from fleet.provision import stage_principals

    endpoint = settings.current().endpoint_url or ""
    found = stage_principals()
    made = credentials.prepare(found, endpoint)
    fleet.roles["api"].env.update(made.env(TOPOLOGY.api.name))
    fleet.roles["workers"].env.update(made.env(TOPOLOGY.workers.name))
    # The edge stands in for CloudFront, which reads the site bucket by its own grant on AWS.
    if "edge" in fleet.roles:
        fleet.roles["edge"].env.update(made.env(OPERATOR))
    credentials.enforce(endpoint)
    credentials.sign_as(made, OPERATOR)  # this supervisor's own calls from now on (a reload's publish)
    output.line(f"IAM       enforced: each process signs as its role (fleet iam); profiles in {made.config_file}")


def _publish(output) -> None:
    """The site's changed files into the site bucket (the edge reads them there), and the edge purged of them."""
    from fleet.publish import publish
    from lambda_platform import faults
    from lambda_platform.composition import Ports

    with faults.suspended():
        done = publish(edge=Ports().edge)
    output.line(f"published the site: {len(done.uploaded)} uploaded, {len(done.deleted)} deleted, {done.unchanged} unchanged")


def _watch(stop: threading.Event):
    import queue

    from fleet.runtime.reload import watch_sources

    changes: queue.Queue = queue.Queue()
    watch_sources(changes, stop)
    return changes


def _supervise(fleet, stop: threading.Event, changes, output) -> int:
    """Watch the processes until Ctrl-C (0) or moto's death (1); reload on each change, and publish it."""
    import queue

    while not stop.is_set():
        code = fleet.watch_once()
        if code is not None:
            return code
        if changes is None:
            stop.wait(0.2)
            continue
        changed: set[str] = set()
        try:
            changed.update(changes.get(timeout=0.2))  # a change is taken at once, not on the next round
            while True:
                changed.update(changes.get_nowait())
        except queue.Empty:
            pass
        if changed and not stop.is_set() and fleet.reload(sorted(changed)):
            try:
                _publish(output)  # a page or script of the site changed: the edge reads the bucket
            except Exception as exc:  # noqa: BLE001 - the fleet serves on; the developer sees why the site did not follow
                output.line(f"not published: {exc}", err=True)
    return 0


def _free_port(host: str) -> int:
    """A port nothing listens on now, for DynamoDB's moto."""
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


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
    """The emails the local SES accepted: to, subject, what SES reported of each (delivered, bounced...) and the first lines of text."""
    from lambda_platform.outbox import OutboxUnavailable, read_outbox

    if not settings.current().local:
        raise click.UsageError("the outbox exists on the local stage only")
    try:
        emails = read_outbox()
    except OutboxUnavailable as unavailable:
        raise click.ClickException(str(unavailable)) from None
    shown = emails[-last:] if last else emails
    click.echo(f"{len(emails)} email{'' if len(emails) == 1 else 's'} in the local outbox")
    statuses = _outcomes([email.message_id for email in shown])
    for email in shown:
        click.echo("")
        click.echo(f"to:      {', '.join(email.to)}")
        click.echo(f"subject: {email.subject}")
        click.echo(f"status:  {statuses[email.message_id]}")
        for line in email.text_lines(lines):
            click.echo(f"  {line}")


def _outcomes(message_ids: list[str]) -> dict[str, str]:
    """Each email's status from SES's feedback as the stage applied it (`events.email_feedback.outcome`)."""
    from events.email_feedback import outcome
    from lambda_platform.composition import Ports

    events = Ports().email_events
    return {
        i: outcome([(str(e["event"]).split("#")[0], str(e.get("bounce_type", ""))) for e in events.of_message(i)])
        for i in message_ids
    }


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
    from lambda_platform import access

    current = settings.current()
    if not current.local:
        raise click.UsageError("fleet token signs local tokens only; on AWS, users sign in with Cognito")
    try:
        key = access.signing_key(current.state_dir, create=False)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(access.issue_token(key, access.local_issuer(api_url), current.cognito_client_id, username, ttl))


COMMANDS = [up, outbox, token]
