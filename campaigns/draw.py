"""The draw of a campaign's winners: reproducible, and checkable by anyone without our code.

The rule, in full: the eligible entries' ids sorted (as Python sorts strings, by code
point); their digest is the SHA-256 of the ids joined by "\\n" (UTF-8, no final newline);
each id is ranked by the hex SHA-256 of "{seed}:{id}", and the winners are the N lowest
ranks, lowest first. The same seed and the same entries give the same winners; anyone
holding the ids and the seed can re-run it with `sha256sum` or three lines of any language.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from events.models import ACCEPTED, APPROVED, REJECTED, WAITLISTED, Campaign
from lambda_platform.ports import DrawStore

#: The rule, as stored with each draw, so the record explains itself.
RULE = 'winners: the N lowest hex sha256("{seed}:{id}") over the eligible ids; digest: sha256 of the sorted ids joined by "\\n"'

ELIGIBLE_STATUSES = (ACCEPTED, WAITLISTED)

#: The most winners one draw stores: its item holds them all, and an item is at most 400 KB
#: (5,000 ids of up to 64 characters fit).
MAX_WINNERS = 5000


class TooManyWinners(ValueError):
    """More winners asked for than there are eligible entries."""

    def __init__(self, winners: int, eligible: int) -> None:
        super().__init__(f"{winners} winners asked for, but only {eligible} eligible entries")
        self.winners = winners
        self.eligible = eligible


def is_eligible(entry: Mapping[str, Any], campaign: Campaign) -> bool:
    """Whether an entry takes part in the campaign's draw, by the campaign's settings."""
    if entry.get("status") not in ELIGIBLE_STATUSES:
        return False
    decision = (entry.get("review") or {}).get("decision")
    if decision == REJECTED:
        return False
    if decision != APPROVED and not campaign.draw_includes_unreviewed:
        return False
    if entry.get("duplicate_receipt") and not campaign.draw_includes_flagged:
        return False
    return True


def eligible_ids(entries: Iterable[Mapping[str, Any]], campaign: Campaign) -> list[str]:
    """The sorted ids of the eligible entries."""
    return sorted({e["submission_id"] for e in entries if is_eligible(e, campaign)})


def ids_text(ids: list[str]) -> str:
    """The sorted ids as the digest hashes them: joined by "\\n", no final newline."""
    return "\n".join(ids)


def digest(ids: list[str]) -> str:
    """The hex SHA-256 of the sorted ids joined by "\\n"."""
    return hashlib.sha256(ids_text(ids).encode("utf-8")).hexdigest()


def rank(seed: str, entry_id: str) -> str:
    """An id's rank in a draw: the hex SHA-256 of "{seed}:{id}" (lowest wins)."""
    return hashlib.sha256(f"{seed}:{entry_id}".encode()).hexdigest()


def pick(ids: list[str], seed: str, winners: int) -> list[str]:
    """The `winners` ids of lowest rank under `seed`, first place first."""
    if winners < 1:
        raise ValueError("a draw needs at least one winner")
    if winners > MAX_WINNERS:
        raise ValueError(f"{winners} winners asked for: a draw stores at most {MAX_WINNERS}")
    if winners > len(ids):
        raise TooManyWinners(winners, len(ids))
    return sorted(ids, key=lambda i: (rank(seed, i), i))[:winners]


def new_seed() -> str:
    """A random seed (128 bits from `secrets`, hex)."""
    return secrets.token_hex(16)


class _EligibleNow:
    """The entries eligible today, beside a stored draw."""

    ids_now: list[str]

    @property
    def eligible_now(self) -> int:
        """How many entries are eligible now."""
        return len(self.ids_now)

    @property
    def digest_now(self) -> str:
        """The digest of the entries eligible now."""
        return digest(self.ids_now)


@dataclass(frozen=True)
class DrawOutcome(_EligibleNow):
    """What a draw did: the stored draw, whether this call stored it, and today's entries."""

    draw: dict[str, Any]
    #: True when this call stored the draw; False when one with this seed was stored already.
    created: bool
    #: The sorted ids of the eligible entries as they are now (not the draw's when entries changed since).
    ids_now: list[str]

    @property
    def entries_changed(self) -> bool:
        """True when the eligible entries are not those the stored draw was made from."""
        stored: str = self.draw["digest"]
        return self.digest_now != stored


def run_draw(
    campaign: Campaign,
    entries: Iterable[Mapping[str, Any]],
    winners: int,
    store: DrawStore,
    seed: str | None = None,
    now: datetime | None = None,
) -> DrawOutcome:
    """Draw `winners` among the eligible entries and store it once per seed.

    A draw stored with this seed already is returned unchanged (`created` False), with
    the digest of today's eligible entries beside it, so a caller can say they changed.
    """
    ids = eligible_ids(entries, campaign)
    seed = seed if seed is not None else new_seed()
    stored = store.get(campaign.campaign_id, seed)
    if stored is not None:
        return DrawOutcome(stored, False, ids)
    chosen = pick(ids, seed, winners)
    draw = {
        "campaign_id": campaign.campaign_id,
        "seed": seed,
        "winners_requested": winners,
        "eligible": len(ids),
        "digest": digest(ids),
        "winners": chosen,
        "rule": RULE,
        "draw_includes_unreviewed": campaign.draw_includes_unreviewed,
        "draw_includes_flagged": campaign.draw_includes_flagged,
        "drawn_at": (now or datetime.now(UTC)).isoformat(),
    }
    if store.put_new(draw):
        return DrawOutcome(draw, True, ids)
    # Another draw with this seed was stored between the read and the write: it stands.
    stored = store.get(campaign.campaign_id, seed)
    if stored is None:
        raise RuntimeError(f"draw {campaign.campaign_id}/{seed} refused as stored, but not found")
    return DrawOutcome(stored, False, ids)


@dataclass(frozen=True)
class Verification(_EligibleNow):
    """A stored draw recomputed from today's entries."""

    draw: dict[str, Any]
    #: The sorted ids eligible now, under the draw's own settings.
    ids_now: list[str]
    winners_now: list[str]

    @property
    def digest_matches(self) -> bool:
        """True when today's eligible entries are those the draw was made from."""
        stored: str = self.draw["digest"]
        return self.digest_now == stored

    @property
    def winners_match(self) -> bool:
        """True when the rule gives the stored winners again."""
        return self.winners_now == list(self.draw["winners"])


def verify_draw(campaign: Campaign, entries: Iterable[Mapping[str, Any]], seed: str, store: DrawStore) -> Verification | None:
    """Recompute a stored draw from today's entries; None when no draw has this seed."""
    stored = store.get(campaign.campaign_id, seed)
    if stored is None:
        return None
    # The draw's own settings: the campaign's may have changed since.
    as_drawn = replace(
        campaign,
        draw_includes_unreviewed=bool(stored.get("draw_includes_unreviewed", campaign.draw_includes_unreviewed)),
        draw_includes_flagged=bool(stored.get("draw_includes_flagged", campaign.draw_includes_flagged)),
    )
    ids = eligible_ids(entries, as_drawn)
    wanted = int(stored["winners_requested"])
    winners = pick(ids, seed, wanted) if 1 <= wanted <= len(ids) else []
    return Verification(stored, ids, winners)
