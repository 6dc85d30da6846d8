"""workers.submissions: store campaign entries delivered by the submissions pipe.

Idempotent by submission id; the campaign's entries-per-email rule holds under
concurrent workers because each accepted entry takes a claim with a conditional write.
An entry over the limit is stored with status `duplicate`, never dropped.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from events.messages.campaigns import SubmitEntry
from events.messages.envelope import load_message
from events.models import ACCEPTED, DUPLICATE, Campaign
from lambda_platform.batch import process_whole_batch
from lambda_platform.errors import FleetError
from lambda_platform.ports import CampaignStore, SubmissionStore
from lambda_platform.telemetry import SUBMISSIONS_STORED, count, logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

#: Claims under way at once in a batch (a batch is ten entries; botocore pools 32 connections).
CLAIMS_AT_ONCE = 10


class UnknownCampaign(FleetError):
    """The entry names a campaign that does not exist."""


def claim_id(campaign_id: str, email: str, slot: int) -> str:
    """The claim on one entry slot of an email address in a campaign."""
    return f"{campaign_id}#{email.strip().lower()}#{slot}"


def submission_item(entry: SubmitEntry, status: str, stored_at: str) -> dict[str, Any]:
    """The submissions table item for an entry."""
    return {
        "submission_id": entry.submission_id,
        "campaign_id": entry.campaign_id,
        "first_name": entry.first_name,
        "last_name": entry.last_name,
        "email": entry.email,
        "email_lower": entry.email.lower(),
        "phone": entry.phone,
        "postal_code": entry.postal_code,
        "consent": entry.consent,
        "upload_key": entry.upload_key,
        "answers": entry.answers or None,
        "received_at": entry.received_at,
        "stored_at": stored_at,
        "status": status,
    }


def store_entries(
    entries: list[SubmitEntry],
    campaigns: CampaignStore,
    submissions: SubmissionStore,
    now: datetime | None = None,
) -> dict[str, BaseException]:
    """Store a batch of entries; return the failures by submission id (the rest are stored).

    Calls per batch: one batched read of stored ids, one of claims, one conditional write
    per new accepted entry (different emails' at once), and batched writes of the items.
    """
    stored_at = (now or datetime.now(UTC)).isoformat()
    unique = list({e.submission_id: e for e in entries}.values())
    already = submissions.existing(e.submission_id for e in unique)
    new = sorted((e for e in unique if e.submission_id not in already), key=lambda e: e.received_at)

    failures: dict[str, BaseException] = {}
    known: dict[str, Campaign | None] = {}
    for campaign_id in {e.campaign_id for e in new}:
        known[campaign_id] = campaigns.get(campaign_id)

    slots: dict[str, list[str]] = {}
    for entry in new:
        campaign = known[entry.campaign_id]
        if campaign is None:
            failures[entry.submission_id] = UnknownCampaign(entry.campaign_id)
            continue
        limit = campaign.max_entries_per_email
        slots[entry.submission_id] = [claim_id(entry.campaign_id, entry.email, n) for n in range(1, limit + 1)]
    owners = submissions.claim_owners(c for ids in slots.values() for c in ids)

    taken = _take_slots([e for e in new if e.submission_id in slots], slots, owners, submissions)
    items: list[dict[str, Any]] = []
    for entry in new:
        outcome = taken.get(entry.submission_id)
        if isinstance(outcome, FleetError):  # throttled: this record alone is retried
            failures[entry.submission_id] = outcome
        elif outcome is not None:
            items.append(submission_item(entry, outcome, stored_at))

    for submission_id in submissions.put_many(items):
        failures[submission_id] = FleetError("write left unprocessed after retries")
    return failures


def _take_slots(
    entries: list[SubmitEntry], slots: dict[str, list[str]], owners: dict[str, str], store: SubmissionStore
) -> dict[str, str | FleetError]:
    """Each entry's status, or the FleetError of its claim: an email's entries one after another
    in arrival order, different emails at once (each claim is a round trip, and they share no slot)."""
    by_email: dict[str, list[SubmitEntry]] = {}
    for entry in entries:  # `entries` is in arrival order
        by_email.setdefault(claim_id(entry.campaign_id, entry.email, 0), []).append(entry)

    def claim_in_turn(group: list[SubmitEntry]) -> dict[str, str | FleetError]:
        outcomes: dict[str, str | FleetError] = {}
        for entry in group:
            try:
                outcomes[entry.submission_id] = _take_slot(entry.submission_id, slots[entry.submission_id], owners, store)
            except FleetError as exc:
                outcomes[entry.submission_id] = exc
        return outcomes

    groups = list(by_email.values())
    if len(groups) <= 1:
        return claim_in_turn(groups[0]) if groups else {}
    taken: dict[str, str | FleetError] = {}
    with ThreadPoolExecutor(min(len(groups), CLAIMS_AT_ONCE)) as pool:
        for outcomes in pool.map(claim_in_turn, groups):  # an unexpected error fails the batch, as before
            taken.update(outcomes)
    return taken


def _take_slot(submission_id: str, slots: list[str], owners: dict[str, str], store: SubmissionStore) -> str:
    if any(owners.get(s) == submission_id for s in slots):
        return ACCEPTED  # claimed on an earlier delivery that failed before storing
    for slot in slots:
        if slot in owners:
            continue
        if store.claim(slot, submission_id):
            owners[slot] = submission_id
            return ACCEPTED
        owners[slot] = "(taken concurrently)"
    return DUPLICATE


def _adapters() -> tuple[CampaignStore, SubmissionStore]:
    from lambda_platform.composition import ports

    # A warm process keeps its ports: the campaigns' cache spares a GetItem a batch, as the API's does.
    built = ports()
    return built.campaigns, built.submissions


def _entry(record: SQSRecord) -> SubmitEntry:
    entry = load_message(record.body)
    if not isinstance(entry, SubmitEntry):
        raise TypeError(f"not a SubmitEntry message: {type(entry).__name__}")
    return entry


def _store(entries: list[SubmitEntry]) -> dict[str, BaseException]:
    failures = store_entries(entries, *_adapters())
    count(SUBMISSIONS_STORED, len({e.submission_id for e in entries} - set(failures)))
    for submission_id, exc in failures.items():
        logger.set_correlation_id(submission_id)
        logger.warning("entry failed", extra={"submission_id": submission_id, "error": repr(exc)})
    return failures


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Store the entries of a Pipe (bare list) or SQS batch at once; report the failed records by messageId."""
    return process_whole_batch(event, parse=_entry, key=lambda entry: entry.submission_id, handle=_store)
