"""Ports: the small interfaces that services and views depend on.

Each has a boto3 adapter in `fleet.adapters` and an in-memory fake in the unit tests.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Protocol

from events.models import Campaign


class MessageQueue(Protocol):
    """A queue that takes messages."""

    def send(self, message: Any) -> str:
        """Send one message; return the queue's message id."""


class CampaignStore(Protocol):
    """The campaigns table."""

    def get(self, campaign_id: str) -> Campaign | None:
        """The campaign, or None."""

    def put(self, campaign: Campaign) -> None:
        """Create or replace a campaign."""

    def list(self) -> list[Campaign]:
        """Every campaign, by id."""


class SubmissionStore(Protocol):
    """The submissions table and its entry claims."""

    def get(self, submission_id: str) -> dict[str, Any] | None:
        """The stored submission, or None."""

    def existing(self, submission_ids: Iterable[str]) -> set[str]:
        """The ids among `submission_ids` that are stored already."""

    def claim_owners(self, claim_ids: Iterable[str]) -> dict[str, str]:
        """claim id -> the submission id that holds it, for the claims that are taken."""

    def claim(self, claim_id: str, submission_id: str) -> bool:
        """Take a claim for a submission; False when another submission holds it."""

    def put_many(self, items: list[Mapping[str, Any]]) -> set[str]:
        """Store items in batches; return the submission ids that could not be written."""


class RequestKeys(Protocol):
    """Idempotency-Key records of the API."""

    def claim(self, key: str, fingerprint: str, submission_id: str) -> dict[str, Any] | None:
        """Record a new key; return the existing record instead when the key is known."""

    def mark_queued(self, key: str) -> None:
        """Note that the key's message is on the queue."""
