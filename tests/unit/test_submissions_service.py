"""workers.submissions.store_entries over in-memory stores: idempotence and the entry rules."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from events.messages.campaigns import SubmitEntry
from events.models import ACCEPTED, DUPLICATE
from lambda_platform.errors import FleetError, RetryLater
from tests.fakes.tables import FakeCampaigns, FakeSubmissions, campaign
from workers.submissions import UnknownCampaign, claim_id, store_entries

STORED_AT = datetime(2025, 6, 14, 9, 30, tzinfo=UTC)
_counter = iter(range(1, 10_000))


def entry(email: str = "ana@example.com", campaign_id: str = "summer", **kwargs) -> SubmitEntry:
    """A valid entry with a fresh submission id and a later received_at than the last one."""
    n = next(_counter)
    defaults = {
        "submission_id": f"00000000-0000-4000-8000-{n:012d}",
        "campaign_id": campaign_id,
        "first_name": "Ana",
        "last_name": "Souza",
        "email": email,
        "consent": True,
        "received_at": f"2025-06-14T09:00:00.{n:06d}+00:00",
    }
    return SubmitEntry(**{**defaults, **kwargs})


def store(entries, campaigns, submissions):
    return store_entries(entries, campaigns, submissions, now=STORED_AT)


def statuses(submissions) -> dict[str, str]:
    return {i: item["status"] for i, item in submissions.items.items()}


def test_stores_an_entry_as_accepted_with_its_fields(campaigns, submissions):
    e = entry(phone="+44 20 7946 0958", answers={"flavour": "mango"})

    assert store([e], campaigns, submissions) == {}

    item = submissions.items[e.submission_id]
    assert item["status"] == ACCEPTED
    assert item["email"] == "ana@example.com" and item["email_lower"] == "ana@example.com"
    assert item["phone"] == "+44 20 7946 0958"
    assert item["answers"] == {"flavour": "mango"}
    assert item["stored_at"] == STORED_AT.isoformat()
    assert item["received_at"] == e.received_at


def test_same_entry_twice_in_one_batch_is_stored_once(campaigns, submissions):
    e = entry()

    assert store([e, e], campaigns, submissions) == {}

    assert statuses(submissions) == {e.submission_id: ACCEPTED}
    assert len(submissions.claims) == 1


def test_redelivered_entry_is_not_stored_again_nor_turned_into_a_duplicate(campaigns, submissions):
    e = entry()
    store([e], campaigns, submissions)
    first = dict(submissions.items[e.submission_id])

    assert store([e], campaigns, submissions) == {}
    assert store([e], campaigns, submissions) == {}

    assert submissions.items == {e.submission_id: first}
    assert len(submissions.claim_calls) == 1


def test_second_entry_of_the_same_email_is_a_duplicate_whatever_its_case(campaigns, submissions):
    first = entry("ana@example.com")
    second = entry("  ANA@Example.COM ")

    assert store([second, first], campaigns, submissions) == {}

    # The earlier entry (by received_at) wins the one slot, whatever the batch order.
    assert statuses(submissions) == {first.submission_id: ACCEPTED, second.submission_id: DUPLICATE}


def test_duplicate_across_batches_is_stored_not_dropped(campaigns, submissions):
    first, second = entry("ben@example.org"), entry("Ben@Example.org")

    store([first], campaigns, submissions)
    assert store([second], campaigns, submissions) == {}

    assert statuses(submissions) == {first.submission_id: ACCEPTED, second.submission_id: DUPLICATE}


def test_a_campaign_allowing_two_entries_accepts_two_then_marks_the_third(submissions):
    campaigns = FakeCampaigns(campaign("summer", max_entries_per_email=2))
    one, two, three = entry("cy@example.com"), entry("CY@example.com"), entry("cy@example.com")

    assert store([one, two], campaigns, submissions) == {}
    assert store([three], campaigns, submissions) == {}

    assert statuses(submissions) == {
        one.submission_id: ACCEPTED,
        two.submission_id: ACCEPTED,
        three.submission_id: DUPLICATE,
    }
    assert set(submissions.claims) == {claim_id("summer", "cy@example.com", 1), claim_id("summer", "cy@example.com", 2)}


def test_the_limit_is_per_campaign(submissions):
    campaigns = FakeCampaigns(campaign("summer"), campaign("winter"))
    a, b = entry("dee@example.com", "summer"), entry("dee@example.com", "winter")

    assert store([a, b], campaigns, submissions) == {}

    assert statuses(submissions) == {a.submission_id: ACCEPTED, b.submission_id: ACCEPTED}


def test_an_unknown_campaign_fails_only_that_entry(campaigns, submissions):
    good, lost = entry(), entry("eve@example.com", campaign_id="no-such-campaign")

    failures = store([good, lost], campaigns, submissions)

    assert list(failures) == [lost.submission_id]
    assert isinstance(failures[lost.submission_id], UnknownCampaign)
    assert statuses(submissions) == {good.submission_id: ACCEPTED}


def test_crash_after_the_claim_is_retried_as_accepted(campaigns, submissions):
    # The first delivery took the claim, then died before writing the item.
    e = entry()
    submissions.claims[claim_id("summer", e.email, 1)] = e.submission_id

    assert store([e], campaigns, submissions) == {}

    assert statuses(submissions) == {e.submission_id: ACCEPTED}


def test_claim_lost_to_a_concurrent_worker_makes_a_duplicate(campaigns, submissions):
    e = entry()
    submissions.claims_taken_concurrently[claim_id("summer", e.email, 1)] = "someone-else"

    assert store([e], campaigns, submissions) == {}

    assert statuses(submissions) == {e.submission_id: DUPLICATE}


def test_a_write_left_unprocessed_fails_only_that_entry_and_a_retry_stores_it(campaigns, submissions):
    kept, dropped = entry("fay@example.com"), entry("gus@example.com")
    submissions.fail_puts.add(dropped.submission_id)

    failures = store([kept, dropped], campaigns, submissions)

    assert list(failures) == [dropped.submission_id]
    assert isinstance(failures[dropped.submission_id], FleetError)
    assert statuses(submissions) == {kept.submission_id: ACCEPTED}

    submissions.fail_puts.clear()
    assert store([dropped], campaigns, submissions) == {}
    assert statuses(submissions)[dropped.submission_id] == ACCEPTED  # its own claim, not a duplicate


def test_a_throttled_claim_fails_only_that_entry(campaigns, submissions, monkeypatch):
    calm, throttled = entry("hal@example.com"), entry("ivy@example.com")
    real_claim = submissions.claim

    def claim(claim_id_, submission_id):
        if submission_id == throttled.submission_id:
            raise RetryLater("ProvisionedThroughputExceededException")
        return real_claim(claim_id_, submission_id)

    monkeypatch.setattr(submissions, "claim", claim)

    failures = store([calm, throttled], campaigns, submissions)

    assert list(failures) == [throttled.submission_id]
    assert isinstance(failures[throttled.submission_id], RetryLater)
    assert statuses(submissions) == {calm.submission_id: ACCEPTED}


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_never_more_accepted_entries_than_the_limit(submissions, limit):
    campaigns = FakeCampaigns(campaign("summer", max_entries_per_email=limit))
    batch = [entry(email) for email in ["joy@example.com", "JOY@example.com", "Joy@Example.com", "joy@EXAMPLE.COM"] * 2]
    batch += [replace(batch[0])]  # a redelivery in the same batch

    assert store(batch[:3], campaigns, submissions) == {}
    assert store(batch[3:], campaigns, submissions) == {}

    accepted = [i for i, s in statuses(submissions).items() if s == ACCEPTED]
    assert len(accepted) == limit
    assert len(submissions.items) == 8


@pytest.mark.parametrize("seed", range(50))
def test_random_deliveries_keep_the_rules(seed):
    """Seeded random batches (hypothesis is not installed): redeliveries, case changes, splits."""
    rng = random.Random(seed)
    limit = rng.randint(1, 3)
    campaigns, submissions = FakeCampaigns(campaign("summer", max_entries_per_email=limit)), FakeSubmissions()
    people = ["kai@example.com", "lea@example.com", "max@example.com"]
    entries = [entry(rng.choice([p, p.upper(), p.title()])) for p in rng.choices(people, k=rng.randint(1, 12))]
    deliveries = [e for e in entries for _ in range(rng.randint(1, 3))]
    rng.shuffle(deliveries)
    cuts = sorted(rng.sample(range(1, len(deliveries)), k=min(3, len(deliveries) - 1)))
    batches = [deliveries[a:b] for a, b in zip([0, *cuts], [*cuts, len(deliveries)], strict=True)]

    for batch in batches:
        assert store(batch, campaigns, submissions) == {}
    snapshot = dict(submissions.items)
    for batch in batches:  # a replay of everything changes nothing
        assert store(batch, campaigns, submissions) == {}

    assert submissions.items == snapshot
    assert set(submissions.items) == {e.submission_id for e in entries}
    for person in people:
        mine = [e for e in entries if e.email.lower() == person]
        accepted = [e for e in mine if submissions.items[e.submission_id]["status"] == ACCEPTED]
        assert len(accepted) == min(limit, len(mine))  # who wins depends on delivery order
