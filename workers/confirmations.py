"""workers.confirmations: one confirmation email per stored entry, from the submissions stream.

Entries stored as `duplicate` get none; the idempotency table, keyed by submission id
and read for the whole batch at once, makes duplicate records, retries and replays send
nothing more.
"""

from __future__ import annotations

from typing import Any

from events.models import DUPLICATE
from fleet.batch import process_inserts
from fleet.ports import CampaignStore, Mailer
from fleet.telemetry import EMAILS_SENT, count, logger
from workers.emails import Email, Once, inserted_keys, render, send_once

SCOPE = "confirmation"


def confirmation_email(entry: dict[str, Any], campaign_name: str) -> Email:
    """The confirmation email of a stored entry."""
    return render(
        "confirmation",
        to=entry["email"],
        first_name=entry["first_name"],
        campaign_name=campaign_name,
        submission_id=entry["submission_id"],
    )


def confirm_entry(entry: dict[str, Any], campaigns: CampaignStore, mailer: Mailer, once: Once) -> str | None:
    """Confirm an accepted entry by email, at most once; None for a duplicate entry."""
    if entry.get("status") == DUPLICATE:
        return None
    campaign = campaigns.get(entry["campaign_id"])
    name = campaign.name if campaign is not None else entry["campaign_id"]
    return send_once(confirmation_email(entry, name), SCOPE, entry["submission_id"], mailer, once)


def _ports(context: Any, event: Any) -> tuple[CampaignStore, Mailer, Once]:
    from fleet import settings
    from fleet.adapters.mail import SesMailer
    from fleet.adapters.tables import DynamoCampaigns
    from fleet.idempotency import batch_once

    campaigns = DynamoCampaigns(cache_seconds=settings.current().campaign_cache_seconds)
    return campaigns, SesMailer(), batch_once(SCOPE, inserted_keys(event, "submission_id"), context)


def _confirm(entry: dict[str, Any], ports: tuple[CampaignStore, Mailer, Once]) -> None:
    if confirm_entry(entry, *ports):
        count(EMAILS_SENT)
        logger.info("confirmation sent", extra={"submission_id": entry["submission_id"]})


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Confirm every entry inserted in this batch; report failed records by SequenceNumber."""
    return process_inserts(event, _confirm, lambda: _ports(context, event), context)
