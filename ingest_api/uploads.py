"""Uploads: `POST /v1/campaigns/{id}/uploads` and `POST /v1/articles/{id}/uploads` (a
presigned S3 POST under the campaign's or the article's prefix), `GET /v1/uploads/{id}`.

Images never pass through the API (API Gateway caps bodies at 10 MB and 29 s): the client
posts the file straight to S3 with the fields it gets here, and the thumbnail worker
checks it there.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint

from events.ids import UPLOAD_ID
from events.uploads import PENDING, UploadRequestSchema, upload_key, uploads_prefix
from ingest_api.auth import api_key, public
from ingest_api.bodies import json_body
from ingest_api.errors import ApiError
from ingest_api.lookups import max_upload_bytes, open_campaign, upload_status, writable_article
from ingest_api.services import services
from ingest_api.spec import documented

bp = Blueprint("uploads", __name__)

#: How long a presigned POST stays usable, in seconds.
EXPIRES_IN = 15 * 60


@bp.post("/v1/campaigns/<campaign_id>/uploads")
@public(limited=True, per_campaign=True)
@documented(body=UploadRequestSchema, status=201)
def create_upload(campaign_id: str):
    """Record a pending upload and answer 201 with the presigned POST that sends it to S3."""
    document = json_body()
    now = datetime.now(UTC)
    campaign = open_campaign(campaign_id, now)
    return presigned_upload(document, campaign.uploads_prefix, {"campaign_id": campaign.campaign_id}, now)


@bp.post("/v1/articles/<article_id>/uploads")
@api_key("articles:write")
@documented(body=UploadRequestSchema, status=201)
def create_article_upload(article_id: str):
    """A presigned POST for one photo of a stored article the key created, under `uploads/articles/{id}/`."""
    document = json_body()
    article = writable_article(article_id)
    owner = {"article_id": article["article_id"]}
    return presigned_upload(document, uploads_prefix("articles", article["article_id"]), owner, datetime.now(UTC))


def presigned_upload(document: dict[str, Any], prefix: str, owner: dict[str, str], now: datetime):
    """Record a pending upload under `prefix` and answer 201 with its presigned POST."""
    max_bytes = max_upload_bytes()
    fields = UploadRequestSchema(max_bytes=max_bytes).load(document)

    upload_id = uuid.uuid4().hex
    key = upload_key(prefix, upload_id, fields["content_type"])
    ports = services()
    # The record comes first: the worker refuses any object it has no record for.
    ports.uploads.create(
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
    post = ports.upload_signer.presign_post(key, fields["content_type"], fields["content_length"], EXPIRES_IN)
    body = {
        "upload_id": upload_id,
        "key": key,
        "url": post["url"],
        "fields": post["fields"],
        "expires_in": EXPIRES_IN,
        "max_bytes": max_bytes,
    }
    return body, 201, {"Location": f"/v1/uploads/{upload_id}"}


@bp.get("/v1/uploads/<upload_id>")
@public()
def get_upload(upload_id: str):
    """The upload's status: `pending` until the worker has looked, then `ready` or `rejected`."""
    record = services().uploads.get(upload_id) if UPLOAD_ID.match(upload_id) else None
    if record is None:
        raise ApiError(404, "upload_not_found", "No upload with this id.")
    return upload_status(record)
