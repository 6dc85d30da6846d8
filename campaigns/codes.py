"""Discount codes: a campaign's pool, one code per eligible entry, and the waitlist when it runs out.

A code in the pool carries `pool` (its campaign id); giving it is one transaction that
removes `pool` from the code and sets `code` on the entry, each update conditional (the
code still in the pool, the entry holding no code), so no code is ever given twice and no
entry gets two, whatever runs at once. A cancelled give says which condition failed: the
entry had a code already (a retry, a redelivery, a replay: that code is the answer), or
another entry took the code (the next one is tried). When the pool is empty the entry is
waitlisted; importing codes gives them to the waitlist, oldest entry first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lambda_platform.ports import CodeGrant, CodeStore

if TYPE_CHECKING:
    from events.models import Campaign

#: Codes read from the pool at a time: concurrent givers start at different places in it.
CANDIDATES = 10
#: Waitlisted entries read at a time when codes are given out to the waitlist.
WAITLIST_PAGE = 25
#: A longer code is refused on import (DynamoDB's sort key holds 1 KiB; nobody types more).
MAX_CODE_LENGTH = 200


@dataclass(frozen=True)
class Problem:
    """A line of a code file that added nothing, and why."""

    line: int
    message: str


@dataclass(frozen=True)
class ImportReport:
    """What an import did: codes added, lines skipped and why, codes then given to the waitlist."""

    added: int
    #: Codes the campaign held already, in the pool or given, by line.
    already: list[Problem] = field(default_factory=list)
    #: Blank lines, duplicates within the file and unusable codes, by line.
    problems: list[Problem] = field(default_factory=list)
    given_to_waitlist: int = 0

    @property
    def skipped(self) -> int:
        """Lines that added no code."""
        return len(self.already) + len(self.problems)


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


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def import_codes(campaign_id: str, lines: Iterable[str], store: CodeStore) -> ImportReport:
    """Add one code per line (stripped) to the campaign's pool, then give the new codes to its waitlist."""
    seen: dict[str, int] = {}
    problems: list[Problem] = []
    for number, line in enumerate(lines, start=1):
        code = line.strip()
        if number == 1:
            code = code.lstrip("\ufeff").strip()  # a spreadsheet's byte-order mark
        if not code:
            problems.append(Problem(number, "blank line"))
        elif len(code) > MAX_CODE_LENGTH:
            problems.append(Problem(number, f"code longer than {MAX_CODE_LENGTH} characters"))
        elif any(ord(ch) < 32 or ord(ch) == 127 for ch in code):
            problems.append(Problem(number, "code holds a control character"))
        elif code in seen:
            problems.append(Problem(number, f"duplicate of line {seen[code]}"))
        else:
            seen[code] = number
    stamp = _stamp()
    # The pool order: this import's time, then the line, so that older imports go out first.
    added = store.add(campaign_id, [(code, f"{stamp}#{number:09d}") for code, number in seen.items()], stamp)
    already = [Problem(number, "already in the campaign's codes") for code, number in seen.items() if code not in added]
    # Even when nothing was added: an import run again finishes the fill of one interrupted.
    given = fill_waitlist(campaign_id, store)
    return ImportReport(added=len(added), already=already, problems=problems, given_to_waitlist=given)


def _rotated(codes: list[str], submission_id: str) -> list[str]:
    """The codes starting at a place of the entry's own, so that concurrent givers rarely collide."""
    start = int(hashlib.sha256(submission_id.encode()).hexdigest()[:8], 16) % len(codes)
    return codes[start:] + codes[:start]


def _take(campaign_id: str, submission_id: str, store: CodeStore, at: str) -> CodeGrant | None:
    """Give the entry a code from the pool (or find the one it holds); None when the pool is empty."""
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
            if grant.code is not None:
                return grant
        after = None  # every one went to others meanwhile: read the pool again from its start


def give_code(campaign_id: str, submission_id: str, store: CodeStore) -> str | None:
    """The entry's code, given now or before (the same on every retry); None: the pool is empty and the entry is waitlisted."""
    at = _stamp()
    grant = _take(campaign_id, submission_id, store, at)
    if grant is not None:
        return grant.code
    held = store.waitlist(campaign_id, submission_id, at)
    if held is not None:
        return held
    # An import whose fill read the waitlist before this entry joined it left its codes in
    # the pool: look once more, now that any later fill will see the entry.
    grant = _take(campaign_id, submission_id, store, at)
    return grant.code if grant is not None else None


def fill_waitlist(campaign_id: str, store: CodeStore) -> int:
    """Give codes to the campaign's waitlisted entries, oldest first, until the pool or the list runs out; how many got one."""
    given = 0
    after = None
    while True:
        waiting, after = store.waitlisted(campaign_id, WAITLIST_PAGE, after)
        for submission_id in waiting:
            grant = _take(campaign_id, submission_id, store, _stamp())
            if grant is None:
                return given
            given += grant.given
        if after is None:
            return given


def pool_status(campaigns: Iterable[Campaign], store: CodeStore) -> list[PoolStatus]:
    """Codes available and given, entries waitlisted, for each campaign that gives codes (COUNT Queries, no Scan)."""
    found: list[PoolStatus] = []
    for campaign in campaigns:
        if campaign.gives_codes:
            available, given, waitlisted = store.counts(campaign.campaign_id)
            found.append(PoolStatus(campaign.campaign_id, available, given, waitlisted))
    return found
