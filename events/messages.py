"""Messages that cross a queue: small frozen dataclasses, commands named as orders."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields
from typing import Any

from events.campaign_messages import ReviewEntry, SaveCampaign

#: The envelope version written by this code; readers accept every version they know.
ENVELOPE_VERSION = 1


@dataclass(frozen=True)
class SubmitEntry:
    """Store one campaign entry under `submission_id` (assigned at ingestion)."""

    submission_id: str
    campaign_id: str
    first_name: str
    last_name: str
    email: str
    consent: bool
    received_at: str
    phone: str | None = None
    postal_code: str | None = None
    upload_key: str | None = None
    answers: dict[str, str] = field(default_factory=dict)

    @property
    def message_id(self) -> str:
        """The id that makes every delivery of this message idempotent."""
        return self.submission_id


@dataclass(frozen=True)
class RegisterUser:
    """Store a new user; `user_id` is derived from the email, so one address is one user."""

    signup_id: str
    user_id: str
    email: str
    first_name: str
    last_name: str
    received_at: str
    locale: str = "en"

    @property
    def message_id(self) -> str:
        """The id that makes every delivery of this message idempotent."""
        return self.signup_id


@dataclass(frozen=True)
class PublishArticle:
    """Store an article under `article_id` (assigned at ingestion)."""

    article_id: str
    title: str
    content: str
    author: str
    published: bool
    received_at: str
    #: `{"type", "upload_key"}` or `{"type", "url"}`, or None.
    media: dict[str, str] | None = None

    @property
    def message_id(self) -> str:
        """The id that makes every delivery of this message idempotent."""
        return self.article_id


@dataclass(frozen=True)
class PostComment:
    """Store a comment on an article, if the article exists; reject it otherwise."""

    comment_id: str
    article_id: str
    author: str
    email: str
    body: str
    received_at: str

    @property
    def message_id(self) -> str:
        """The id that makes every delivery of this message idempotent."""
        return self.comment_id


@dataclass(frozen=True)
class EditArticle:
    """Change fields of a stored article, unless a later change of it was applied already.

    `changes` holds any of `title`, `content`, `author`, `published` and `media` (None
    removes the media); `received_at` orders the changes of one article.
    """

    change_id: str
    article_id: str
    changes: dict[str, Any]
    received_at: str

    @property
    def message_id(self) -> str:
        """The id that makes every delivery of this message idempotent."""
        return self.change_id


@dataclass(frozen=True)
class UnpublishArticle:
    """Take a stored article off the blog (out of the list; its reads answer 404), unless a
    later change of it was applied already."""

    change_id: str
    article_id: str
    received_at: str

    @property
    def message_id(self) -> str:
        """The id that makes every delivery of this message idempotent."""
        return self.change_id


@dataclass(frozen=True)
class CreateTodo:
    """Store a new to-do of `owner` (the user's token subject) under `todo_id`."""

    todo_id: str
    owner: str
    title: str
    received_at: str
    notes: str = ""
    done: bool = False

    @property
    def message_id(self) -> str:
        """The id that makes every delivery of this message idempotent."""
        return self.todo_id


@dataclass(frozen=True)
class UpdateTodo:
    """Change fields of `owner`'s to-do, unless a later change was applied already."""

    change_id: str
    todo_id: str
    owner: str
    changes: dict[str, Any]
    received_at: str

    @property
    def message_id(self) -> str:
        """The id that makes every delivery of this message idempotent."""
        return self.change_id


@dataclass(frozen=True)
class DeleteTodo:
    """Delete `owner`'s to-do."""

    change_id: str
    todo_id: str
    owner: str
    received_at: str

    @property
    def message_id(self) -> str:
        """The id that makes every delivery of this message idempotent."""
        return self.change_id


#: Message type name -> dataclass, for the envelope.
MESSAGE_TYPES: dict[str, type] = {
    "SubmitEntry": SubmitEntry,
    "RegisterUser": RegisterUser,
    "PublishArticle": PublishArticle,
    "PostComment": PostComment,
    "EditArticle": EditArticle,
    "UnpublishArticle": UnpublishArticle,
    "CreateTodo": CreateTodo,
    "UpdateTodo": UpdateTodo,
    "DeleteTodo": DeleteTodo,
    "SaveCampaign": SaveCampaign,
    "ReviewEntry": ReviewEntry,
}


def message_type(message: Any) -> str:
    """The envelope type name of a message instance."""
    return type(message).__name__


def to_dict(message: Any) -> dict[str, Any]:
    """A message's fields as plain JSON-ready values.

    Shallow, unlike `dataclasses.asdict`, which deep-copies every value on the API's hot
    path: messages hold JSON values only, never other dataclasses, and the caller only
    serialises the result.
    """
    return {name: getattr(message, name) for name in _field_names(type(message))}


@functools.lru_cache(maxsize=None)
def _field_names(cls: type) -> tuple[str, ...]:
    # dataclasses.fields filters the class's fields on every call; a message type's never change.
    return tuple(f.name for f in fields(cls))
