"""Uploads: `POST /v1/campaigns/{id}/uploads` and `POST /v1/articles/{id}/uploads` (a
presigned S3 POST under the campaign's or the article's prefix), `GET /v1/uploads/{id}`.

Images never pass through the API (API Gateway caps bodies at 10 MB and 29 s): the client
posts the file straight to S3 with the fields it gets here, and the thumbnail worker
checks it there.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, current_app

from events.uploads import DEFAULT_MAX_BYTES, PENDING, UploadRequestSchema, parse_upload_key, upload_key, uploads_prefix
from ingest_api.blog import stored_article
from ingest_api.bodies import json_body
from ingest_api.errors import ApiError
from ingest_api.services import services
from ingest_api.submissions import open_campaign
from ingest_api.auth import api_key, public
from ingest_api.openapi import documented

bp = Blueprint("uploads", __name__)

#: How long a presigned POST stays usable, in seconds.
EXPIRES_IN = 15 * 60

_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")

#: The fields of an upload record that its status shows.
_SHOWN = ("status", "reason", "format", "width", "height", "bytes", "thumbnails")


def max_upload_bytes() -> int:
    """The largest upload accepted (`UPLOAD_MAX_BYTES` in the app config, 10 MiB by default)."""
    return int(current_app.config.get("UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


@bp.post("/v1/campaigns/<campaign_id>/uploads")
@public(limited=True, per_campaign=True)
@documented(body=UploadRequestSchema, status=201)
def create_upload(campaign_id: str):
    """Record a pending upload and answer 201 with the presigned POST that sends it to S3."""
    document = json_body()
    now = datetime.now(timezone.utc)
    campaign = open_campaign(campaign_id, now)
    return presigned_upload(document, campaign.uploads_prefix, {"campaign_id": campaign.campaign_id}, now)


@bp.post("/v1/articles/<article_id>/uploads")
@api_key("articles:write")
@documented(body=UploadRequestSchema, status=201)
def create_article_upload(article_id: str):
    """A presigned POST for one photo of a stored article, under `uploads/articles/{id}/`."""
    document = json_body()
    article = stored_article(article_id)
    owner = {"article_id": article["article_id"]}
    return presigned_upload(document, uploads_prefix("articles", article["article_id"]), owner, datetime.now(timezone.utc))


def presigned_upload(document: dict[str, Any], prefix: str, owner: dict[str, str], now: datetime):
    """Record a pending upload under `prefix` and answer 201 with its presigned POST."""
    max_bytes = max_upload_bytes()
    fields = UploadRequestSchema(max_bytes=max_bytes).load(document)

    upload_id = uuid.uuid4().hex
    key = upload_key(prefix, upload_id, fields["content_type"])
    store, signer = services().uploads, services().upload_signer
    if store is None or signer is None:
        raise ApiError(503, "unavailable", "Uploads are not configured.")
    # The record comes first: the worker refuses any object it has no record for.
    store.create(
        {
            "upload_id": upload_id,
            **owner,
            "key": key,
            "content_type": fields["content_type"],
            "declared_bytes": fields["content_length"],
            "max_bytes": max_bytes,
            "status": PENDING,
            "created_at": now.isoformat(),
        }
    )
    post = signer.presign_post(key, fields["content_type"], max_bytes, EXPIRES_IN)
    body = {
        "upload_id": upload_id,
        "key": key,
        "url": post["url"],
        "fields": post["fields"],
        "expires_in": EXPIRES_IN,
        "max_bytes": max_bytes,
    }
    return body, 201, {"Location": f"/v1/uploads/{upload_id}"}


def upload_status(record: dict[str, Any]) -> dict[str, Any]:
    """What a client may see of an upload record."""
    shown: dict[str, Any] = {"upload_id": record["upload_id"], "key": record["key"]}
    shown.update({k: record[k] for k in _SHOWN if record.get(k) is not None})
    return shown


def upload_of_key(key: str) -> dict[str, Any]:
    """The status of the upload a key names, or `unknown` when it names none."""
    parsed = parse_upload_key(key)
    store = services().uploads
    record = store.get(parsed.upload_id) if parsed is not None and store is not None else None
    if record is None or record.get("key") != key:
        return {"key": key, "status": "unknown"}
    return upload_status(record)


@bp.get("/v1/uploads/<upload_id>")
@public()
def get_upload(upload_id: str):
    """The upload's status: `pending` until the worker has looked, then `ready` or `rejected`."""
    store = services().uploads
    record = store.get(upload_id) if store is not None and _UPLOAD_ID.match(upload_id) else None
    if record is None:
        raise ApiError(404, "upload_not_found", "No upload with this id.")
    return upload_status(record)
