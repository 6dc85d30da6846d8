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
@click.option(
    "--commit",
    is_flag=True,
    help="Before the campaign closes: draw a random seed, store only its SHA-256, and print the seed once (last line).",
)
@click.option("--winners", type=click.IntRange(min=1), help="After the campaign has closed: how many winners to draw.")
@click.option("--seed", help="With --winners: the seed printed by --commit (no other is taken).")
@click.option("--verify", is_flag=True, help="Recompute the stored draw from its stored seed, frozen ids and rule.")
@click.option(
    "--ids-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --winners or --verify: write the frozen eligible ids, exactly the bytes the digest hashes.",
)
def campaigns_draw(
    campaign_id: str, commit: bool, winners: int | None, seed: str | None, verify: bool, ids_file: Path | None
) -> None:
    """The campaign's draw: committed before it closes, run once after, verified by anyone.

    \b
    fleet campaigns draw ID --commit                      before the campaign closes
    fleet campaigns draw ID --winners N --seed SEED       once it has closed
    fleet campaigns draw ID --verify                      any time after

    Eligible: accepted or waitlisted, not rejected; not reviewed, and flagged as a duplicate
    receipt, only as the campaign said when the draw was committed. Commitment: SHA-256 of
    the seed. Winners: the N ids of lowest SHA-256("{seed}:{id}"). Digest: SHA-256 of the
    sorted eligible ids joined by newlines.
    """
    modes = [name for name, used in (("--commit", commit), ("--winners", winners is not None), ("--verify", verify)) if used]
    if len(modes) != 1:
        raise click.UsageError("Give one of --commit, --winners N --seed SEED, or --verify.")
    if commit or verify:
        if seed is not None:
            raise click.UsageError(f"{modes[0]} takes no --seed: the seed is drawn by --commit and checked by the draw")
        if commit and ids_file is not None:
            raise click.UsageError("--commit writes no ids: nothing is frozen before the draw")
        (_commit if commit else _verify)(campaign_id, ids_file)
        return
    if seed is None or not seed.strip():
        raise click.UsageError("Missing option '--seed': the draw takes the seed printed by --commit.")
    assert winners is not None
    _draw(campaign_id, winners, seed.strip().lower(), ids_file)


def _commit(campaign_id: str, ids_file: Path | None) -> None:
    from campaigns.draw import DrawRefused, commit_draw

    ports = command_ports()
    campaign = _campaign(ports, campaign_id)
    try:
        committed = commit_draw(campaign, ports.entries.count(campaign_id), ports.draws)
    except DrawRefused as exc:
        raise click.ClickException(str(exc)) from None
    made = committed.commitment
    click.echo(f"the draw of {campaign_id} is committed at {made['committed_at']}")
    click.echo(f"sha256 of its seed: {made['seed_sha256']}")
    click.echo(_timing(made))
    click.echo(f"the campaign closes at {made['closes_at']}; then: fleet campaigns draw {campaign_id} --winners N --seed SEED")
    click.echo("the seed, printed this once and stored nowhere (without it there is no draw; keep it from reviewers):")
    click.echo(committed.seed)


def _timing(record: Mapping[str, Any]) -> str:
    """When the draw was committed, against the campaign's opening, and what was stored then."""
    entries = int(record["entries_at_commit"])
    if record["committed_after_opening"]:
        return (
            f"committed AFTER the campaign opened (at {record['opens_at']}), with {entries} entries stored then: "
            "an auditor will judge whether anyone could have chosen entries knowing the seed"
        )
    return f"committed before the campaign opened (at {record['opens_at']}), with {entries} entries stored then"


