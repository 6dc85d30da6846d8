"""workers.confirmations: settle each entry from the submissions stream, then confirm it once.

INSERT and MODIFY records, by their new image. An entry not confirmed yet is settled:
its receipt photo, once the thumbnail worker has made it ready, is checked against the
campaign's other photos (a photo still pending sends nothing yet: the worker touches the
entry when it is done, which comes back here as a MODIFY); a campaign that gives codes
gives one to an entry that is no copy and was not rejected in review, or waitlists it (the
give's own conditional write checks that again, against a flag or a review written
meanwhile); then one confirmation email goes out, with the code or the waitlist line. An entry that later got its code from the
waitlist gets one "your code" email. Entries stored as `duplicate` get nothing.

The idempotency table, keyed by submission id and read for the whole batch at once,
makes duplicate records, retries and replays send nothing more; a retry settles again and
finds the same code, since giving one is idempotent (`campaigns.codes.give_code`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from campaigns.codes import EntryCode, give_code
from events.email_feedback import SUPPRESSED, TAG_ENTRY, utc_time
from events.models import ACCEPTED, DUPLICATE, DUPLICATE_RECEIPT, REJECTED
from events.uploads import PENDING, READY, parse_upload_key
from lambda_platform.batch import process_changes
from lambda_platform.ports import CampaignStore, CodeStore, EmailStatuses, Mailer, Once
from lambda_platform.telemetry import EMAILS_SENT, count, logger
from workers.emails import NOT_SENT, Email, addresses_of, changed_keys, deliver, render, stream_images, suppression_lookup

SCOPE = "confirmation"
#: The "your code" email of an entry given its code from the waitlist.
CODE_SCOPE = "code"


class ReceiptPending(Exception):
    """The entry's photo is not processed yet: nothing is sent until its MODIFY comes back."""


@dataclass(frozen=True)
class SettlePorts:
    """What settling an entry needs."""

    campaigns: CampaignStore
    mailer: Mailer
    #: Confirmations sent, read for the batch at once.
    once: Once
    #: "Your code" emails sent, read for the batch when first needed.
    code_once: Callable[[], Once]
    #: An upload's record by upload id (the batch's read at once), or None.
    upload: Callable[[str], Mapping[str, Any] | None]
    codes: CodeStore
    #: `campaigns.receipts.check_receipt` on its ports: records the photo's hash, returns earlier copies' ids.
    check_receipt: Callable[[Mapping[str, Any], str], list[str]]
    #: Whether an address is on the suppression list (the batch's read at once, when first asked).
    suppressed: Callable[[str], bool]
    statuses: EmailStatuses


def confirmation_email(entry: Mapping[str, Any], campaign_name: str, code: str | None = None, waitlisted: bool = False) -> Email:
    """The confirmation email of a stored entry: with its code, or saying it is on the waitlist."""
    return render(
        "confirmation",
        to=entry["email"],
        tags=((TAG_ENTRY, entry["submission_id"]),),
        first_name=entry["first_name"],
        campaign_name=campaign_name,
        submission_id=entry["submission_id"],
        code=code,
        waitlisted=waitlisted,
    )


def code_email(entry: Mapping[str, Any], campaign_name: str) -> Email:
    """The email that brings a waitlisted entry its code."""
    return render(
        "code",
        to=entry["email"],
        tags=((TAG_ENTRY, entry["submission_id"]),),
        first_name=entry["first_name"],
        campaign_name=campaign_name,
        submission_id=entry["submission_id"],
        code=entry["code"],
    )


def receipt_copies(entry: Mapping[str, Any], ports: SettlePorts) -> list[str]:
    """The earlier entries whose photo this entry's copies; ReceiptPending while the photo is being processed."""
    parsed = parse_upload_key(str(entry.get("upload_key") or ""))
    upload = ports.upload(parsed.upload_id) if parsed is not None else None
    if parsed is None or upload is None:
        return []  # no photo, or a key the API never handed out: nothing to compare
    if upload.get("status") == PENDING:
        raise ReceiptPending(parsed.upload_id)
    if upload.get("status") == READY and upload.get("phash"):
        return ports.check_receipt(entry, str(upload["phash"]))
    return []  # rejected, or processed before photos were hashed


def settle_and_confirm(entry: Mapping[str, Any], ports: SettlePorts) -> dict[str, Any]:
    """Check the entry's receipt, give its code, send its confirmation; what was sent."""
    campaign = ports.campaigns.get(entry["campaign_id"])
    name = campaign.name if campaign is not None else entry["campaign_id"]
    copies = receipt_copies(entry, ports)
    flagged = bool(copies or entry.get(DUPLICATE_RECEIPT))
    rejected = (entry.get("review") or {}).get("decision") == REJECTED
    code: str | None = None
    waitlisted = False
    if campaign is not None and campaign.gives_codes and not flagged and not rejected:
        given = (
            EntryCode(entry["code"])
            if entry.get("code")
            else give_code(campaign.campaign_id, entry["submission_id"], ports.codes)
        )
        code, waitlisted = given.code, given.waitlisted
    message_id = _send(confirmation_email(entry, name, code, waitlisted), entry, ports)
    logger.info(
        "confirmation sent" if message_id != NOT_SENT else "confirmation not sent: suppressed",
        extra={"submission_id": entry["submission_id"], "code": bool(code), "waitlisted": waitlisted},
    )
    return {"message_id": message_id, "code": code, "waitlisted": waitlisted}


