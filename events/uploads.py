"""Uploads: where their objects live in the media bucket, and the S3 notices about them.

The key layout is part of the contract between the API (which makes the keys), the
bucket notification (which filters on `UPLOADS_PREFIX`) and the thumbnail worker:

    uploads/{kind}/{owner_id}/{spread}/{upload_id}.{ext}    the original, as sent
    thumbnails/{kind}/{owner_id}/{upload_id}/{size}.jpg     never notified
    quarantine/{kind}/{owner_id}/{spread}/{upload_id}.{ext} a rejected original

where `kind` is `campaigns` (a campaign's receipts) or `articles` (a blog article's photos).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from events.ids import CAMPAIGN, UPLOAD
from events.schemas import StrictInteger

UPLOADS_PREFIX = "uploads/"
THUMBNAILS_PREFIX = "thumbnails/"
QUARANTINE_PREFIX = "quarantine/"

#: Content types an upload may declare, and the extension its key gets.
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

#: Default and hard ceiling of an upload's size.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

#: Statuses of an upload record.
PENDING = "pending"
READY = "ready"
REJECTED = "rejected"

#: The owners an upload may belong to: the second segment of its key.
OWNER_KINDS = ("campaigns", "articles")

_KEY = re.compile(
    rf"^uploads/(?P<kind>campaigns|articles)/(?P<owner_id>{CAMPAIGN})/(?P<spread>[0-9a-f]{{2}})/"
    rf"(?P<upload_id>{UPLOAD})\.(?P<ext>jpg|png|webp)\Z"
)


def upload_key(uploads_prefix: str, upload_id: str, content_type: str) -> str:
    """The key of a new upload under a campaign's prefix; the spread segment comes from the id."""
    return f"{uploads_prefix}{upload_id[:2]}/{upload_id}.{EXTENSIONS[content_type]}"


@dataclass(frozen=True)
class UploadKey:
    """The parts of a key that the API made."""

    owner_id: str
    upload_id: str
    kind: str = "campaigns"

    @property
    def campaign_id(self) -> str | None:
        """The campaign of a campaign's upload; None for an article's."""
        return self.owner_id if self.kind == "campaigns" else None


def parse_upload_key(key: str) -> UploadKey | None:
    """The owner (campaign or article) and upload id of a key the API made, or None for any other key."""
    match = _KEY.match(key)
    if not match or match["spread"] != match["upload_id"][:2]:
        return None
    return UploadKey(match["owner_id"], match["upload_id"], match["kind"])


def uploads_prefix(kind: str, owner_id: str) -> str:
    """The S3 prefix under which an owner's uploads are written."""
    return f"{UPLOADS_PREFIX}{kind}/{owner_id}/"


def thumbnail_key(owner_id: str, upload_id: str, size: int, kind: str = "campaigns") -> str:
    """Where the `size` px thumbnail of an upload is written (outside the notified prefix)."""
    return f"{THUMBNAILS_PREFIX}{kind}/{owner_id}/{upload_id}/{size}.jpg"


def quarantine_key(key: str) -> str:
    """Where a rejected original is moved: the same path under the quarantine prefix."""
    return QUARANTINE_PREFIX + key.removeprefix(UPLOADS_PREFIX)


@dataclass(frozen=True)
class ObjectCreated:
    """One S3 ObjectCreated record, its key already decoded."""

    bucket: str
    key: str
    size: int | None
    etag: str | None
    event_name: str


def object_created_records(body: str | dict[str, Any]) -> list[ObjectCreated]:
    """The ObjectCreated records of an S3 notification (an SQS body); [] for s3:TestEvent.

    S3 form-encodes keys in notifications (a space arrives as `+`, and moto encodes `/`
    too), so every key is decoded with `unquote_plus`. Raises ValueError for a body that
    is not an S3 notification at all.
    """
    document = json.loads(body) if isinstance(body, str) else body
    if not isinstance(document, dict):
        raise ValueError("an S3 notification is a JSON object")
    if document.get("Event") == "s3:TestEvent":
        return []
    records = document.get("Records")
    if not isinstance(records, list):
        raise ValueError("not an S3 notification: no Records")
    found = []
    for record in records:
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        s3 = record["s3"]
        found.append(
            ObjectCreated(
                bucket=s3["bucket"]["name"],
                key=unquote_plus(s3["object"]["key"]),
                size=s3["object"].get("size"),
                etag=(s3["object"].get("eTag") or "").strip('"') or None,
                event_name=record["eventName"],
            )
        )
    return found


class UploadRequestSchema(Schema):
    """The body of `POST /v1/{campaigns,articles}/{id}/uploads`; `max_bytes` comes in the context."""

    class Meta:
        unknown = RAISE

    content_type = fields.String(
        required=True,
        validate=validate.OneOf(sorted(EXTENSIONS), error="Must be one of: {choices}."),
    )
    content_length = StrictInteger(required=True, validate=validate.Range(min=1))

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_bytes = max_bytes

    @validates("content_length")
    def _within_limit(self, value: int, **kwargs: Any) -> None:
        if value > self.max_bytes:
            raise ValidationError(f"Must be at most {self.max_bytes} bytes.")
