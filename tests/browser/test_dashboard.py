"""The local live view in a real browser, over the whole fleet started in the test: a poison entry from dead letter to stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def poison_entry(campaign_id: str) -> str:
    """Queue an entry, as the API would, for a campaign that is not stored: the worker fails it every time."""
    from events.messages.campaigns import SubmitEntry
    from lambda_platform.adapters.queues import SqsQueue

    submission_id = str(uuid.uuid4())
    received = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    SqsQueue("submissions").send(SubmitEntry(submission_id, campaign_id, "Ada", "Lovelace", "ada@example.com", True, received))
    return submission_id


def test_a_poison_entry_shows_dead_lettered_is_listed_by_the_dry_run_and_replayed_after_the_fix(
    running_fleet, make_campaign, page, shots
):
    from lambda_platform.adapters.tables import DynamoSubmissions

    page.goto(f"{running_fleet.api_url}/_local/dashboard")
    dead = page.locator("#queue-submissions td.dead")
    expect(dead).to_have_text("0")
    expect(page.locator("#status")).to_contain_text("the workers are reporting", timeout=10_000)
    expect(page.locator("#no-failures")).to_be_visible()
    expect(page.locator("#replay-submissions")).to_be_hidden()
    shots.take(page, "empty-fleet")

    # The campaign has gone (or never was): each receive fails, the fifth one dead-letters it.
    submission_id = poison_entry("vanished")
    expect(dead).to_have_text("1", timeout=60_000)
    expect(page.locator("#queue-submissions")).to_have_class("troubled")
    failures = page.locator("#failures")
    expect(failures).to_contain_text("pipe:submissions->submissions")
    expect(failures).to_contain_text("UnknownCampaign")
    failed = page.locator('#triggers tr[data-trigger="pipe:submissions->submissions"] td.failed')
    expect(failed).not_to_have_text("0")
    shots.take(page, "dead-lettered")

    page.locator("#dry-run-submissions").click()
    expect(page.locator("#replay-title")).to_have_text("Dry run of submissions: 1 would go from submissions-dlq to submissions")
    expect(page.locator("#replay-items li")).to_have_count(1)
    expect(page.locator("#replay-items")).to_contain_text(submission_id)
    expect(dead).to_have_text("1")  # a dry run leaves it where it is
    shots.take(page, "dry-run")

    make_campaign("vanished")  # the fix: the campaign is back
    page.locator("#replay-submissions").click()
    expect(page.locator("#replay-title")).to_have_text("Replayed submissions: 1 went from submissions-dlq to submissions")
    expect(dead).to_have_text("0", timeout=15_000)
    running_fleet.drain()
    stored = DynamoSubmissions().get(submission_id)
    assert stored is not None and stored["campaign_id"] == "vanished"
    expect(page.locator("#queue-submissions")).not_to_have_class("troubled")
    expect(page.locator("#replay-submissions")).to_be_hidden()
    shots.take(page, "replayed")
    assert page.problems == []
