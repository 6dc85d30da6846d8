"""`fleet campaigns codes`: a campaign's pool of discount codes."""

from __future__ import annotations

from typing import BinaryIO

import click

from fleet.cli.context import command_ports


@click.group()
def codes() -> None:
    """Import a campaign's discount codes and see what is left of its pool."""


def decode_lines(data: bytes) -> list[str]:
    """The file's lines, each decoded as UTF-8; a line that is not is refused by number."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline that ends the last line starts no line of its own
    decoded: list[str] = []
    for number, raw in enumerate(lines, start=1):
        try:
            decoded.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise click.ClickException(
                f"line {number} is not UTF-8 (byte {exc.start + 1} of the line): save the file as UTF-8; nothing was imported"
            ) from None
    return decoded


def _code_campaign(campaign_id: str) -> None:
    """Refuse a campaign that is not stored or gives no codes."""
    campaign = command_ports().campaigns.get(campaign_id)
    if campaign is None:
        raise click.ClickException(f"no campaign {campaign_id!r}: see `fleet campaigns list`")
    if not campaign.gives_codes:
        raise click.ClickException(f"campaign {campaign_id!r} gives no codes: set gives_codes on it first")


@codes.command("import")
@click.argument("campaign_id")
@click.argument("file", type=click.File("rb"))
def codes_import(campaign_id: str, file: BinaryIO) -> None:
    """Add one code a line of FILE ('-' for stdin) to the pool; then give them to the waitlist in order."""
    from campaigns.codes import import_codes

    lines = decode_lines(file.read())  # the whole file checked before anything is written
    _code_campaign(campaign_id)
    report = import_codes(campaign_id, lines, command_ports().codes)
    for problem in sorted(report.problems + report.already, key=lambda p: p.line):
        click.echo(f"line {problem.line}: {problem.message}", err=True)
    click.echo(
        f"{campaign_id}: {report.added} added, {report.skipped} skipped "
        f"({len(report.problems)} blank or duplicate lines, {len(report.already)} already in the campaign's codes); "
        f"{report.given_to_waitlist} given to waitlisted entries"
    )


@codes.command("status")
@click.argument("campaign_id", required=False)
def codes_status(campaign_id: str | None) -> None:
    """Codes available and given, and entries waitlisted, of one campaign or of every one that gives codes."""
    from campaigns.codes import pool_status

    ports = command_ports()
    if campaign_id is not None:
        _code_campaign(campaign_id)
        found = [c for c in [ports.campaigns.get(campaign_id)] if c is not None]
    else:
        found = ports.campaigns.list()
    statuses = pool_status(found, ports.codes)
    if not statuses:
        click.echo("no campaign gives codes")
    for status in statuses:
        pool = "pool empty" if status.empty else f"{status.available} available"
        click.echo(f"{status.campaign_id}  {pool}  {status.given} given  {status.waitlisted} waitlisted")
