"""workers.campaign_admin: store the campaigns and the entries' reviews that operators queued through the admin API.

A campaign is one conditional put and a review one conditional UpdateItem, both ordered
by the time the API received them: a redelivery stores the same again, and a replay of
an older change never overwrites a newer one. A change skipped that way, or a review of
an entry that is not stored (or not the campaign's), is an outcome, not a failure: it is
logged and never loops to the dead-letter queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from events.messages.campaigns import ReviewEntry, SaveCampaign
from events.messages.envelope import load_message
from events.models import Campaign
from events.schemas import CampaignSchema, shared
from lambda_platform.batch import process_sqs
from lambda_platform.ports import CampaignStore, EntryStore
from lambda_platform.telemetry import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


class CampaignAdminPorts(NamedTuple):
    """The ports of workers.campaign_admin."""

    campaigns: CampaignStore
    entries: EntryStore


def campaign_of(message: SaveCampaign) -> Campaign:
    """The Campaign a SaveCampaign stores, checked as every campaign is (a bad one fails its record)."""
    fields = shared(CampaignSchema).load(
        {
            "campaign_id": message.campaign_id,
            "name": message.name,
            "opens_at": message.opens_at,
            "closes_at": message.closes_at,
            "max_entries_per_email": message.max_entries_per_email,
            "gives_codes": message.gives_codes,
            "draw_includes_unreviewed": message.draw_includes_unreviewed,
            "draw_includes_flagged": message.draw_includes_flagged,
        }
    )
    return Campaign(**fields)


def review_of(message: ReviewEntry) -> dict[str, Any]:
    """The `review` map a ReviewEntry records on its entry: which key, when, why."""
    review = {
        "decision": message.decision,
        "reason": message.reason,
        "key_id": message.key_id,
        "key_name": message.key_name,
        "reviewed_at": message.received_at,
        "change_id": message.change_id,
    }
    return {k: v for k, v in review.items() if v is not None}


def apply(message: Any, ports: CampaignAdminPorts) -> str:
    """Apply one campaign-admin message; return what happened (`saved`, `reviewed` or `skipped`)."""
    if isinstance(message, SaveCampaign):
        saved = ports.campaigns.save(campaign_of(message), message.change_id, message.received_at)
        return "saved" if saved else "skipped"
    if isinstance(message, ReviewEntry):
        recorded = ports.entries.record_review(message.submission_id, message.campaign_id, review_of(message))
        return "reviewed" if recorded else "skipped"
    raise TypeError(f"not a campaign-admin message: {type(message).__name__}")


def _adapters() -> CampaignAdminPorts:
    from lambda_platform.composition import ports

    built = ports()
    return CampaignAdminPorts(built.campaigns, built.entries)


def _write(record: SQSRecord, ports: CampaignAdminPorts) -> None:
    message = load_message(record.body)
    outcome = apply(message, ports)
    logger.info(
        "campaign admin write",
        extra={
            "type": type(message).__name__,
            "campaign_id": message.campaign_id,
            "change_id": message.change_id,
            "outcome": outcome,
        },
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Apply a batch of campaign saves and entry reviews; report the failed records by messageId."""
    return process_sqs(event, _write, _adapters, context)
