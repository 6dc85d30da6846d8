"""The admin API of campaigns, for API keys: the campaigns a key reaches, create or change a
campaign, list, read and review its entries.

Writes are queued on the campaign-admin queue for `workers.campaign_admin` (202), as every
write is; reads are one Query of the submissions table's `by_campaign` index per page
(newest first, a status as a filter, never a Scan) or one GetItem. An entry shows its
photo's thumbnails as presigned GET URLs that expire within minutes (a listed entry, its
small one: one BatchGetItem of the page's uploads), and a flagged entry each entry its
photo copies, side by side. None of it is cached: what a key reads is private, and the edge
never stores a request with a key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, g, request
from marshmallow import RAISE, Schema, ValidationError, validate, validates_schema

from events.blog import comment_key, decode_comment_cursor, encode_comment_cursor, split_comment_key
from events.ids import CAMPAIGN_ID, UUID_ID
from events.messages.campaigns import MAX_REASON, ReviewEntry, SaveCampaign
from events.models import ACCEPTED, DUPLICATE, REJECTED, REVIEW_DECISIONS, WAITLISTED
from events.schemas import CampaignSchema, Text, shared
from events.uploads import parse_upload_key
from ingest_api.auth import api_key
from ingest_api.bodies import idempotency_key, json_body
from ingest_api.errors import ApiError
from ingest_api.idempotency import queue_once
from ingest_api.lookups import campaign_of, page_after, page_limit, upload_of_key
from ingest_api.queued import queued
from ingest_api.services import services
from ingest_api.spec import documented

bp = Blueprint("admin_campaigns", __name__)

#: Statuses an entry may be listed by.
STATUSES = (ACCEPTED, DUPLICATE, WAITLISTED)
DEFAULT_ENTRIES_PAGE = 25
#: Seconds a thumbnail's presigned GET stays good: long enough to look, short enough not to share.
THUMBNAIL_URL_SECONDS = 300
#: The thumbnail a listed entry shows (the worker makes 256 and 1024 px).
LISTED_THUMBNAIL = "256"
#: The most entries a flagged entry shows beside it (the first, by id).
MAX_COPIES_SHOWN = 10
#: The query parameters that are yes or no.
_YES_NO = {"true": True, "false": False}

#: What an entry shows to a key with `campaigns:read`, beside its upload, flags and review.
_ENTRY_FIELDS = (
    "submission_id",
    "campaign_id",
    "status",
    "first_name",
    "last_name",
    "email",
    "phone",
    "postal_code",
    "answers",
    "upload_key",
    "received_at",
    "stored_at",
    "code",
    "code_given_at",
    "waitlisted_at",
    # What became of its latest email, or of its address: delivered, bounced, complained, suppressed.
    "email_status",
)
_LIST_QUERY: dict[str, dict[str, Any]] = {
    "status": {"type": "string", "enum": list(STATUSES)},
    "flagged": {"type": "boolean"},
    "reviewed": {"type": "boolean"},
    "limit": {"type": "integer", "minimum": 1, "maximum": 100},
    "cursor": {"type": "string"},
}


class CampaignRequestSchema(CampaignSchema):
    """The body of `PUT /v1/campaigns/{campaign_id}`: a campaign's fields (its id is the path's)."""

    class Meta:
        unknown = RAISE
        exclude = ("campaign_id",)


class ReviewRequestSchema(Schema):
    """The body of `PATCH /v1/campaigns/{campaign_id}/entries/{submission_id}`."""

    class Meta:
        unknown = RAISE

    decision = Text(required=True, validate=validate.OneOf(REVIEW_DECISIONS, error="Must be one of: {choices}."))
    reason = Text(load_default=None, allow_none=True, validate=validate.Length(max=MAX_REASON))

    @validates_schema
    def _reason_for_a_rejection(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("decision") == REJECTED and not data.get("reason"):
            raise ValidationError("A rejection needs a reason.", "reason")


@bp.get("/v1/campaigns")
@api_key("campaigns:read", lists_campaigns=True)
def list_campaigns():
    """The campaigns this key reaches (and no other), by id, with the key's name and scopes."""
    reached = g.api_key_campaigns
    store = services().campaigns
    found = store.list() if reached is None else [c for c in map(store.get, sorted(reached)) if c is not None]
    now = datetime.now(UTC)
    return {
        "key": {"name": g.api_key_name, "scopes": list(g.api_key_scopes)},
        "campaigns": [
            {
                "campaign_id": c.campaign_id,
                "name": c.name,
                "opens_at": c.opens_at.isoformat(),
                "closes_at": c.closes_at.isoformat(),
                "open": c.is_open(now),
                "closed": now >= c.closes_at,
                "gives_codes": c.gives_codes,
            }
            for c in found
        ],
    }


