"""Commands that put a stage on AWS: `provision`, `wire`, `publish`, `zappa-settings`, `iam`."""

from __future__ import annotations

import os

import click

from fleet.cli.context import command_ports
from lambda_platform import settings

#: The stage a command works on; FLEET_STAGE (else `local`) when not given.
stage_option = click.option("--stage", default=None, help="The Fleet stage (default: FLEET_STAGE, else local).")


def _use_stage(stage: str | None) -> None:
    if stage:
        from lambda_platform import aws

        os.environ["FLEET_STAGE"] = stage
        settings.reset()
        aws.reset()


@click.command("provision")
@stage_option
def provision_command(stage: str | None) -> None:
    """Create or correct every resource in the topology (idempotent)."""
    from fleet.provision import provision

    _use_stage(stage)
    changes = provision(report=lambda change: click.echo(str(change)))
    changed = sum(1 for c in changes if c.changed)
    click.echo(f"{len(changes)} resources, {changed} changed")


@click.command("wire")
@stage_option
def wire_command(stage: str | None) -> None:
    """After a deploy: event source mappings, pipes, the S3 notification and the usage plan (idempotent)."""
    from fleet.wire import wire

    _use_stage(stage)
    changes = wire(report=lambda change: click.echo(str(change)))
    changed = sum(1 for c in changes if c.changed)
    click.echo(f"{len(changes)} wired, {changed} changed")


@click.command("publish")
@stage_option
def publish_command(stage: str | None) -> None:
    """Upload the site's changed static files and invalidate exactly what changed (idempotent)."""
    from fleet.publish import publish
    from lambda_platform.errors import NotFound

    _use_stage(stage)
    try:
        done = publish(edge=command_ports().edge, report=click.echo)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    except NotFound as exc:
        raise click.ClickException(f"{exc}: run fleet provision first") from None
    total = done.unchanged + len(done.uploaded)
    click.echo(f"{total} files, {len(done.uploaded)} uploaded, {len(done.deleted)} deleted")


@click.command("zappa-settings")
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


@click.command("iam")
@stage_option
@click.option("--json", "as_json", is_flag=True, help="One JSON document: each principal's role and policy.")
@click.option(
    "--account",
    default=None,
    help="Render for this account id without calling AWS (default: the account of the credentials in use).",
)
def iam_command(stage: str | None, as_json: bool, account: str | None) -> None:
    """Every principal's least-privilege policy, rendered from the topology, for a reviewer.

    The API's and the workers' execution roles, the pipes' role, and the operator's policy
    (who provisions, deploys and operates the stage). `fleet provision` puts the roles in
    place; attach the operator's policy to whoever deploys.
    """
    import json

    from fleet.iam import managed_policies, principals, review_document, stage_facts
    from fleet.provision import stage_principals

    _use_stage(stage)
    found = principals(stage_facts(account=account)) if account else stage_principals()
    if as_json:
        click.echo(json.dumps(review_document(found), indent=2))
        return
    for principal in found.values():
        who = f"assumed by {principal.service}" if principal.service else "attach it to whoever deploys the stage"
        kind = "role" if principal.service else "policy"
        click.echo(f"{principal.key}: {kind} {principal.name} ({who})")
        click.echo(json.dumps(principal.policy, indent=2))
        for sid, why in principal.unscoped.items():
            click.echo(f"  {sid}: Resource * because {why}")
        if principal.service is None:
            parts = len(managed_policies(principal.policy))
            click.echo(f"  as managed policies: {parts} of at most 6,144 characters each (--json: managed_policies)")
        click.echo("")


COMMANDS = [provision_command, wire_command, publish_command, zappa_settings_command, iam_command]
