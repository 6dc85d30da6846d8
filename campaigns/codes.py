"""Discount codes: a campaign's pool, one code per eligible entry, and the waitlist when it runs out.

A code in the pool carries `pool` (its campaign id); giving it is one transaction that
removes `pool` from the code and sets `code` on the entry, each update conditional (the
code still in the pool; the entry holding no code, accepted or waitlisted, not flagged as a
duplicate receipt and not rejected in review), so no code is ever given twice, no entry
gets two, and none goes to an entry that may hold none, whatever runs at once. A cancelled
give says which condition failed: the entry had a code already (a retry, a redelivery, a
replay: that code is the answer), the entry may hold none (it leaves the waitlist, the code
stays in the pool), or another entry took the code (the next one is tried). When the pool
is empty the entry is waitlisted; importing codes gives them to the waitlist, oldest entry
first.

A code is text a person reads and types: each line of an import is NFKC-normalised (full-width
letters are the ASCII ones) and trimmed of spaces and invisible characters, and what is
left must be ASCII letters, digits and `- _ .`; codes that differ only by case are one code
(`events.models.code_key`). An import streams: it reads, checks and writes a batch of
lines at a time, and keeps nothing of earlier batches, so its memory does not grow with
the file (a duplicate of an earlier batch's line is found by the conditional put itself).
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import TYPE_CHECKING, BinaryIO

from events.models import code_key
from events.text import is_invisible
from lambda_platform.ports import CodeGrant, CodeStore

if TYPE_CHECKING:
    from events.models import Campaign

#: Codes read from the pool at a time: concurrent givers start at different places in it.
CANDIDATES = 10
#: Waitlisted entries read at a time when codes are given out to the waitlist.
WAITLIST_PAGE = 25
#: A longer code is refused on import (DynamoDB's sort key holds 1 KiB; nobody types more).
MAX_CODE_LENGTH = 200
#: A longer line is refused without being held: no code is that long.
MAX_LINE_BYTES = 4096
#: Lines of an import checked and written at a time: what an import holds in memory.
IMPORT_BATCH = 1000
#: What a code may hold, once normalised: nothing a person cannot see, read aloud and type.
CODE_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
_CODE = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Problem:
    """A line of a code file that added nothing, and why."""

    line: int
    message: str


@dataclass(frozen=True)
class ImportReport:
    """What an import did: codes added, lines skipped (reported one by one as they were found),
    codes then given to the waitlist, entries taken off it."""

    added: int
    #: Lines whose code the campaign held already (in the pool or given, in any case).
    already: int = 0
    #: Blank lines, duplicates within the file, refused codes.
    problems: int = 0
    given_to_waitlist: int = 0
    #: Waitlisted entries flagged or rejected since: off the waitlist, without a code.
    left_waitlist: int = 0

    @property
    def skipped(self) -> int:
        """Lines that added no code."""
        return self.already + self.problems


@dataclass(frozen=True)
class PoolStatus:
    """A campaign's pool: codes left, codes given, entries waiting for one."""

    campaign_id: str
    available: int
    given: int
    waitlisted: int

    @property
    def empty(self) -> bool:
        """True when no code is left to give."""
        return self.available == 0


@dataclass(frozen=True)
class EntryCode:
    """What giving an entry its code came to: its code, or the waitlist, or neither (the entry
    may hold no code: flagged as a duplicate receipt, rejected in review, not accepted)."""

    code: str | None
    waitlisted: bool = False


@dataclass(frozen=True)
class WaitlistFill:
    """What giving codes to the waitlist did."""

    given: int = 0
    #: Entries found flagged or rejected: taken off the waitlist, their code left in the pool.
    left: int = 0


