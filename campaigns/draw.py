"""The draw of a campaign's winners: committed before the campaign closes, run once after,
and checkable by anyone without our code.

The procedure:

1. Commit, before the campaign closes: a random seed (256 bits from `secrets`, 64 hex
   characters) is printed once for the operator to keep, and only its SHA-256 is stored,
   with the time, the number of entries stored at that moment, whether the campaign had
   opened, and the eligibility settings; one commitment per campaign, never replaced.
2. Draw, once the campaign has closed, with the seed whose hash was committed (any other is
   refused): the eligible entries are frozen, their ids stored with their digest, and the
   winners stored; one draw per campaign, and asking again returns it unchanged.
3. Verify, at any time after: the stored seed hashes to the commitment, the frozen ids hash
   to the digest, and the rule gives the stored winners again from them.

The rule, in full: the eligible entries' ids sorted (as Python sorts strings, by code
point); their digest is the SHA-256 of the ids joined by "\\n" (UTF-8, no final newline);
each id is ranked by the hex SHA-256 of "{seed}:{id}", and the winners are the N lowest
ranks, lowest first. The commitment is the hex SHA-256 of the seed itself (its 64 ASCII
characters, no newline). Anyone holding the ids and the seed can re-run all of it with
`sha256sum` or three lines of any language.
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

#: The rule, as stored with each commitment and draw, so the record explains itself.
RULE = (
    'commitment: sha256 of the seed; winners: the N lowest hex sha256("{seed}:{id}") over the eligible ids; '
    'digest: sha256 of the sorted ids joined by "\\n"'
)

ELIGIBLE_STATUSES = (ACCEPTED, WAITLISTED)

#: The most winners one draw stores: its item holds them all, and an item is at most 400 KB
#: (5,000 ids of up to 64 characters fit).
MAX_WINNERS = 5000

#: Random bytes in a seed: 256 bits, written as 64 hex characters.
SEED_BYTES = 32


class TooManyWinners(ValueError):
    """More winners asked for than there are eligible entries."""

    def __init__(self, winners: int, eligible: int) -> None:
        super().__init__(f"{winners} winners asked for, but only {eligible} eligible entries")
        self.winners = winners
        self.eligible = eligible


class DrawRefused(Exception):
    """A step of the procedure that may not run now (nothing was stored)."""


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
    """A random seed: 256 bits from `secrets`, as 64 lowercase hex characters."""
    return secrets.token_hex(SEED_BYTES)


def seed_hash(seed: str) -> str:
    """The commitment to a seed: the hex SHA-256 of its characters (`printf %s SEED | sha256sum`)."""
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _settings(campaign: Campaign, record: Mapping[str, Any]) -> Campaign:
    """The campaign with the eligibility settings a commitment fixed (the campaign's may have changed since)."""
    return replace(
        campaign,
        draw_includes_unreviewed=bool(record.get("draw_includes_unreviewed", campaign.draw_includes_unreviewed)),
        draw_includes_flagged=bool(record.get("draw_includes_flagged", campaign.draw_includes_flagged)),
    )


@dataclass(frozen=True)
class Committed:
    """A new commitment, and the seed it commits to: printed once, stored nowhere."""

    commitment: dict[str, Any]
    seed: str


def commit_draw(campaign: Campaign, entries_stored: int, store: DrawStore, now: datetime | None = None) -> Committed:
    """Commit the campaign's draw to a new random seed: store its hash, the time, the entries
    stored now, whether the campaign had opened, and the eligibility settings. Refused once
    the campaign has closed, and when a commitment is stored already (it is never replaced)."""
    now = now or datetime.now(UTC)
    if now >= campaign.closes_at:
        raise DrawRefused(
            f"{campaign.campaign_id} closed at {_iso(campaign.closes_at)}: a draw is committed before the campaign closes"
        )
    known = store.commitment(campaign.campaign_id)
    if known is not None:
        raise DrawRefused(_committed_already(campaign.campaign_id, known))
    seed = new_seed()
    commitment = {
        "campaign_id": campaign.campaign_id,
        "seed_sha256": seed_hash(seed),
        "committed_at": _iso(now),
        "entries_at_commit": entries_stored,
        "committed_after_opening": now >= campaign.opens_at,
        "opens_at": _iso(campaign.opens_at),
        "closes_at": _iso(campaign.closes_at),
        "draw_includes_unreviewed": campaign.draw_includes_unreviewed,
        "draw_includes_flagged": campaign.draw_includes_flagged,
        "rule": RULE,
    }
    if not store.commit(commitment):
        known = store.commitment(campaign.campaign_id)
        raise DrawRefused(_committed_already(campaign.campaign_id, known or {}))
    return Committed(commitment, seed)


def _committed_already(campaign_id: str, known: Mapping[str, Any]) -> str:
    return (
        f"the draw of {campaign_id} was committed already at {known.get('committed_at', '?')} "
        f"(sha256 of its seed {known.get('seed_sha256', '?')}): a commitment is never replaced"
    )


@dataclass(frozen=True)
class DrawOutcome:
    """What a draw did: the stored draw, whether this call stored it, and today's eligible entries."""

    draw: dict[str, Any]
    #: True when this call stored the draw; False when it was stored before.
    created: bool
    #: The sorted ids eligible now, under the committed settings (the frozen ones when `created`).
    ids_now: list[str]

    @property
    def entries_changed(self) -> bool:
        """True when the entries eligible now are not those the draw froze."""
        frozen: str = self.draw["digest"]
        return digest(self.ids_now) != frozen


def run_draw(
    campaign: Campaign,
    entries: Iterable[Mapping[str, Any]],
    winners: int,
    seed: str,
    store: DrawStore,
    now: datetime | None = None,
) -> DrawOutcome:
    """Draw `winners` among the eligible entries with the committed seed, once the campaign has
    closed, and store the draw (the one of the campaign) with its frozen eligible ids.

    Refused (DrawRefused, nothing stored) without a commitment, with any other seed, or before
    the campaign closes. The draw stored already is returned unchanged (`created` False)."""
    now = now or datetime.now(UTC)
    cid = campaign.campaign_id
    commitment = store.commitment(cid)
    if commitment is None:
        raise DrawRefused(f"no draw of {cid} was committed: `fleet campaigns draw {cid} --commit` before it closes")
    if seed_hash(seed) != commitment["seed_sha256"]:
        raise DrawRefused(
            f"this seed is not the one committed for {cid} at {commitment['committed_at']} "
            f"(its sha256 is {commitment['seed_sha256']}): draw refused, nothing stored"
        )
    as_committed = _settings(campaign, commitment)
    stored = store.draw(cid)
    if stored is not None:
        return DrawOutcome(stored, False, eligible_ids(entries, as_committed))
    if now < campaign.closes_at:
        raise DrawRefused(f"{cid} closes at {_iso(campaign.closes_at)}: the draw runs once the campaign has closed")
    ids = eligible_ids(entries, as_committed)
    chosen = pick(ids, seed, winners)
    draw = {
        "campaign_id": cid,
        "seed": seed,
        "seed_sha256": commitment["seed_sha256"],
        "committed_at": commitment["committed_at"],
        "entries_at_commit": commitment["entries_at_commit"],
        "committed_after_opening": commitment["committed_after_opening"],
        "opens_at": _iso(campaign.opens_at),
        "closes_at": _iso(campaign.closes_at),
        "closes_at_commit": commitment["closes_at"],
        "drawn_at": _iso(now),
        "winners_requested": winners,
        "eligible": len(ids),
        "digest": digest(ids),
        "winners": chosen,
        "rule": RULE,
        "draw_includes_unreviewed": as_committed.draw_includes_unreviewed,
        "draw_includes_flagged": as_committed.draw_includes_flagged,
    }
    if store.put_draw(draw, ids):
        return DrawOutcome(draw, True, ids)
    # Another run stored the campaign's draw between the read and the write: it stands.
    stored = store.draw(cid)
    if stored is None:
        raise RuntimeError(f"the draw of {cid} was refused as stored, but is not found")
    return DrawOutcome(stored, False, ids)


@dataclass(frozen=True)
class Verification:
    """The campaign's stored draw recomputed from its stored seed, frozen ids and rule."""

    draw: dict[str, Any]
    commitment: dict[str, Any] | None
    #: The ids the draw froze, as stored (None when they are not found).
    frozen: list[str] | None
    #: The winners the rule gives from the frozen ids and the seed.
    winners_again: list[str]
    #: The sorted ids eligible today, under the committed settings (information only).
    ids_now: list[str]

    @property
    def seed_matches_commitment(self) -> bool:
        """The revealed seed hashes to the committed hash."""
        return self.commitment is not None and seed_hash(self.draw["seed"]) == self.commitment["seed_sha256"]

    @property
    def frozen_match_digest(self) -> bool:
        """The stored ids are sorted, each once, and hash to the stored digest."""
        return self.frozen is not None and self.frozen == sorted(set(self.frozen)) and digest(self.frozen) == self.draw["digest"]

    @property
    def winners_match(self) -> bool:
        """The rule gives the stored winners again."""
        return self.winners_again == list(self.draw["winners"])

    @property
    def committed_before_closing(self) -> bool:
        """The commitment was made before the campaign closed, as it closed then."""
        return self.commitment is not None and _at(self.commitment["committed_at"]) < _at(self.commitment["closes_at"])

    @property
    def drawn_after_closing(self) -> bool:
        """The draw ran once the campaign had closed, as it closed then."""
        return _at(self.draw["drawn_at"]) >= _at(self.draw["closes_at"])

    @property
    def verified(self) -> bool:
        """Every check holds."""
        return (
            self.seed_matches_commitment
            and self.frozen_match_digest
            and self.winners_match
            and self.committed_before_closing
            and self.drawn_after_closing
        )

    @property
    def entries_changed(self) -> bool:
        """The entries eligible today are not those the draw froze (reviews or flags since)."""
        frozen: str = self.draw["digest"]
        return digest(self.ids_now) != frozen


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def verify_draw(campaign: Campaign, entries: Iterable[Mapping[str, Any]], store: DrawStore) -> Verification | None:
    """Recompute the campaign's stored draw from its stored seed, frozen ids and rule; None
    when no draw is stored. Today's eligible entries are compared too, for information."""
    draw = store.draw(campaign.campaign_id)
    if draw is None:
        return None
    commitment = store.commitment(campaign.campaign_id)
    frozen = store.eligible(campaign.campaign_id, draw["digest"])
    wanted = int(draw["winners_requested"])
    winners = pick(frozen, draw["seed"], wanted) if frozen is not None and 1 <= wanted <= len(frozen) else []
    ids_now = eligible_ids(entries, _settings(campaign, draw))
    return Verification(draw, commitment, frozen, winners, ids_now)
