"""`fleet campaigns codes`: a campaign's pool of discount codes."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

import click

from fleet.cli.context import command_ports


@click.group()
def codes() -> None:
    """Import a campaign's discount codes and see what is left of its pool."""


@contextlib.contextmanager
def rereadable(file: BinaryIO) -> Iterator[BinaryIO]:
    """The file itself when it can be read twice (a file, or one redirected to stdin); else
    (a pipe) a temporary file that the stream is copied into first, on disk, a block at a time."""
    if file.seekable():
        yield file
        return
    with tempfile.TemporaryFile(prefix="fleet-codes-") as spool:
        shutil.copyfileobj(file, spool)
        spool.seek(0)
        yield spool


def check_utf8(file: BinaryIO) -> None:
    """Read the whole file once, a line at a time, and refuse it by the first line that is not UTF-8."""
    from campaigns.codes import NotUtf8, read_lines

    start = file.tell()
    try:
        for _ in read_lines(file):
            pass
    except NotUtf8 as exc:
        raise click.ClickException(f"{exc}: save the file as UTF-8; nothing was imported") from None
    file.seek(start)


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
    """Add one code a line of FILE ('-' for stdin) to the pool; then give them to the waitlist in order.

    Each line is NFKC-normalised and trimmed; a code is ASCII letters, digits and - _ . and
    codes that differ only by case are one. The file is read twice, a line at a time: once
    to refuse it whole if a line is not UTF-8, then to import it (stdin from a pipe is
    copied to a temporary file first). Lines that add nothing are reported on stderr.
    """
    from campaigns.codes import Problem, import_codes, read_lines

    _code_campaign(campaign_id)

    def report_problem(problem: Problem) -> None:
        click.echo(f"line {problem.line}: {problem.message}", err=True)

    with rereadable(file) as source:
        check_utf8(source)  # nothing is written unless every line is UTF-8
        report = import_codes(campaign_id, read_lines(source), command_ports().codes, report_problem)
    left = f"; {report.left_waitlist} flagged or rejected entries taken off the waitlist" if report.left_waitlist else ""
    click.echo(
        f"{campaign_id}: {report.added} added, {report.skipped} skipped "
        f"({report.problems} blank, duplicate or refused lines, {report.already} already in the campaign's codes); "
        f"{report.given_to_waitlist} given to waitlisted entries{left}"
    )


@codes.command("status")
@click.argument("campaign_id", required=False)
def codes_status(campaign_id: str | None) -> None:
    """Codes available and given, entries waitlisted, and codes given to entries whose address bounced
    (or was suppressed when their email was due), of one campaign or of every one that gives codes."""
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
        # Codes stay given when their email bounces: the operator decides (the export's email_status lists them).
        unmailed = ports.codes.unmailed(status.campaign_id)
        click.echo(
            f"{status.campaign_id}  {pool}  {status.given} given  {status.waitlisted} waitlisted"
            f"  {unmailed} given to bounced addresses"
        )
