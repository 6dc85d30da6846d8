"""The blog's contract: request bodies, statuses, the feed's sort key and its page cursor.

Published articles carry `feed = "published"` and `feed_key = "{published_at}#{article_id}"`;
the sparse `feed` index of the articles table lists them newest first with one Query.
A page cursor is the feed key of the last article on a page, base64url-encoded, so a
client treats it as opaque and the API can check it strictly.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from events.ids import UUID, UUID_ID
from events.schemas import Email, StrictBoolean, Text
from events.uploads import parse_upload_key

#: The `feed` value of every published article (the partition of the `feed` index).
FEED = "published"

#: Statuses of a stored comment.
ACCEPTED = "accepted"
REJECTED = "rejected"
#: Why a comment was rejected.
ARTICLE_NOT_FOUND = "article_not_found"

#: SNS message attribute `event_type` of a comment notification.
COMMENT_POSTED = "comment_posted"

MEDIA_TYPES = ("image", "video", "audio")
SUBSCRIPTION_PROTOCOLS = ("email", "https", "sqs")
MAX_PAGE = 100
DEFAULT_PAGE = 20

ARTICLE_ID = UUID_ID
COMMENT_ID = ARTICLE_ID
_FEED_KEY = re.compile(
    r"^(?P<at>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00:00)#"
    rf"(?P<article_id>{UUID})\Z"
)
_SQS_ARN = re.compile(r"^arn:aws:sqs:[a-z0-9-]{1,32}:\d{12}:[A-Za-z0-9_-]{1,80}\Z")


def feed_key(published_at: str, article_id: str) -> str:
    """The sort key of a published article in the feed index."""
    return f"{published_at}#{article_id}"


def encode_cursor(key: str) -> str:
    """The opaque cursor that resumes a listing after the article with this feed key."""
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The feed key inside a cursor; ValueError when it is not one we made."""
    if not 1 <= len(cursor) <= 200 or not re.fullmatch(r"[A-Za-z0-9_-]+", cursor):
        raise ValueError("not a cursor")
    try:
        key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("not a cursor") from exc
    if not _FEED_KEY.match(key):
        raise ValueError("not a cursor")
    return key


def article_of_feed_key(key: str) -> str:
    """The article id at the end of a feed key."""
    return key.rpartition("#")[2]


class MediaSchema(Schema):
    """An article's media: an upload of an article, or a URL, and its type."""

    class Meta:
        unknown = RAISE

    type = Text(required=True, validate=validate.OneOf(MEDIA_TYPES, error="Must be one of: {choices}."))
    upload_key = Text(validate=validate.Length(min=1, max=512))
    url = fields.Url(schemes={"https", "http"}, validate=validate.Length(max=2048))

    @validates_schema
    def _one_source(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("upload_key" in data) == ("url" in data):
            raise ValidationError("Give exactly one of upload_key or url.", "url")
        key = data.get("upload_key")
        if key is not None:
            parsed = parse_upload_key(key)
            if parsed is None or parsed.kind != "articles":
                raise ValidationError("Must be an article's upload (uploads/articles/...).", "upload_key")


class ArticleRequestSchema(Schema):
    """The body of `POST /v1/articles`."""

    class Meta:
        unknown = RAISE

    title = Text(required=True, validate=validate.Length(min=1, max=200))
    content = Text(required=True, validate=validate.Length(min=1, max=50_000))
    author = Text(required=True, validate=validate.Length(min=1, max=100))
    published = StrictBoolean(load_default=True)
    media = fields.Nested(MediaSchema, load_default=None, allow_none=True)


class CommentRequestSchema(Schema):
    """The body of `POST /v1/articles/{article_id}/comments`."""

    class Meta:
        unknown = RAISE

    author = Text(required=True, validate=validate.Length(min=1, max=100))
    email = Email(required=True, validate=validate.Length(max=254))
    body = Text(required=True, validate=validate.Length(min=1, max=5_000))


class SubscriptionRequestSchema(Schema):
    """The body of `POST /v1/articles/{article_id}/subscriptions`: `{email}` or `{endpoint, protocol}`."""

    class Meta:
        unknown = RAISE

    email = Email(validate=validate.Length(max=254))
    protocol = Text(validate=validate.OneOf(SUBSCRIPTION_PROTOCOLS, error="Must be one of: {choices}."))
    endpoint = Text(validate=validate.Length(min=1, max=2048))

    @validates_schema
    def _one_endpoint(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "email" in data:
            if "endpoint" in data or "protocol" in data:
                raise ValidationError("Give either email, or endpoint and protocol.", "_schema")
            return
        missing = {f: ["Missing data for required field."] for f in ("endpoint", "protocol") if f not in data}
        if missing:
            raise ValidationError(missing)
        protocol, endpoint = data["protocol"], data["endpoint"]
        if protocol == "email":
            try:
                Email().deserialize(endpoint)
            except ValidationError:
                raise ValidationError("Not a valid email address.", "endpoint") from None
        elif protocol == "https":
            try:
                fields.Url(schemes={"https"}).deserialize(endpoint)
            except ValidationError:
                raise ValidationError("Not a valid https URL.", "endpoint") from None
        elif not _SQS_ARN.match(endpoint):
            raise ValidationError("Must be an SQS queue ARN.", "endpoint")


def subscription_target(data: dict[str, Any]) -> tuple[str, str]:
    """(protocol, endpoint) of a loaded subscription request."""
    if "email" in data:
        return "email", data["email"]
    if data["protocol"] == "email":  # stored as the email field stores it: an IDN domain in punycode
        return "email", Email().deserialize(data["endpoint"])
    return data["protocol"], data["endpoint"]
