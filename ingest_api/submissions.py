"""Campaign entries: `POST /v1/campaigns/{id}/submissions`, `GET /v1/submissions/{id}`."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint

from events.ids import UUID_ID
from events.messages.campaigns import SubmitEntry
from events.schemas import SubmissionRequestSchema, shared
from ingest_api.auth import public
from ingest_api.bodies import idempotency_key, json_body
from ingest_api.errors import ApiError
from ingest_api.idempotency import queue_once
from ingest_api.lookups import open_campaign, upload_of_key
from ingest_api.queued import queued
from ingest_api.services import services
from ingest_api.spec import documented

bp = Blueprint("submissions", __name__)


@bp.post("/v1/campaigns/<campaign_id>/submissions")
@public(limited=True, per_campaign=True, keyed=True)
@documented(body=SubmissionRequestSchema, status=202)
def create_submission(campaign_id: str):
    """Validate an entry and queue it; 202 with its id and where to follow it."""
    document = json_body()
    key = idempotency_key()
    now = datetime.now(UTC)
    campaign = open_campaign(campaign_id, now)
    fields = shared(SubmissionRequestSchema).load(document)
    upload_key = fields.get("upload_key")
    if upload_key and (not upload_key.startswith(campaign.uploads_prefix) or ".." in upload_key):
        raise ApiError(
            422,
            "invalid_fields",
            "Some fields are invalid.",
            {"upload_key": [f"Must be an upload of this campaign ({campaign.uploads_prefix}...)."]},
        )

    def send(submission_id: str, received_at: str) -> None:
        entry = SubmitEntry(
            submission_id=submission_id,
            campaign_id=campaign.campaign_id,
            received_at=received_at,
            **fields,
        )
        services().submissions_queue.send(entry)

    submission_id = queue_once(campaign.campaign_id, key, document, send, now.isoformat())
    return queued(submission_id=submission_id, status_url=f"/v1/submissions/{submission_id}")


@bp.get("/v1/submissions/<submission_id>")
@public()
def get_submission(submission_id: str):
    """The stored entry's status; 404 until the worker has stored it."""
    item = services().submissions.get(submission_id) if UUID_ID.match(submission_id) else None
    if item is None:
        raise ApiError(404, "submission_not_found", "No stored submission with this id (yet).")
    body = {
        "submission_id": item["submission_id"],
        "campaign_id": item["campaign_id"],
        "status": item["status"],
        "received_at": item["received_at"],
        "stored_at": item["stored_at"],
    }
    if item.get("upload_key"):
        body["upload"] = upload_of_key(item["upload_key"])
    return body
