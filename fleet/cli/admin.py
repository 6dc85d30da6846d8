"""Commands for the data an operator manages: `campaigns` and API `keys`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from fleet.cli.context import command_ports


@click.group()
def campaigns() -> None:
    """Create and list campaigns."""


@campaigns.command("create")
@click.argument("campaign_id")
@click.option("--name", required=True, help="The campaign's public name.")
@click.option("--opens", required=True, help="When entries open, ISO 8601 with a time zone.")
@click.option("--closes", required=True, help="When entries close, ISO 8601 with a time zone.")
@click.option("--max-entries-per-email", default=1, show_default=True, help="Entries one email address may make.")
@click.option("--gives-codes", is_flag=True, help="Give each eligible entry one discount code from the campaign's pool.")
@click.option(
    "--draw-includes-unreviewed/--draw-only-approved",
    default=True,
    show_default=True,
    help="Whether the draw picks among entries not reviewed yet, or only among approved ones.",
)
@click.option("--draw-includes-flagged", is_flag=True, help="Let the draw pick entries flagged as duplicate receipts.")
def campaigns_create(
    campaign_id: str,
    name: str,
    opens: str,
    closes: str,
    max_entries_per_email: int,
    gives_codes: bool,
    draw_includes_unreviewed: bool,
    draw_includes_flagged: bool,
) -> None:
    """Create or replace a campaign and its reward settings."""
    from marshmallow import ValidationError

    from events.models import Campaign
    from events.schemas import CampaignSchema

    try:
        data = CampaignSchema().load(
            {
                "campaign_id": campaign_id,
                "name": name,
                "opens_at": opens,
                "closes_at": closes,
                "max_entries_per_email": max_entries_per_email,
                "gives_codes": gives_codes,
                "draw_includes_unreviewed": draw_includes_unreviewed,
                "draw_includes_flagged": draw_includes_flagged,
            }
        )
    except ValidationError as exc:
        names = {"opens_at": "--opens", "closes_at": "--closes", "campaign_id": "CAMPAIGN_ID"}
        problems = "; ".join(
            f"{names.get(k, '--' + k.replace('_', '-'))}: {' '.join(v)}" for k, v in exc.normalized_messages().items()
        )
        raise click.BadParameter(problems) from None
    campaign = Campaign(**data)
    command_ports().campaigns.put(campaign)
    click.echo(f"campaign {campaign.campaign_id} saved: {campaign.name}, {_window(campaign)}")


@campaigns.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
def campaigns_list(as_json: bool) -> None:
    """Every campaign, whether it is open now, and its stored entries."""
    from lambda_platform.adapters.tables import campaign_item

    ports = command_ports()
    now = datetime.now(UTC)
    found = ports.campaigns.list()
    if not found and not as_json:
        click.echo("no campaigns")
    for campaign in found:
        entries = ports.entries.count(campaign.campaign_id)
        state = "open" if campaign.is_open(now) else "closed"
        if as_json:
            click.echo(
                json.dumps(
                    {
                        **campaign_item(campaign),
                        "open": campaign.is_open(now),
                        "entries": entries,
                    }
                )
            )
        else:
            click.echo(
                f"{campaign.campaign_id}  {state:<6}  {entries:>7} entries  {_shown(campaign.name)}  ({_window(campaign)})"
            )


def _shown(name: str) -> str:
    """A stored name as one row's cell: quoted and escaped when it holds what would break
    or reorder the row (one stored before names were checked)."""
    return name if name.isprintable() else repr(name)


def _window(campaign) -> str:
    draw = "unreviewed or approved" if campaign.draw_includes_unreviewed else "approved only"
    return (
        f"{campaign.opens_at.isoformat()} to {campaign.closes_at.isoformat()}, "
        f"{campaign.max_entries_per_email} per email"
        f"{', gives codes' if campaign.gives_codes else ''}, draw: {draw}"
        f"{', flagged too' if campaign.draw_includes_flagged else ''}"
    )


@click.group()
def keys() -> None:
    """API keys for integrations and admins (stored hashed; shown once)."""


@keys.command("create")
@click.option("--name", required=True, help="Who or what the key is for.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    help=(
        "A scope (repeat for more): articles:write, articles:admin (with articles:write: every article, "
        "not only the key's own), subscriptions:write, campaigns:write, campaigns:read."
    ),
)
@click.option(
    "--campaign",
    "campaigns",
    multiple=True,
    metavar="ID",
    help="A campaign the key's campaigns:* scopes reach (repeat for more).",
)
@click.option("--all-campaigns", is_flag=True, help="Let the key's campaigns:* scopes reach every campaign.")
def keys_create(name: str, scopes: tuple[str, ...], campaigns: tuple[str, ...], all_campaigns: bool) -> None:
    """Make a key and print it once: only its hash is kept. A key with a campaigns:* scope
    names its campaigns (--campaign) or says --all-campaigns."""
    from lambda_platform.access import new_key, reach

    try:
        key, record = new_key(name, list(scopes), command_ports().api_keys, list(campaigns), all_campaigns)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(key)
    reaches = reach(record)
    click.echo(
        f"key id {record['key_id']}, name {name!r}, scopes {' '.join(record['scopes'])}"
        f"{f', {reaches}' if reaches else ''}: keep it now, it is not shown again",
        err=True,
    )


@keys.command("revoke")
@click.argument("key_id_or_name")
def keys_revoke(key_id_or_name: str) -> None:
    """Revoke the keys with this key id or name."""
    from lambda_platform.access import revoke

    revoked = revoke(key_id_or_name, command_ports().api_keys)
    if not revoked:
        raise click.ClickException(f"no active key with id or name {key_id_or_name!r}")
    for record in revoked:
        click.echo(f"revoked {record['key_id']} ({record['name']})")


@keys.command("list")
def keys_list() -> None:
    """Every key: id, name, scopes, the campaigns it reaches, whether revoked (never the key)."""
    from lambda_platform.access import reach

    for record in sorted(command_ports().api_keys.list(), key=lambda r: r.get("created_at", "")):
        state = "revoked" if record.get("revoked") else "active"
        reaches = reach(record)
        name = _shown(record["name"])
        click.echo(
            f"{record['key_id']}  {state:7}  {name}  {' '.join(record.get('scopes', []))}{f'  ({reaches})' if reaches else ''}"
        )


COMMANDS = [campaigns, keys]

from fleet.cli.outcome import campaigns_draw, campaigns_export  # noqa: E402

campaigns.add_command(campaigns_export)
campaigns.add_command(campaigns_draw)

from fleet.cli.codes import codes  # noqa: E402

campaigns.add_command(codes)
