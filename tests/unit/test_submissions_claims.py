"""workers.submissions takes the claims of a batch's emails at once, one email's entries in order."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from events.messages.campaigns import SubmitEntry
from events.models import ACCEPTED, DUPLICATE
from tests.fakes.tables import FakeCampaigns, FakeSubmissions, campaign
from workers.submissions import store_entries


def entry(n: int, email: str) -> SubmitEntry:
    return SubmitEntry(
        f"00000000-0000-4000-8000-{n:012d}", "summer", "Ana", "Souza", email, True, f"2025-06-14T09:00:00.{n:06d}+00:00"
    )


class SlowClaims(FakeSubmissions):
    """Claims that take a while each (a round trip), counting how many are under way at once."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.under_way = 0
        self.most_at_once = 0

    def claim(self, claim_id: str, submission_id: str) -> bool:
        with self.lock:
            self.under_way += 1
            self.most_at_once = max(self.most_at_once, self.under_way)
        threading.Event().wait(0.05)
        try:
            return super().claim(claim_id, submission_id)
        finally:
            with self.lock:
                self.under_way -= 1


def test_the_claims_of_different_emails_are_taken_at_once():
    submissions = SlowClaims()
    entries = [entry(n, f"person{n}@example.com") for n in range(1, 9)]

    assert store_entries(entries, FakeCampaigns(campaign("summer")), submissions, now=datetime.now(UTC)) == {}

    assert submissions.most_at_once > 1  # not one round trip after another
    assert {item["status"] for item in submissions.items.values()} == {ACCEPTED}


def test_one_emails_entries_still_claim_in_the_order_they_arrived():
    submissions = SlowClaims()
    limit_two = FakeCampaigns(campaign("summer", max_entries_per_email=2))
    entries = [entry(n, "ana@example.com" if n % 2 else f"person{n}@example.com") for n in range(1, 11)]

    assert store_entries(list(reversed(entries)), limit_two, submissions, now=datetime.now(UTC)) == {}

    ana = sorted((e.received_at, submissions.items[e.submission_id]["status"]) for e in entries if e.email == "ana@example.com")
    assert [status for _, status in ana] == [ACCEPTED, ACCEPTED, DUPLICATE, DUPLICATE, DUPLICATE]
