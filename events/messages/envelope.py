"""The JSON envelope of every queue message, `{"type", "version", "body"}`, and the
message types it may carry."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from events.messages.base import schema_of, to_dict
from events.messages.blog import EditArticle, PostComment, PublishArticle, UnpublishArticle
from events.messages.campaigns import ReviewEntry, SaveCampaign, SubmitEntry
from events.messages.todos import CreateTodo, DeleteTodo, UpdateTodo
from events.messages.users import RegisterUser
from events.schemas import shared

#: The envelope version written by this code; readers accept every version they know.
ENVELOPE_VERSION = 1

#: Message type name -> message class, for the envelope.
MESSAGE_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        SubmitEntry,
        RegisterUser,
        PublishArticle,
        PostComment,
        EditArticle,
        UnpublishArticle,
        CreateTodo,
        UpdateTodo,
        DeleteTodo,
        SaveCampaign,
        ReviewEntry,
    )
}


class EnvelopeSchema(Schema):
    """Every queue message: `{"type", "version", "body"}`."""

    class Meta:
        unknown = EXCLUDE

    type = fields.String(required=True, validate=validate.OneOf(sorted(MESSAGE_TYPES)))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(1, ENVELOPE_VERSION))
    body = fields.Dict(required=True)


def message_type(message: Any) -> str:
    """The envelope type name of a message instance."""
    return type(message).__name__


#: The envelope's JSON form, built once: `json.dumps` with options builds an encoder per call.
_ENVELOPE_JSON = json.JSONEncoder(separators=(",", ":"), sort_keys=True)


def dump_message(message: Any) -> str:
    """Serialise a message into its versioned JSON envelope."""
    return _ENVELOPE_JSON.encode({"type": message_type(message), "version": ENVELOPE_VERSION, "body": to_dict(message)})


def load_message(raw: str | bytes) -> Any:
    """Parse a JSON envelope into its message; raise ValidationError when it is not one."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValidationError(f"Not JSON: {exc}") from exc
    envelope = shared(EnvelopeSchema).load(document if isinstance(document, dict) else {"_": document})
    return shared(schema_of(MESSAGE_TYPES[envelope["type"]])).load(envelope["body"])
