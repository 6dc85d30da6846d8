"""Messages of the blog queue: an article, a comment, an article's edit and its unpublishing."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from events.emails import Email
from events.messages.base import ID, field, message

#: The fields of an article that an edit may change.
EDITABLE_FIELDS = ("title", "content", "author", "published", "media")


@message(id_field="article_id")
class PublishArticle:
    """Store an article under `article_id` (assigned at ingestion)."""

    article_id: str = field(fields.String, validate=ID)
    title: str = field(fields.String)
    content: str = field(fields.String)
    author: str = field(fields.String)
    published: bool = field(fields.Boolean)
    received_at: str = field(fields.String)
    #: `{"type", "upload_key"}` or `{"type", "url"}`, or None.
    media: dict[str, str] | None = field(fields.Dict, keys=fields.String(), values=fields.String(), default=None)
    #: The id of the API key that created it: only that key (or an `articles:admin` one) changes it.
    created_by: str | None = field(fields.String, default=None)


@message(id_field="comment_id")
class PostComment:
    """Store a comment on an article, if the article exists; reject it otherwise."""

    comment_id: str = field(fields.String, validate=ID)
    article_id: str = field(fields.String, validate=ID)
    author: str = field(fields.String)
    email: str = field(Email)
    body: str = field(fields.String)
    received_at: str = field(fields.String)


@message(id_field="change_id")
class EditArticle:
    """Change fields of a stored article, unless a later change of it was applied already.

    `changes` holds any of `title`, `content`, `author`, `published` and `media` (None
    removes the media); `received_at` orders the changes of one article.
    """

    change_id: str = field(fields.String, validate=ID)
    article_id: str = field(fields.String, validate=ID)
    changes: dict[str, Any] = field(
        fields.Dict, keys=fields.String(validate=validate.OneOf(EDITABLE_FIELDS)), validate=validate.Length(min=1)
    )
    received_at: str = field(fields.String)


@message(id_field="change_id")
class UnpublishArticle:
    """Take a stored article off the blog (out of the list; its reads answer 404), unless a
    later change of it was applied already."""

    change_id: str = field(fields.String, validate=ID)
    article_id: str = field(fields.String, validate=ID)
    received_at: str = field(fields.String)