@bp.put("/v1/campaigns/<campaign_id>")
@api_key("campaigns:write")
@documented(body=CampaignRequestSchema, status=202)
def save_campaign(campaign_id: str):
    """Create or change a campaign and its reward settings; 202 with the campaign as it will be stored."""
    document = json_body()
    key = idempotency_key()
    if not CAMPAIGN_ID.match(campaign_id):
        raise ApiError(
            422, "invalid_fields", "Some fields are invalid.", {"campaign_id": ["Lowercase letters, digits and dashes."]}
        )
    loaded = shared(CampaignRequestSchema).load(document)
    campaign = shared(CampaignSchema).dump({**loaded, "campaign_id": campaign_id})

    def send(change_id: str, received_at: str) -> None:
        services().campaign_admin_queue.send(SaveCampaign(change_id=change_id, received_at=received_at, **campaign))

    change_id = queue_once(f"campaigns:{campaign_id}:save", key, document, send)
    return queued(campaign=campaign, change_id=change_id, status_url=f"/v1/campaigns/{campaign_id}")


@bp.get("/v1/campaigns/<campaign_id>/entries")
@api_key("campaigns:read")
@documented(query=_LIST_QUERY)
def list_entries(campaign_id: str):
    """A campaign's entries, newest first, `limit` (1-100, default 25) a page, `cursor` for the next;
    `status`, `flagged` (a duplicate receipt) and `reviewed` (true or false) to filter. A filtered
    page may be short, even empty, with a cursor: the index is read a bounded amount a page."""
    campaign = campaign_of(campaign_id)
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        raise ApiError(422, "invalid_fields", "Some fields are invalid.", {"status": [f"Must be one of: {', '.join(STATUSES)}."]})
    flagged, reviewed = _yes_no("flagged"), _yes_no("reviewed")
    limit = page_limit(request.args.get("limit"), DEFAULT_ENTRIES_PAGE)
    # The blog's comment cursor: the listing's key (a time, then a uuid) behind its campaign's id.
    after = page_after(lambda cursor: _entry_key(decode_comment_cursor(cursor, campaign.campaign_id)))
    page, next_key = services().entries.page(
        campaign.campaign_id, limit=limit, after=after, status=status, flagged=flagged, reviewed=reviewed
    )
    next_cursor = None
    if next_key is not None:
        next_cursor = encode_comment_cursor(campaign.campaign_id, comment_key(next_key["received_at"], next_key["submission_id"]))
    thumbnails = _listed_thumbnails(page)
    listed = [{**_entry(e), "thumbnail": thumbnails.get(e["submission_id"])} for e in page]
    return {"campaign_id": campaign.campaign_id, "entries": listed, "next_cursor": next_cursor}


@bp.get("/v1/campaigns/<campaign_id>/entries/<submission_id>")
@api_key("campaigns:read")
def get_entry(campaign_id: str, submission_id: str):
    """One entry: its fields, status, code, duplicate flags and review, and its photo's thumbnails
    as presigned URLs; flagged, each entry its photo copies (`copies`, the same view, at most 10)."""
    entry = _stored_entry(campaign_id, submission_id)
    body = _shown_with_upload(entry)
    copies = []
    for other_id in sorted(entry.get("duplicate_receipt") or ())[:MAX_COPIES_SHOWN]:
        other = services().entries.get(other_id) if UUID_ID.match(other_id) else None
        # A copy is found among the campaign's own photos; any other is not shown to this key.
        if other is not None and other.get("campaign_id") == entry["campaign_id"]:
            copies.append(_shown_with_upload(other))
    body["copies"] = copies
    return body


