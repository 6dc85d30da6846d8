"""Schemas of the blog queue's messages: an article, a comment, an article's edit and its unpublishing."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, post_load, validate

from events.emails import Email
from events.messages import EditArticle, PostComment, PublishArticle, UnpublishArticle

#: The fields of an article that an edit may change.
EDITABLE_FIELDS = ("title", "content", "author", "published", "media")


class PublishArticleSchema(Schema):
    """The body of a `PublishArticle` message on the blog queue."""

    class Meta:
        unknown = EXCLUDE

    article_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    title = fields.String(required=True)
    content = fields.String(required=True)
    author = fields.String(required=True)
    published = fields.Boolean(required=True)
    received_at = fields.String(required=True)
    media = fields.Dict(keys=fields.String(), values=fields.String(), load_default=None, allow_none=True)

    @post_load
    def _make(self, data: dict, **kwargs) -> PublishArticle:
        return PublishArticle(**data)


class PostCommentSchema(Schema):
    """The body of a `PostComment` message on the blog queue."""

    class Meta:
        unknown = EXCLUDE

    comment_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    article_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    author = fields.String(required=True)
    email = Email(required=True)
    body = fields.String(required=True)
    received_at = fields.String(required=True)

    @post_load
    def _make(self, data: dict, **kwargs) -> PostComment:
        return PostComment(**data)


class EditArticleSchema(Schema):
    """The body of an `EditArticle` message on the blog queue."""

    class Meta:
        unknown = EXCLUDE

    change_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    article_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    changes = fields.Dict(
        keys=fields.String(validate=validate.OneOf(EDITABLE_FIELDS)), required=True, validate=validate.Length(min=1)
    )
    received_at = fields.String(required=True)

    @post_load
    def _make(self, data: dict, **kwargs) -> EditArticle:
        return EditArticle(**data)


class UnpublishArticleSchema(Schema):
    """The body of an `UnpublishArticle` message on the blog queue."""

    class Meta:
        unknown = EXCLUDE

    change_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    article_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    received_at = fields.String(required=True)

    @post_load
    def _make(self, data: dict, **kwargs) -> UnpublishArticle:
        return UnpublishArticle(**data)
