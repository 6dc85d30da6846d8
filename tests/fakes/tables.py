"""In-memory fakes of the table and queue ports: campaigns, submissions with their claims, request keys, a queue."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from events.messages.envelope import dump_message, load_message
from events.models import Campaign
from events.schemas import plain
from lambda_platform.ports import KeyClaim

NOW = datetime.now(UTC)


def campaign(campaign_id: str = "summer", *, opens_in_days: float = -1, closes_in_days: float = 30, **kwargs: Any) -> Campaign:
    """A campaign whose window is relative to now: open by default."""
    return Campaign(
        campaign_id=campaign_id,
        name=kwargs.pop("name", campaign_id.title()),
        opens_at=NOW + timedelta(days=opens_in_days),
        closes_at=NOW + timedelta(days=closes_in_days),
        **kwargs,
    )


class FakeQueue:
    """A MessageQueue that keeps what it was sent, serialised as SQS would carry it."""

    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.bodies: list[str] = []

    def send(self, message: Any) -> str:
        """Record the message and its JSON envelope; return a new message id."""
        body = dump_message(message)
        load_message(body)  # what a worker could not read must not reach the queue
        self.sent.append(message)
        self.bodies.append(body)
        return str(uuid.uuid4())


class FakeCampaigns:
    """A CampaignStore in a dict."""

    def __init__(self, *campaigns: Campaign) -> None:
        self.items: dict[str, Campaign] = {c.campaign_id: c for c in campaigns}
        self.gets: list[str] = []
        #: campaign id -> (changed_at, change_id) of the change `save` stored last.
        self.changes: dict[str, tuple[str, str]] = {}

    def get(self, campaign_id: str, fresh: bool = False) -> Campaign | None:
        """The campaign, or None (a dict is always fresh)."""
        self.gets.append(campaign_id)
        return self.items.get(campaign_id)

    def put(self, campaign: Campaign) -> None:
        """Create or replace a campaign."""
        self.items[campaign.campaign_id] = campaign
        self.changes.pop(campaign.campaign_id, None)

    def save(self, campaign: Campaign, change_id: str, changed_at: str) -> bool:
        """Store a campaign unless a change received later is stored, as the conditional put does."""
        known = self.changes.get(campaign.campaign_id)
        if known is not None and not (known[0] < changed_at or known[1] == change_id):
            return False
        self.items[campaign.campaign_id] = campaign
        self.changes[campaign.campaign_id] = (changed_at, change_id)
        return True

    def list(self) -> list[Campaign]:
        """Every campaign, by id."""
        return [self.items[k] for k in sorted(self.items)]


class FakeSubmissions:
    """A SubmissionStore: submissions and entry claims in dicts.

    `fail_puts` holds submission ids whose write put_many reports as unprocessed;
    `claims_taken_concurrently` holds claim ids that another worker takes between
    `claim_owners` and `claim`.
    """

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.claims: dict[str, str] = {}
        self.fail_puts: set[str] = set()
        self.claims_taken_concurrently: dict[str, str] = {}
        self.claim_calls: list[tuple[str, str]] = []

    def get(self, submission_id: str) -> dict[str, Any] | None:
        """The stored submission, or None."""
        item = self.items.get(submission_id)
        return copy.deepcopy(item) if item is not None else None

    def existing(self, submission_ids: Iterable[str]) -> set[str]:
        """The ids among `submission_ids` that are stored already."""
        return {i for i in submission_ids if i in self.items}

    def claim_owners(self, claim_ids: Iterable[str]) -> dict[str, str]:
        """claim id -> the submission id that holds it, for the claims that are taken."""
        return {c: self.claims[c] for c in claim_ids if c in self.claims}

    def claim(self, claim_id: str, submission_id: str) -> bool:
        """Take a claim; as the conditional write does, the same submission may take it again."""
        self.claim_calls.append((claim_id, submission_id))
        if claim_id in self.claims_taken_concurrently:
            self.claims.setdefault(claim_id, self.claims_taken_concurrently.pop(claim_id))
        owner = self.claims.setdefault(claim_id, submission_id)
        return owner == submission_id

    def put_many(self, items: Sequence[Mapping[str, Any]]) -> set[str]:
        """Store items (None values left out, as DynamoDB does); return the ids not written."""
        failed: set[str] = set()
        for item in items:
            submission_id = item["submission_id"]
            if submission_id in self.fail_puts:
                failed.add(submission_id)
                continue
            self.items[submission_id] = plain(dict(item))
        return failed


class FakeRequestKeys:
    """RequestKeys in a dict, counting in a FakeRateLimiter's counters as the one transaction does.

    `fake_ports` gives it the ports' rate limiter, so that both count in one table.
    """

    def __init__(self, limiter: Any = None) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.limiter = limiter

    def claim(
        self, key: str, fingerprint: str, message_id: str, received_at: str, limits=(), window_seconds: int = 60, now: float = 0.0
    ):
        """Record a new key and count the request; the full counter or the known record instead."""
        if limits and (full := self.limiter.full(limits, window_seconds, now)) is not None:
            return KeyClaim(full=full)
        if key in self.records:
            return KeyClaim(known=dict(self.records[key]))
        if limits:
            self.limiter.count(limits, window_seconds, now)
        self.records[key] = {"fingerprint": fingerprint, "message_id": message_id, "received_at": received_at}
        return KeyClaim()