def _shown_with_upload(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as a key sees it, with its upload's status and thumbnails as presigned URLs."""
    body = _entry(entry)
    if entry.get("upload_key"):
        upload = upload_of_key(entry["upload_key"])
        thumbnails = upload.get("thumbnails") or {}
        files = services().user_files  # the media bucket, where the thumbnails are
        upload["thumbnails"] = {size: files.presign_get(key, THUMBNAIL_URL_SECONDS) for size, key in thumbnails.items()}
        if thumbnails:
            upload["thumbnails_expire_in"] = THUMBNAIL_URL_SECONDS
        body["upload"] = upload
    return body


def _listed_thumbnails(page: list[dict[str, Any]]) -> dict[str, str]:
    """The small thumbnail of each listed entry that has one, presigned, by entry id: one BatchGetItem."""
    wanted: dict[str, tuple[str, str]] = {}
    for entry in page:
        parsed = parse_upload_key(entry["upload_key"]) if entry.get("upload_key") else None
        if parsed is not None:
            wanted[parsed.upload_id] = (entry["submission_id"], entry["upload_key"])
    if not wanted:
        return {}
    files = services().user_files
    found: dict[str, str] = {}
    for record in services().uploads.get_many(sorted(wanted)):
        submission_id, key = wanted.get(record["upload_id"], ("", ""))
        small = (record.get("thumbnails") or {}).get(LISTED_THUMBNAIL)
        if submission_id and record.get("key") == key and small:
            found[submission_id] = files.presign_get(small, THUMBNAIL_URL_SECONDS)
    return found


def _yes_no(name: str) -> bool | None:
    """A query parameter that is `true` or `false`, None when absent; 422 naming it otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw not in _YES_NO:
        raise ApiError(422, "invalid_fields", "Some fields are invalid.", {name: ["Must be true or false."]})
    return _YES_NO[raw]


@bp.patch("/v1/campaigns/<campaign_id>/entries/<submission_id>")
@api_key("campaigns:write")
@documented(body=ReviewRequestSchema, status=202)
def review_entry(campaign_id: str, submission_id: str):
    """Approve or reject an entry (a rejection with its reason); queued, and recorded with the key and the time; 202."""
    document = json_body()
    key = idempotency_key()
    review = shared(ReviewRequestSchema).load(document)
    entry = _stored_entry(campaign_id, submission_id)

    def send(change_id: str, received_at: str) -> None:
        message = ReviewEntry(
            change_id=change_id,
            campaign_id=entry["campaign_id"],
            submission_id=entry["submission_id"],
            decision=review["decision"],
            reason=review.get("reason") or None,
            key_id=g.api_key_id or "",
            key_name=g.api_key_name or "",
            received_at=received_at,
        )
        services().campaign_admin_queue.send(message)

    change_id = queue_once(f"campaigns:{campaign_id}:review:{submission_id}", key, document, send)
    url = f"/v1/campaigns/{campaign_id}/entries/{submission_id}"
    return queued(submission_id=submission_id, change_id=change_id, status_url=url)


def _stored_entry(campaign_id: str, submission_id: str) -> dict[str, Any]:
    """The stored entry of this campaign; 404 for an unknown campaign, and for an entry of another."""
    campaign = campaign_of(campaign_id)
    entry = services().entries.get(submission_id) if UUID_ID.match(submission_id) else None
    if entry is None or entry.get("campaign_id") != campaign.campaign_id:
        raise ApiError(404, "entry_not_found", "No stored entry with this id in this campaign (yet).")
    return entry


def _entry(entry: dict[str, Any]) -> dict[str, Any]:
    """What a key with `campaigns:read` sees of an entry: `_ENTRY_FIELDS` (one place for a new one), flags, review."""
    shown = {k: entry[k] for k in _ENTRY_FIELDS if entry.get(k) is not None}
    shown["duplicate_receipt"] = sorted(entry.get("duplicate_receipt") or ())
    shown["review"] = entry.get("review")
    return shown


def _entry_key(key: str) -> dict[str, str]:
    received_at, submission_id = split_comment_key(key)
    return {"received_at": received_at, "submission_id": submission_id}
