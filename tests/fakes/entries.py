"""In-memory fake of the entries port: a campaign's entries read as the `by_campaign` index lists them."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from events.models import ACCEPTED, REJECTED, WAITLISTED
from lambda_platform.adapters.entries import FILTERED_EVALUATED, FILTERED_QUERIES, entry_key


class FakeEntries:
    """An EntryStore over a dict of submission items (by default its own; `fake_ports` gives it
    the fake submissions' dict, so what the worker's fake stores, the views list). Counts queries."""

    def __init__(self, items: dict[str, dict[str, Any]] | None = None, page_size: int = 1000) -> None:
        self.items: dict[str, dict[str, Any]] = {} if items is None else items
        self.page_size = page_size
        self.queries = 0

    def page(
        self,
        campaign_id: str,
        *,
        limit: int,
        after: Mapping[str, str] | None = None,
        status: str | None = None,
        flagged: bool | None = None,
        reviewed: bool | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """Newest first, as the adapter reads: `limit + 1` evaluated, or filtered, up to
        FILTERED_QUERIES reads of FILTERED_EVALUATED, the filter applied after each read's Limit."""
        keyed = self._ordered(campaign_id, newest_first=True)
        if after is not None:
            start = (after["received_at"], after["submission_id"])
            keyed = [(k, e) for k, e in keyed if k < start]
        filtered = status is not None or flagged is not None or reviewed is not None
        evaluated_a_read = max(limit + 1, FILTERED_EVALUATED) if filtered else limit + 1

        def passes(entry: Mapping[str, Any]) -> bool:
            return (
                (status is None or entry.get("status") == status)
                and (flagged is None or bool(entry.get("duplicate_receipt")) == flagged)
                and (reviewed is None or (entry.get("review") is not None) == reviewed)
            )

        shown: list[dict[str, Any]] = []
        for read in range(FILTERED_QUERIES if filtered else 1):
            self.queries += 1
            evaluated = keyed[read * evaluated_a_read : (read + 1) * evaluated_a_read]
            shown.extend(e for _, e in evaluated if passes(e))
            if len(shown) > limit:
                return copy.deepcopy(shown[:limit]), entry_key(shown[limit - 1])
            if len(evaluated) < evaluated_a_read:  # a full read answers a key to resume from, as DynamoDB's Limit does
                return copy.deepcopy(shown), None
        return copy.deepcopy(shown), entry_key(evaluated[-1][1])

    def iter_campaign(
        self, campaign_id: str, *, status: str | None = None, newest_first: bool = True
    ) -> Iterator[dict[str, Any]]:
        """Every entry of a campaign, a page of `page_size` at a time."""
        keyed = self._ordered(campaign_id, newest_first=newest_first)
        for start in range(0, len(keyed), self.page_size):
            self.queries += 1
            for _, entry in keyed[start : start + self.page_size]:
                if status is None or entry.get("status") == status:
                    yield copy.deepcopy(entry)
        if not keyed:
            self.queries += 1

    def get(self, submission_id: str) -> dict[str, Any] | None:
        """The stored entry, or None."""
        item = self.items.get(submission_id)
        return copy.deepcopy(item) if item is not None else None

    def count(self, campaign_id: str) -> int:
        """How many entries a campaign has stored."""
        return sum(1 for e in self.items.values() if e.get("campaign_id") == campaign_id)

    def record_review(self, submission_id: str, campaign_id: str, review: Mapping[str, Any]) -> bool:
        """Set the review under the conditional update's rule."""
        entry = self.items.get(submission_id)
        if entry is None or entry.get("campaign_id") != campaign_id:
            return False
        known = entry.get("review")
        if known and not (known["reviewed_at"] < review["reviewed_at"] or known["change_id"] == review["change_id"]):
            return False
        entry["review"] = {k: v for k, v in review.items() if v is not None}
        if review.get("decision") == REJECTED and entry.get("waitlisted_in") == campaign_id and entry.get("status") == WAITLISTED:
            entry["status"] = ACCEPTED  # off the waitlist, as the adapter's second write does
            entry.pop("waitlisted_in")
        return True

    def _ordered(self, campaign_id: str, *, newest_first: bool) -> list[tuple[tuple[str, str], dict[str, Any]]]:
        # The index's order: received_at, then (as the table's key breaks ties) the submission id.
        keyed = [((e["received_at"], e["submission_id"]), e) for e in self.items.values() if e.get("campaign_id") == campaign_id]
        return sorted(keyed, key=lambda pair: pair[0], reverse=newest_first)
