"""workers.thumbnails: check each new upload, make its thumbnails, record the outcome.

S3 ObjectCreated under `uploads/` -> bucket notification -> the uploads queue -> here.
A rejected upload is an outcome, not a failure: it is recorded and its original moved to
quarantine, and the record succeeds. Only a throttled or unreachable S3 or DynamoDB (or a
bug) fails a record, so that SQS delivers it again.

A campaign's photo is hashed (`campaigns.receipts`) and its hash stored with the outcome;
then the entry that sent it, if it is stored yet, is touched (`receipt_ready_at`), so that
its confirmation, waiting for the photo, comes back as a stream MODIFY and checks the
receipt. The outcome is written before the entry is looked up: an entry stored meanwhile
reads the outcome itself. A retry of a record whose outcome is recorded skips the
thumbnails (same ETag) but touches the entry again, with the same value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from events.uploads import (
    DEFAULT_MAX_BYTES,
    READY,
    REJECTED,
    ObjectCreated,
    UploadKey,
    object_created_records,
    parse_upload_key,
    quarantine_key,
    thumbnail_key,
)
from lambda_platform.batch import process_sqs
from lambda_platform.ports import ObjectStore, ReceiptFlags, UploadStore
from lambda_platform.telemetry import THUMBNAILS_MADE, count, logger
from workers.imaging import ImageRejected, make_thumbnails

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

#: What `process_upload` did with one notice.
SKIPPED = "skipped"

#: The reason of an object whose size is not the one its upload declared.
SIZE_MISMATCH = "size_mismatch"


def process_upload(
    notice: ObjectCreated,
    objects: ObjectStore,
    uploads: UploadStore,
    receipts: ReceiptFlags,
    now: datetime | None = None,
) -> str:
    """Check one uploaded object, make its thumbnails, touch its entry; return `ready`, `rejected` or `skipped`.

    Safe to repeat: a notice for an object whose current version (by ETag) has already
    been handled changes nothing, except finishing a quarantine that was interrupted and
    touching the entry again.
    """
    stamp = (now or datetime.now(UTC)).isoformat()
    parsed = parse_upload_key(notice.key)
    upload = uploads.get(parsed.upload_id) if parsed else None
    if parsed is None or upload is None or upload.get("key") != notice.key:
        # Not a key the API handed out: keep it out of the uploads prefix, record nothing.
        logger.warning("unknown upload quarantined", extra={"key": notice.key})
        objects.move(notice.key, quarantine_key(notice.key))
        return REJECTED

    if notice.etag and upload.get("etag") == notice.etag and upload.get("status") in (READY, REJECTED):
        if upload["status"] == REJECTED:
            objects.move(notice.key, quarantine_key(notice.key))  # in case the first try stopped early
        touch_senders(parsed, notice.key, str(upload.get("processed_at") or stamp), receipts)
        return SKIPPED

    head = objects.head(notice.key)
    if head is None:
        logger.info("object gone before it was processed", extra={"key": notice.key})
        return SKIPPED
    found: dict[str, Any] = {"bytes": head.size, "etag": head.etag, "processed_at": stamp}

    outcome = _check(notice.key, parsed, upload, head.size, found, objects, uploads)
    touch_senders(parsed, notice.key, stamp, receipts)
    return outcome


def _check(
    key: str,
    parsed: UploadKey,
    upload: dict[str, Any],
    size: int,
    found: dict[str, Any],
    objects: ObjectStore,
    uploads: UploadStore,
) -> str:
    upload_id = upload["upload_id"]
    max_bytes = int(upload.get("max_bytes") or DEFAULT_MAX_BYTES)
    declared = upload.get("declared_bytes")
    refused = _size_refused(size, max_bytes, declared)
    if refused:
        return _reject(key, upload_id, *refused, found, objects, uploads)
    data = objects.read(key)
    refused = _size_refused(len(data), max_bytes, declared)  # replaced between the HEAD and the GET
    if refused:
        return _reject(key, upload_id, *refused, found, objects, uploads)
    try:
        report = make_thumbnails(data, upload.get("content_type"), hashed=parsed.campaign_id is not None)
    except ImageRejected as rejection:
        return _reject(key, upload_id, rejection.reason, rejection.detail, found, objects, uploads)

    keys: dict[str, str] = {}
    for thumbnail in report.thumbnails:
        key = thumbnail_key(parsed.owner_id, upload_id, thumbnail.size, parsed.kind)
        objects.write(key, thumbnail.data, thumbnail.content_type)
        keys[str(thumbnail.size)] = key
    uploads.record_outcome(
        upload_id,
        {
            **found,
            "status": READY,
            "reason": None,
            "detail": None,
            "format": report.format,
            "width": report.width,
            "height": report.height,
            "thumbnails": keys,
            "phash": report.phash,
        },
    )
    logger.info("upload ready", extra={"upload_id": upload_id, "width": report.width, "height": report.height})
    return READY


def touch_senders(parsed: UploadKey, key: str, at: str, receipts: ReceiptFlags) -> int:
    """Set `receipt_ready_at` on the stored entries that sent a campaign's upload; how many were touched.

    Ready or rejected alike: either way the entry's confirmation no longer waits for the photo.
    """
    if parsed.campaign_id is None:
        return 0  # an article's photo: no entry sent it
    return sum(receipts.mark_ready(submission_id, at) for submission_id in receipts.senders(key))


def _size_refused(size: int, max_bytes: int, declared: Any) -> tuple[str, str] | None:
    # moto enforces no POST policy, so the exact size the grant declared is checked here too.
    if size > max_bytes:
        return "too_large", f"{size} bytes > {max_bytes}"
    if declared is not None and size != int(declared):
        return SIZE_MISMATCH, f"{size} bytes, {int(declared)} declared"
    return None


def _reject(
    key: str,
    upload_id: str,
    reason: str,
    detail: str,
    found: dict[str, Any],
    objects: ObjectStore,
    uploads: UploadStore,
) -> str:
    # Record first, then move: a retry after a failed move sees `rejected` and moves again.
    uploads.record_outcome(
        upload_id,
        {**found, "status": REJECTED, "reason": reason, "detail": detail[:500] or None, "thumbnails": None},
    )
    objects.move(key, quarantine_key(key))
    logger.info("upload rejected", extra={"upload_id": upload_id, "reason": reason})
    return REJECTED


def _adapters() -> tuple[ObjectStore, UploadStore, ReceiptFlags]:
    from lambda_platform.composition import ports

    built = ports()
    return built.objects, built.uploads, built.receipt_flags


def _process_notices(record: SQSRecord, adapters: tuple[ObjectStore, UploadStore, ReceiptFlags]) -> None:
    for notice in object_created_records(record.body):
        if process_upload(notice, *adapters) == READY:
            count(THUMBNAILS_MADE)


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Handle a batch of S3 notifications from the uploads queue; report the failed records by messageId."""
    return process_sqs(event, _process_notices, _adapters, context)