class NotUtf8(ValueError):
    """A line of a code file is not UTF-8."""

    def __init__(self, line: int, byte: int) -> None:
        super().__init__(f"line {line} is not UTF-8 (byte {byte} of the line)")
        self.line = line
        self.byte = byte


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def read_lines(stream: BinaryIO) -> Iterator[str | None]:
    """The lines of a binary stream, each decoded as UTF-8 as it is read (NotUtf8 names the
    first that is not); a line longer than MAX_LINE_BYTES is read through in pieces and
    comes out as None, so that no line is ever held whole."""
    number = 0
    while raw := stream.readline(MAX_LINE_BYTES):
        number += 1
        if raw.endswith(b"\n") or len(raw) < MAX_LINE_BYTES:
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise NotUtf8(number, exc.start + 1) from None
            continue
        decoder = codecs.getincrementaldecoder("utf-8")()
        read = 0
        while raw:
            try:
                decoder.decode(raw, final=raw.endswith(b"\n"))
            except UnicodeDecodeError as exc:
                raise NotUtf8(number, read + exc.start + 1) from None
            read += len(raw)
            if raw.endswith(b"\n"):
                break
            raw = stream.readline(MAX_LINE_BYTES)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise NotUtf8(number, read + exc.start + 1) from None
        yield None


def _trimmed(text: str) -> str:
    start, end = 0, len(text)
    while start < end and is_invisible(text[start]):
        start += 1
    while end > start and is_invisible(text[end - 1]):
        end -= 1
    return text[start:end]


def _named(character: str) -> str:
    return f"U+{ord(character):04X} {unicodedata.name(character, 'without a name')}"


def normalise(line: str | None) -> tuple[str | None, str | None]:
    """A line as a code (NFKC, trimmed of spaces and invisible characters), or why it is none:
    `(code, None)` or `(None, problem)`. A refused character is named, never echoed."""
    if line is None:
        return None, f"line longer than {MAX_LINE_BYTES} bytes"
    # ASCII is its own NFKC, and its only invisible characters are whitespace: the usual line
    # costs a strip and a match.
    code = line.strip() if line.isascii() else _trimmed(unicodedata.normalize("NFKC", line))
    if not code:
        return None, "blank line"
    if len(code) > MAX_CODE_LENGTH:
        return None, f"code longer than {MAX_CODE_LENGTH} characters"
    if _CODE.fullmatch(code) is None:
        refused = next(c for c in code if c not in CODE_CHARACTERS)
        return None, f"code holds {_named(refused)}: a code is ASCII letters, digits and - _ ."
    return code, None


def import_codes(
    campaign_id: str, lines: Iterable[str | None], store: CodeStore, on_problem: Callable[[Problem], None]
) -> ImportReport:
    """Add one code per line to the campaign's pool, IMPORT_BATCH lines at a time, then give
    the new codes to its waitlist. Each line that adds nothing goes to `on_problem`, in order
    of lines, as soon as its batch is written."""
    stamp = _stamp()
    added = already = problems = 0
    numbered = enumerate(lines, start=1)
    while batch := list(islice(numbered, IMPORT_BATCH)):
        found: list[Problem] = []
        fresh: dict[str, tuple[str, int]] = {}
        for number, line in batch:
            code, problem = normalise(line)
            if code is None:
                found.append(Problem(number, problem or "no code"))
            elif (first := fresh.get(key := code_key(code))) is not None:
                found.append(Problem(number, f"duplicate of line {first[1]}"))
            else:
                fresh[key] = (code, number)
        # The pool order: this import's time, then the line, so that older imports go out first.
        held = store.add(campaign_id, [(code, _order(stamp, number)) for code, number in fresh.values()], stamp)
        added += len(fresh) - len(held)
        for code, number in fresh.values():
            if code not in held:
                continue
            earlier = _line_of(held[code], stamp)
            if earlier is None:
                already += 1
                found.append(Problem(number, ALREADY))
            else:
                found.append(Problem(number, f"duplicate of line {earlier}"))
        problems += len(found) - already_in(found)
        for reported in sorted(found, key=lambda p: p.line):
            on_problem(reported)
    # Even when nothing was added: an import run again finishes the fill of one interrupted.
    fill = fill_waitlist(campaign_id, store)
    return ImportReport(added=added, already=already, problems=problems, given_to_waitlist=fill.given, left_waitlist=fill.left)


