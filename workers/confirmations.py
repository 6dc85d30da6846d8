"""workers.confirmations: one confirmation email per stored entry, from the submissions stream.

Entries stored as `duplicate` get none; the idempotency table, keyed by submission id,
makes duplicate records, retries and replays send nothing more.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from events.models import DUPLICATE
from fleet.batch import batch_response
from fleet.telemetry import EMAILS_SENT, count
from fleet.ports import CampaignStore, Mailer
from fleet.stream_events import stream_records
from workers.emails import Email, Once, render, send_once

logger = Logger(service="fleet", child=False)

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


def _ports(context: Any) -> tuple[CampaignStore, Mailer, Once]:
    from fleet import settings
    from fleet.adapters.mail import SesMailer
    from fleet.adapters.tables import DynamoCampaigns
    from fleet.idempotency import once

    campaigns = DynamoCampaigns(cache_seconds=settings.current().campaign_cache_seconds)
    return campaigns, SesMailer(), lambda scope, key, action: once(scope, key, action, context)


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Confirm every entry inserted in this batch; report failed records by SequenceNumber."""
    failed: list[str] = []
    ports: tuple[CampaignStore, Mailer, Once] | None = None
    for record in stream_records(event):
        if not record.is_insert or record.new_image is None:
            continue
        logger.set_correlation_id(record.new_image.get("submission_id"))
        try:
            ports = ports or _ports(context)
            message_id = confirm_entry(record.new_image, *ports)
        except Exception as exc:  # throttled or in progress elsewhere: this record is retried
            logger.warning(
                "confirmation failed", extra={"sequence_number": record.sequence_number, "error": repr(exc)}
            )
            failed.append(record.sequence_number)
            continue
        if message_id:
            count(EMAILS_SENT)
            logger.info("confirmation sent", extra={"submission_id": record.new_image["submission_id"]})
    return batch_response(failed)
