"""A campaign's outcome from the command line: `fleet campaigns export` and `fleet campaigns draw`.

Both read the campaign's entries through the `by_campaign` index, a page at a time. The
ports are the command's (`fleet.cli.context.command_ports`).
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import click

from events.models import ACCEPTED, DUPLICATE, WAITLISTED, Campaign
from fleet.cli.context import command_ports
from lambda_platform.composition import Ports


def _campaign(ports: Ports, campaign_id: str) -> Campaign:
    found = ports.campaigns.get(campaign_id)
    if found is None:
        raise click.ClickException(f"no campaign {campaign_id!r} (fleet campaigns list shows them)")
    return found


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


@click.command("export")
@click.argument("campaign_id")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    default="csv",
    show_default=True,
    help="CSV for a spreadsheet, or JSON lines.",
)
@click.option("--status", type=click.Choice([ACCEPTED, DUPLICATE, WAITLISTED]), help="Only entries with this status.")
@click.option("--excel", is_flag=True, help="Start the CSV with a byte order mark, so Excel reads it as UTF-8.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write to this file instead of stdout (-: stdout). It is replaced only once the export is whole.",
)
def campaigns_export(campaign_id: str, fmt: str, status: str | None, excel: bool, output: Path | None) -> None:
    """Every entry of a campaign, oldest first, streamed in constant memory.

    Cells that a spreadsheet would run as a formula are written as text; answers are one
    JSON column. A progress bar goes to stderr when it is a terminal, a summary otherwise.
    With -o FILE the export goes to a new file beside FILE, renamed over it once whole: a
    failure or Ctrl-C leaves FILE as it was. An existing FILE that is not a regular file (a
    link, a device) is refused.
    """
    from campaigns.export import ExportOptions

    if excel and fmt != "csv":
        raise click.BadParameter("--excel applies to --format csv only", param_hint="--excel")
    if output is not None and str(output) == "-":
        output = None
    if output is not None:
        _refuse_unless_regular(output)
    ports = command_ports()
    _campaign(ports, campaign_id)
    options = ExportOptions(format=fmt, excel=excel)
    started = time.monotonic()
    if output is None:
        sys.stdout.flush()
        # UTF-8 whatever the locale; newline="" so the csv module's CRLF is written as it is.
        out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
        try:
            written = _export(ports, campaign_id, status, out, options)
        finally:
            out.detach()  # stdout stays open for click
    else:
        written = _replace_whole(output, lambda out: _export(ports, campaign_id, status, out, options))
    elapsed = time.monotonic() - started
    where = f" to {output}" if output else ""
    only = f" {status}" if status else ""
    click.echo(f"exported {written}{only} entries of {campaign_id} as {fmt}{where} in {elapsed:.1f} s", err=True)


def _refuse_unless_regular(target: Path) -> None:
    """Refuse a target that exists and is not a regular file: a link (its target would be
    written), a device, a pipe. A missing one is fine."""
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise click.BadParameter(f"{target} exists and is not a regular file (a link, a device, a pipe)", param_hint="-o")


def _replace_whole(target: Path, write: Callable[[TextIO], int]) -> int:
    """Write to a new file beside `target`, then rename it over `target`: a half export never
    passes for a whole one, and whatever stops it (an error, Ctrl-C) leaves `target` as it was.

    The new file gets the old one's permissions, or what `open` would give a new one."""
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        os.fchmod(fd, _mode_for(target))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            written = write(out)
            out.flush()
            os.fsync(out.fileno())
        _refuse_unless_regular(target)  # what stood there may have changed while the export ran
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return written