ALREADY = "already in the campaign's codes"


def already_in(problems: Iterable[Problem]) -> int:
    """How many of `problems` are codes the campaign held before this import."""
    return sum(1 for p in problems if p.message == ALREADY)


def _order(stamp: str, line: int) -> str:
    return f"{stamp}#{line:09d}"


def _line_of(order: str, stamp: str) -> int | None:
    """The line of this import (`stamp`) that a held code's pool order names, or None for another import's."""
    prefix = f"{stamp}#"
    return int(order[len(prefix) :]) if order.startswith(prefix) and order[len(prefix) :].isdigit() else None


def _rotated(codes: list[str], submission_id: str) -> list[str]:
    """The codes starting at a place of the entry's own, so that concurrent givers rarely collide."""
    start = int(hashlib.sha256(submission_id.encode()).hexdigest()[:8], 16) % len(codes)
    return codes[start:] + codes[:start]


def _take(campaign_id: str, submission_id: str, store: CodeStore, at: str) -> CodeGrant | None:
    """Give the entry a code from the pool (or find the one it holds, or that it may hold
    none: `eligible` False, and no code is tried after); None when the pool is empty."""
    tried: set[str] = set()
    after = None
    while True:
        page, more = store.available(campaign_id, CANDIDATES, after)
        fresh = [code for code in page if code not in tried]
        if not fresh:
            if more is None:
                return None
            after = more  # codes given since the index was read: read on
            continue
        for code in _rotated(fresh, submission_id):
            tried.add(code)
            grant = store.give(campaign_id, code, submission_id, at)
            if grant.code is not None or not grant.eligible:
                return grant
        after = None  # every one went to others meanwhile: read the pool again from its start


def give_code(campaign_id: str, submission_id: str, store: CodeStore) -> EntryCode:
    """The entry's code, given now or before (the same on every retry); or the waitlist when the
    pool is empty; or neither when the entry may hold no code (nothing written)."""
    at = _stamp()
    grant = _take(campaign_id, submission_id, store, at)
    if grant is not None:
        return EntryCode(grant.code)
    instead = store.waitlist(campaign_id, submission_id, at)
    if instead is not None:
        return EntryCode(instead.code)
    # An import whose fill read the waitlist before this entry joined it left its codes in
    # the pool: look once more, now that any later fill will see the entry.
    grant = _take(campaign_id, submission_id, store, at)
    if grant is None:
        return EntryCode(None, waitlisted=True)
    return EntryCode(grant.code, waitlisted=grant.eligible and grant.code is None)


def fill_waitlist(campaign_id: str, store: CodeStore) -> WaitlistFill:
    """Give codes to the campaign's waitlisted entries, oldest first, until the pool or the list
    runs out. An entry flagged or rejected since it joined is refused by the give's own
    condition (its code stays in the pool) and taken off the waitlist."""
    given = left = 0
    after = None
    while True:
        waiting, after = store.waitlisted(campaign_id, WAITLIST_PAGE, after)
        for submission_id in waiting:
            grant = _take(campaign_id, submission_id, store, _stamp())
            if grant is None:
                return WaitlistFill(given, left)
            if not grant.eligible:
                left += store.leave_waitlist(campaign_id, submission_id)
            given += grant.given
        if after is None:
            return WaitlistFill(given, left)


def pool_status(campaigns: Iterable[Campaign], store: CodeStore) -> list[PoolStatus]:
    """Codes available and given, entries waitlisted, for each campaign that gives codes (COUNT Queries, no Scan)."""
    found: list[PoolStatus] = []
    for campaign in campaigns:
        if campaign.gives_codes:
            available, given, waitlisted = store.counts(campaign.campaign_id)
            found.append(PoolStatus(campaign.campaign_id, available, given, waitlisted))
    return found