def _send(email: Email, entry: Mapping[str, Any], ports: SettlePorts) -> str:
    """Send unless the address is suppressed (then the entry says so); SES's message id, or NOT_SENT.

    A code given to an entry whose address bounced stays given: `fleet campaigns codes status`
    counts them for the operator.
    """
    message_id = deliver(email, ports.mailer, ports.suppressed)
    if message_id == NOT_SENT:
        ports.statuses.mark_entry(entry["submission_id"], SUPPRESSED, utc_time(datetime.now(UTC).isoformat()))
    else:
        count(EMAILS_SENT)
    return message_id


def confirm_entry(entry: Mapping[str, Any], ports: SettlePorts) -> dict[str, Any] | None:
    """Settle and confirm an entry at most once, and bring a waitlisted one its code once; None when nothing is due."""
    if entry.get("status") == DUPLICATE:
        return None
    try:
        confirmed = ports.once(SCOPE, entry["submission_id"], lambda: settle_and_confirm(entry, ports))
    except ReceiptPending:
        logger.info("confirmation waits for the photo", extra={"submission_id": entry["submission_id"]})
        return None
    confirmed = confirmed if isinstance(confirmed, dict) else {"message_id": confirmed, "code": None}
    if _from_waitlist(entry) and confirmed.get("code") != entry["code"]:
        ports.code_once()(CODE_SCOPE, entry["submission_id"], lambda: _send_code(entry, ports))
    return confirmed


def _from_waitlist(entry: Mapping[str, Any]) -> bool:
    return entry.get("status") == ACCEPTED and bool(entry.get("code")) and bool(entry.get("waitlisted_at"))


def _send_code(entry: Mapping[str, Any], ports: SettlePorts) -> str:
    campaign = ports.campaigns.get(entry["campaign_id"])
    message_id = _send(code_email(entry, campaign.name if campaign else entry["campaign_id"]), entry, ports)
    logger.info(
        "code from the waitlist sent" if message_id != NOT_SENT else "code from the waitlist not sent: suppressed",
        extra={"submission_id": entry["submission_id"]},
    )
    return message_id


def upload_ids(event: Any) -> list[str]:
    """The uploads a batch's entries sent, for entries that may still need settling (no code yet)."""
    ids: list[str] = []
    for image in stream_images(event):
        key = (image.get("upload_key") or {}).get("S")
        parsed = parse_upload_key(key) if isinstance(key, str) else None
        if parsed is not None and "code" not in image and (image.get("status") or {}).get("S") != DUPLICATE:
            ids.append(parsed.upload_id)
    return list(dict.fromkeys(ids))


def from_waitlist_keys(event: Any) -> list[str]:
    """The ids of a batch's entries that got their code from the waitlist."""
    keys: list[str] = []
    for image in stream_images(event, ("MODIFY",)):
        plain = {k: next(iter(v.values())) for k, v in image.items() if isinstance(v, dict) and v}
        if _from_waitlist(plain) and isinstance(plain.get("submission_id"), str):
            keys.append(plain["submission_id"])
    return keys


def batch_uploads(ids: list[str], read: Callable[[list[str]], list[dict[str, Any]]]) -> Callable[[str], Mapping[str, Any] | None]:
    """An upload lookup that reads every id of the batch in one go, on its first use."""

    @functools.cache
    def everything() -> dict[str, dict[str, Any]]:
        return {r["upload_id"]: r for r in read(ids)} if ids else {}

    def lookup(upload_id: str) -> Mapping[str, Any] | None:
        found = everything()
        if upload_id not in found and upload_id not in ids:
            return {r["upload_id"]: r for r in read([upload_id])}.get(upload_id)
        return found.get(upload_id)

    return lookup


def _ports(context: Any, event: Any) -> SettlePorts:
    from lambda_platform.composition import ports

    built = ports()

    def check_receipt(entry: Mapping[str, Any], phash: str) -> list[str]:
        from campaigns.receipts import check_receipt as check

        return check(entry, phash, built.receipt_index, built.receipt_flags, built.codes)

    return SettlePorts(
        campaigns=built.campaigns,
        mailer=built.mailer,
        once=built.batch_once(SCOPE, changed_keys(event, "submission_id"), context),
        code_once=functools.cache(lambda: built.batch_once(CODE_SCOPE, from_waitlist_keys(event), context)),
        upload=batch_uploads(upload_ids(event), lambda ids: built.uploads.get_many(ids)),
        codes=built.codes,
        check_receipt=check_receipt,
        suppressed=suppression_lookup(addresses_of(event), built.suppressions.suppressed),
        statuses=built.email_statuses,
    )


def _confirm(entry: dict[str, Any], ports: SettlePorts) -> None:
    confirm_entry(entry, ports)


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Settle and confirm every entry inserted or changed in this batch; report failed records by SequenceNumber."""
    return process_changes(event, _confirm, lambda: _ports(context, event), context)
