"""The demo campaign that `fleet up` stores on the local stage, so the entry page has one to show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from events.models import Campaign

DEMO_CAMPAIGN_ID = "demo"
#: How long the demo campaign stays open from the moment `fleet up` starts.
DEMO_OPEN_FOR = timedelta(days=30)


def create_demo_campaign(now: datetime | None = None) -> Campaign:
    """Store (or replace) the `demo` campaign, open from now for 30 days."""
    from lambda_platform.composition import ports

    now = (now or datetime.now(UTC)).replace(microsecond=0)
    campaign = Campaign(DEMO_CAMPAIGN_ID, "Demo receipts", now, now + DEMO_OPEN_FOR, max_entries_per_email=1)
    ports().campaigns.put(campaign)
    return campaign


def entry_page_url(api_url: str, campaign_id: str) -> str:
    """Where a campaign's entry page is served by the API at `api_url`."""
    return f"{api_url.rstrip('/')}/c/{campaign_id}"
