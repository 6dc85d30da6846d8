"""Marshmallow schemas: one per request body and one per message on a queue."""

from __future__ import annotations

import json
import re
from typing import Any

from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from events.blog_messages import EditArticleSchema, PostCommentSchema, PublishArticleSchema, UnpublishArticleSchema
from events.campaign_messages import ReviewEntrySchema, SaveCampaignSchema
from events.emails import Email  # every email field, here with the others
from events.ids import CAMPAIGN_ID
from events.messages import (
    ENVELOPE_VERSION,
    MESSAGE_TYPES,
    CreateTodo,
    DeleteTodo,
    RegisterUser,
    SubmitEntry,
    UpdateTodo,
    message_type,
    to_dict,
)
from events.text import is_blank

# Characters that no form field may carry: C0 controls (tab and newlines aside), DEL, and
# lone surrogates, which JSON can spell but UTF-8 (and so SQS and DynamoDB) cannot.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class Text(fields.String):
    """A string stripped of surrounding blanks, with no control characters; one with nothing
    visible in it (`events.text.is_blank`) is empty, and a required one must not be."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if _FORBIDDEN.search(text):
            raise ValidationError("Contains characters that are not allowed.")
        if is_blank(text):
            text = ""  # so that a minimum length counts what shows
        if not text and self.required:
            raise ValidationError("Must not be empty.")
        return text


class StrictBoolean(fields.Boolean):
    """A JSON `true` or `false` and nothing else."""

    def _deserialize(self, value, attr, data, **kwargs):
        # truthy={True} is not enough: 1 == True in a set, so 1 and 1.0 would pass as consent.
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


StrictTrue = StrictBoolean(required=True, validate=validate.Equal(True, error="Consent is required."))

PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{4,22}[0-9]\Z")
POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{0,8}[A-Za-z0-9]\Z")
MAX_ANSWERS = 20


class SubmissionRequestSchema(Schema):
    """The body of `POST /v1/campaigns/{campaign_id}/submissions`."""

    class Meta:
        unknown = RAISE

    first_name = Text(required=True, validate=validate.Length(min=1, max=100))
    last_name = Text(required=True, validate=validate.Length(min=1, max=100))
    email = Email(required=True, validate=validate.Length(max=254))
    phone = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(PHONE, error="Not a valid phone number."),
    )
    postal_code = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(POSTAL_CODE, error="Not a valid postal code."),
    )
    consent = StrictTrue
    upload_key = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=512))
    answers = fields.Dict(
        keys=Text(validate=validate.Length(min=1, max=64)),
        values=Text(validate=validate.Length(max=500)),
        load_default=dict,
    )

    @validates("answers")
    def _few_answers(self, value: dict, data_key: str) -> None:
        if len(value) > MAX_ANSWERS:
            raise ValidationError(f"At most {MAX_ANSWERS} answers.")


class SubmitEntrySchema(Schema):
    """The body of a `SubmitEntry` message on the submissions queue."""

    class Meta:
        unknown = EXCLUDE  # a newer producer may add fields; readers ignore them

    submission_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    campaign_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    email = Email(required=True)
    consent = fields.Boolean(required=True)
    received_at = fields.String(required=True)
    phone = fields.String(load_default=None, allow_none=True)
    postal_code = fields.String(load_default=None, allow_none=True)
    upload_key = fields.String(load_default=None, allow_none=True)
    answers = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)

    @post_load
    def _make(self, data: dict, **kwargs) -> SubmitEntry:
        return SubmitEntry(**data)


LOCALE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?\Z")


class UserSignupSchema(Schema):
    """The body of `POST /v1/users`."""

    class Meta:
        unknown = RAISE

    email = Email(required=True, validate=validate.Length(max=254))
    first_name = Text(required=True, validate=validate.Length(min=1, max=100))
    last_name = Text(required=True, validate=validate.Length(min=1, max=100))
    locale = Text(load_default="en", validate=validate.Regexp(LOCALE, error="A locale such as en or pt-BR."))


class RegisterUserSchema(Schema):
    """The body of a `RegisterUser` message on the users queue."""

    class Meta:
        unknown = EXCLUDE

    signup_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    email = Email(required=True)
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    received_at = fields.String(required=True)
    locale = fields.String(load_default="en")

    @post_load
    def _make(self, data: dict, **kwargs) -> RegisterUser:
        return RegisterUser(**data)


class CreateTodoSchema(Schema):
    """The body of a `CreateTodo` message on the todos queue."""

    class Meta:
        unknown = EXCLUDE

    todo_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    owner = fields.String(required=True, validate=validate.Length(min=1, max=128))
    title = fields.String(required=True)
    notes = fields.String(load_default="")
    done = fields.Boolean(load_default=False)
    received_at = fields.String(required=True)

    @post_load
    def _make(self, data: dict, **kwargs) -> CreateTodo:
        return CreateTodo(**data)


class UpdateTodoSchema(Schema):
    """The body of an `UpdateTodo` message on the todos queue."""

    class Meta:
        unknown = EXCLUDE

    change_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    todo_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    owner = fields.String(required=True, validate=validate.Length(min=1, max=128))
    changes = fields.Dict(keys=fields.String(validate=validate.OneOf(["title", "notes", "done"])), required=True)
    received_at = fields.String(required=True)

    @post_load
    def _make(self, data: dict, **kwargs) -> UpdateTodo:
        return UpdateTodo(**data)


class DeleteTodoSchema(Schema):
    """The body of a `DeleteTodo` message on the todos queue."""

    class Meta:
        unknown = EXCLUDE

    change_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    todo_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    owner = fields.String(required=True, validate=validate.Length(min=1, max=128))
    received_at = fields.String(required=True)

    @post_load
    def _make(self, data: dict, **kwargs) -> DeleteTodo:
        return DeleteTodo(**data)


BODY_SCHEMAS: dict[str, type[Schema]] = {
    "SubmitEntry": SubmitEntrySchema,
    "RegisterUser": RegisterUserSchema,
    "PublishArticle": PublishArticleSchema,
    "PostComment": PostCommentSchema,
    "EditArticle": EditArticleSchema,
    "UnpublishArticle": UnpublishArticleSchema,
    "CreateTodo": CreateTodoSchema,
    "UpdateTodo": UpdateTodoSchema,
    "DeleteTodo": DeleteTodoSchema,
    "SaveCampaign": SaveCampaignSchema,
    "ReviewEntry": ReviewEntrySchema,
}


class EnvelopeSchema(Schema):
    """Every queue message: `{"type", "version", "body"}`."""

    class Meta:
        unknown = EXCLUDE

    type = fields.String(required=True, validate=validate.OneOf(sorted(MESSAGE_TYPES)))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(1, ENVELOPE_VERSION))
    body = fields.Dict(required=True)

    @validates_schema
    def _known_type(self, data: dict, **kwargs) -> None:
        if "type" in data and data["type"] not in BODY_SCHEMAS:
            raise ValidationError("Unknown message type.", "type")


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
    return shared(BODY_SCHEMAS[envelope["type"]]).load(envelope["body"])


_SHARED: dict[type[Schema], Schema] = {}


def shared(schema: type[Schema]) -> Schema:
    """One instance of `schema` for every caller, built on first use.

    Building a schema deep-copies its declared fields (tens of microseconds each time);
    loading and dumping keep no state on the instance, so records and threads may share it.
    """
    found = _SHARED.get(schema)
    if found is None:
        found = _SHARED.setdefault(schema, schema())
    return found


class CampaignSchema(Schema):
    """A campaign as stored and listed."""

    class Meta:
        unknown = EXCLUDE

    campaign_id = fields.String(
        required=True,
        validate=validate.Regexp(CAMPAIGN_ID, error="Lowercase letters, digits and dashes."),
    )
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    opens_at = fields.AwareDateTime(required=True, format="iso")
    closes_at = fields.AwareDateTime(required=True, format="iso")
    max_entries_per_email = fields.Integer(load_default=1, validate=validate.Range(1, 100))
    gives_codes = fields.Boolean(load_default=False)
    draw_includes_unreviewed = fields.Boolean(load_default=True)
    draw_includes_flagged = fields.Boolean(load_default=False)

    @validates_schema
    def _opens_before_closing(self, data: dict, **kwargs) -> None:
        if "opens_at" in data and "closes_at" in data and data["opens_at"] >= data["closes_at"]:
            raise ValidationError("Must be after opens_at.", "closes_at")


def plain(data: dict[str, Any]) -> dict[str, Any]:
    """Drop None values: DynamoDB items and JSON answers leave absent fields out."""
    return {k: v for k, v in data.items() if v is not None}