def _draw(campaign_id: str, winners: int, seed: str, ids_file: Path | None) -> None:
    from campaigns.draw import DrawRefused, TooManyWinners, run_draw

    ports = command_ports()
    campaign = _campaign(ports, campaign_id)
    try:
        outcome = run_draw(campaign, ports.entries.iter_campaign(campaign_id), winners, seed, ports.draws)
    except DrawRefused as exc:
        raise click.ClickException(str(exc)) from None
    except TooManyWinners as exc:
        raise click.ClickException(f"{exc}: draw refused, nothing stored") from None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--winners") from None
    draw = outcome.draw
    if outcome.created:
        click.echo(f"the draw of {campaign_id} is stored: the campaign's one draw")
    else:
        click.echo(f"the draw of {campaign_id} was stored already ({draw['drawn_at']}): nothing changed")
        if int(draw["winners_requested"]) != winners:
            click.echo(f"it drew {draw['winners_requested']} winners, not {winners}: a campaign has one draw")
    _print_draw(draw)
    if not outcome.created and outcome.entries_changed:
        click.echo(
            f"the entries eligible now differ from the frozen ones: {len(outcome.ids_now)} now "
            "(reviews or flags since the draw; the stored draw stands)"
        )
    _write_frozen(ports, draw, ids_file)


def _verify(campaign_id: str, ids_file: Path | None) -> None:
    from campaigns.draw import verify_draw

    ports = command_ports()
    campaign = _campaign(ports, campaign_id)
    checked = verify_draw(campaign, ports.entries.iter_campaign(campaign_id), ports.draws)
    if checked is None:
        raise click.ClickException(f"no draw of {campaign_id} is stored")
    _print_draw(checked.draw)
    checks = (
        (checked.seed_matches_commitment, "the seed hashes to the committed sha256"),
        (checked.committed_before_closing, "the commitment was made before the campaign closed"),
        (checked.drawn_after_closing, "the draw ran after the campaign closed"),
        (checked.frozen_match_digest, "the frozen eligible ids hash to the digest"),
        (checked.winners_match, "the rule gives the same winners from them"),
    )
    for held, what in checks:
        click.echo(f"{'ok  ' if held else 'FAIL'} {what}")
    if checked.entries_changed:
        click.echo(
            f"note: {len(checked.ids_now)} entries are eligible today, not the frozen ones "
            "(reviews or flags since the draw: the draw stands on the frozen ids)"
        )
    _write_frozen(ports, checked.draw, ids_file)
    if checked.verified:
        click.echo("verified: the committed seed, the frozen entries and the same winners")
        return
    if checked.frozen is None:
        raise click.ClickException("not verified: the frozen eligible ids are not stored")
    raise click.ClickException("not verified, failed: " + "; ".join(what for held, what in checks if not held))


def _print_draw(draw: Mapping[str, Any]) -> None:
    click.echo(f"seed: {draw['seed']}")
    click.echo(f"sha256 of the seed, committed at {draw['committed_at']}: {draw['seed_sha256']}")
    click.echo(_timing(draw))
    click.echo(f"campaign closed at {draw['closes_at']}; drawn at {draw['drawn_at']}")
    if draw.get("closes_at_commit", draw["closes_at"]) != draw["closes_at"]:
        click.echo(f"the campaign's close was moved after the commitment: it was {draw['closes_at_commit']} then")
    click.echo(f"eligible entries: {draw['eligible']}")
    click.echo(f"digest (sha256 of the sorted ids joined by newlines): {draw['digest']}")
    click.echo(f"winners ({len(draw['winners'])}):")
    for place, winner in enumerate(draw["winners"], start=1):
        click.echo(f"  {place}. {winner}")


def _write_frozen(ports: Ports, draw: Mapping[str, Any], path: Path | None) -> None:
    if path is None:
        return
    from campaigns.draw import ids_text

    frozen = ports.draws.eligible(draw["campaign_id"], draw["digest"])
    if frozen is None:
        raise click.ClickException("the frozen eligible ids are not stored: no ids file written")
    path.write_bytes(ids_text(frozen).encode("utf-8"))
    click.echo(f"the frozen eligible ids written to {path} (sha256sum gives the digest)")