def _mode_for(target: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _export(ports: Ports, campaign_id: str, status: str | None, out: TextIO, options: Any) -> int:
    from campaigns.export import export_entries

    entries = ports.entries.iter_campaign(campaign_id, status=status, newest_first=False)

    def lookup_uploads(upload_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {r["upload_id"]: r for r in ports.uploads.get_many(upload_ids)}

    if not _stderr_is_terminal():
        return export_entries(entries, lookup_uploads, out, options)
    # The bar's length is every entry of the campaign: with --status it ends short.
    with click.progressbar(length=ports.entries.count(campaign_id), label="exporting", file=sys.stderr) as bar:
        return export_entries(entries, lookup_uploads, out, options, progress=bar.update)


@click.command("draw")
@click.argument("campaign_id")
@click.option("--winners", type=click.IntRange(min=1), help="How many winners to draw.")
@click.option("--seed", help="The draw's seed (a random one when not given). The same seed and entries give the same winners.")
@click.option(
    "--verify", "verify_seed", metavar="SEED", help="Recompute the stored draw with this seed from today's entries and compare."
)
@click.option(
    "--ids-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the sorted eligible ids, exactly the bytes the digest hashes (sha256sum FILE gives it).",
)
def campaigns_draw(
    campaign_id: str, winners: int | None, seed: str | None, verify_seed: str | None, ids_file: Path | None
) -> None:
    """Draw winners among the eligible entries, reproducibly, and store the draw once per seed.

    Eligible: accepted or waitlisted, not rejected; not reviewed, and flagged as a
    duplicate receipt, only as the campaign says. Winners: the N ids of lowest
    SHA-256("{seed}:{id}"); digest: SHA-256 of the sorted ids joined by newlines.
    """
    from campaigns.draw import TooManyWinners, run_draw

    if verify_seed is not None:
        if winners is not None or seed is not None:
            raise click.UsageError("--verify takes no --winners or --seed")
        _verify(campaign_id, verify_seed, ids_file)
        return
    if winners is None:
        raise click.UsageError("Missing option '--winners' (or --verify SEED).")
    if seed is not None and not seed.strip():
        raise click.BadParameter("a seed cannot be empty", param_hint="--seed")
    ports = command_ports()
    campaign = _campaign(ports, campaign_id)
    try:
        outcome = run_draw(campaign, ports.entries.iter_campaign(campaign_id), winners, ports.draws, seed=seed)
    except TooManyWinners as exc:
        raise click.ClickException(f"{exc}: draw refused, nothing stored") from None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--winners") from None
    draw = outcome.draw
    if outcome.created:
        click.echo(f"draw of {campaign_id} stored")
    else:
        click.echo(f"a draw of {campaign_id} with seed {draw['seed']} was stored already ({draw['drawn_at']}): nothing changed")
        if int(draw["winners_requested"]) != winners:
            click.echo(f"it drew {draw['winners_requested']} winners, not {winners}: use another seed for another draw")
    _print_draw(draw)
    if not outcome.created and outcome.entries_changed:
        click.echo(
            f"the eligible entries changed since: {outcome.eligible_now} now, digest {outcome.digest_now} "
            "(the stored draw stands)"
        )
    _write_ids(ids_file, outcome.ids_now)


def _verify(campaign_id: str, seed: str, ids_file: Path | None) -> None:
    from campaigns.draw import verify_draw

    ports = command_ports()
    campaign = _campaign(ports, campaign_id)
    checked = verify_draw(campaign, ports.entries.iter_campaign(campaign_id), seed, ports.draws)
    if checked is None:
        raise click.ClickException(f"no draw of {campaign_id} with seed {seed!r}")
    _print_draw(checked.draw)
    click.echo(f"eligible now: {checked.eligible_now}, digest {checked.digest_now}")
    _write_ids(ids_file, checked.ids_now)
    if checked.digest_matches and checked.winners_match:
        click.echo("verified: the same eligible entries and the same winners")
        return
    problems = []
    if not checked.digest_matches:
        problems.append("the eligible entries differ from the draw's (digest)")
    if not checked.winners_match:
        problems.append(f"the rule gives other winners today: {', '.join(checked.winners_now) or 'none'}")
    raise click.ClickException("not verified: " + "; ".join(problems))


def _print_draw(draw: Mapping[str, Any]) -> None:
    click.echo(f"seed: {draw['seed']}")
    click.echo(f"eligible entries: {draw['eligible']}")
    click.echo(f"digest (sha256 of the sorted ids joined by newlines): {draw['digest']}")
    click.echo(f"winners ({len(draw['winners'])}):")
    for place, winner in enumerate(draw["winners"], start=1):
        click.echo(f"  {place}. {winner}")


def _write_ids(path: Path | None, ids: list[str]) -> None:
    if path is None:
        return
    from campaigns.draw import ids_text

    path.write_bytes(ids_text(ids).encode("utf-8"))
    click.echo(f"eligible ids written to {path} (sha256sum gives the digest)")
