"""The `fleet` command line, one module per audience.

- `local`: a developer's fleet on this machine (`up`, `outbox`, `token`);
- `deploy`: putting a stage on AWS (`provision`, `wire`, `publish`, `zappa-settings`);
- `operations`: watching queues and putting failed work back (`status`, `replay`, `dlq`);
- `admin`: the data an operator manages (`campaigns`, `keys`);
- `suppression`: the addresses nothing more is mailed to (`suppression list|remove`).

`main` is the console script's entry point and `python -m fleet`'s.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from fleet.cli import admin, deploy, local, operations, suppression
from lambda_platform import settings


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
        """Run the command; an AWS endpoint that does not answer, or no credentials, is a ClickException."""
        from botocore.exceptions import EndpointConnectionError, NoCredentialsError

        from lambda_platform.errors import RetryLater

        try:
            return super().invoke(ctx)
        except settings.InvalidSetting as exc:
            raise click.ClickException(str(exc)) from None
        except NoCredentialsError:
            hint = " (`fleet iam --account ID` renders the policies without any)" if ctx.invoked_subcommand == "iam" else ""
            raise click.ClickException(
                f"no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY{hint}"
            ) from None
        except (RetryLater, EndpointConnectionError) as exc:
            if not isinstance(exc, EndpointConnectionError) and "EndpointConnectionError" not in str(exc):
                raise
            endpoint = settings.current().endpoint_url or "AWS"
            hint = " Is `fleet up` (or `make run`) running?" if settings.current().local else ""
            raise click.ClickException(f"cannot reach {endpoint}.{hint}") from None


@click.group(cls=FleetGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Fleet: an event-driven worker fleet behind a thin ingestion API."""
    _configure_logging(verbose)
    if ctx.invoked_subcommand != "up":
        _sign_as_local_operator()


def _sign_as_local_operator() -> None:
    """On the local stage, beside a fleet that enforces IAM, sign as its operator (its profiles' file says so)."""
    import os

    from fleet.runtime import credentials

    if not settings.current().local or os.environ.get(credentials.PROFILE_VARIABLE):
        return
    path = credentials.config_path()
    if path.exists():
        from events.topology import physical_name
        from fleet.iam import OPERATOR
        from lambda_platform import aws

        os.environ[credentials.CONFIG_VARIABLE] = str(path.resolve())
        os.environ[credentials.PROFILE_VARIABLE] = physical_name(settings.current().stage, OPERATOR)
        settings.reset()
        aws.reset()


for _audience in (local, deploy, operations, admin, suppression):
    for _command in _audience.COMMANDS:
        main.add_command(_command)
