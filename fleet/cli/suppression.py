"""`fleet suppression list|remove ADDRESS`: the stage's suppression list, for the operator.

An address is suppressed by `workers.email_feedback` when SES reports a permanent bounce or
a complaint; nothing more is mailed to it. Removing one records who lifted it and when (the
item keeps its last suppression and its last lift), and lifts it from SESv2's account-level
list too where that is on. A later bounce or complaint suppresses it again.
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime

import click

from fleet.cli.context import command_ports


@click.group()
def suppression() -> None:
    """The addresses nothing more is mailed to (bounced or complained)."""


@suppression.command("list")
@click.option("--all", "everything", is_flag=True, help="Lifted addresses too, with who lifted them and when.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def suppression_list(everything: bool, as_json: bool) -> None:
    """Suppressed addresses, oldest first: address, reason, detail, when, SES's message id."""
    shown = [item for item in command_ports().suppressions.entries() if everything or item["active"]]
    for item in shown:
        if as_json:
            click.echo(json.dumps(item, sort_keys=True))
            continue
        line = f"{item['address']}  {item.get('reason', '')}  {item.get('detail', '')}  {item.get('suppressed_at', '')}"
        line += f"  {item.get('ses_message_id', '')}"
        if item.get("lifted_at"):
            line += f"  lifted {item['lifted_at']} by {item.get('lifted_by', '')}"
            line += "" if item["active"] else " (not suppressed)"
        click.echo(line)
    if not as_json:
        active = sum(1 for item in shown if item["active"])
        click.echo(f"{active} address(es) suppressed", err=True)


@suppression.command("remove")
@click.argument("address")
@click.option("--by", default=None, help="Who lifts it, recorded with the lift (default: the login name).")
def suppression_remove(address: str, by: str | None) -> None:
    """Lift ADDRESS from the suppression list, recording who and when; mail goes to it again."""
    who = by or getpass.getuser()
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if not command_ports().suppressions.lift(address, who, at):
        raise click.ClickException(f"{address} is not on the suppression list")
    click.echo(f"{address.strip().lower()} lifted by {who} at {at}")


COMMANDS = [suppression]
