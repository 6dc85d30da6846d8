"""Marshmallow schemas of request bodies and stored campaigns, and their field types.

The queue messages' schemas are derived from the messages themselves (`events.messages`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from events.emails import Email as Email  # every email field, here with the others (re-exported)
from events.ids import CAMPAIGN_ID
from events.text import is_blank, is_one_line

# Characters that no form field may carry: C0 controls (tab and newlines aside), DEL, and
# lone surrogates, which JSON can spell but UTF-8 (and so SQS and DynamoDB) cannot.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class Text(fields.String):
    """A string stripped of surrounding blanks, with no control characters; one with nothing
    visible in it (`events.text.is_blank`) is empty, and a required one must not be."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if _FORBIDDEN.search(text):
            raise ValidationError("Contains characters that are not allowed.")
        if is_blank(text):
            text = ""  # so that a minimum length counts what shows
        if not text and self.required:
            raise ValidationError("Must not be empty.")
        return text


class Line(Text):
    """Text on one line, as a name is listed: no tab or line break, no C1 control, no line or
    paragraph separator, no bidi mark, embedding, override or isolate (`events.text.NOT_IN_A_LINE`),
    which would forge or reorder the rows of a listing (`fleet campaigns list`)."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        # Checked before Text strips the ends: a trailing newline is no more welcome than an inner one.
        if isinstance(value, str) and not is_one_line(value):
            raise ValidationError("Must be one line, without control, separator or bidi characters.")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """A JSON `true` or `false` and nothing else."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> bool:
        # truthy={True} is not enough: 1 == True in a set, so 1 and 1.0 would pass as consent.
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class StrictInteger(fields.Integer):
    """A JSON integer and nothing else (not true, not 1.5, not "12")."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> int:
        # fields.Integer(strict=True) still takes True and False: a bool is an int.
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


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
    def _few_answers(self, value: dict[str, Any], data_key: str) -> None:
        if len(value) > MAX_ANSWERS:
            raise ValidationError(f"At most {MAX_ANSWERS} answers.")


LOCALE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?\Z")


class UserSignupSchema(Schema):
    """The body of `POST /v1/users`."""

    class Meta:
        unknown = RAISE

    email = Email(required=True, validate=validate.Length(max=254))
    first_name = Text(required=True, validate=validate.Length(min=1, max=100))
    last_name = Text(required=True, validate=validate.Length(min=1, max=100))
    locale = Text(load_default="en", validate=validate.Regexp(LOCALE, error="A locale such as en or pt-BR."))


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
    name = Line(required=True, validate=validate.Length(min=1, max=200))
    opens_at = fields.AwareDateTime(required=True, format="iso")
    closes_at = fields.AwareDateTime(required=True, format="iso")
    # JSON integers and booleans only: "5" and "yes" are not what an operator meant to store.
    max_entries_per_email = StrictInteger(load_default=1, validate=validate.Range(1, 100))
    gives_codes = StrictBoolean(load_default=False)
    draw_includes_unreviewed = StrictBoolean(load_default=True)
    draw_includes_flagged = StrictBoolean(load_default=False)

    @validates_schema
    def _opens_before_closing(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "opens_at" in data and "closes_at" in data and data["opens_at"] >= data["closes_at"]:
            raise ValidationError("Must be after opens_at.", "closes_at")


def plain(data: dict[str, Any]) -> dict[str, Any]:
    """Drop None values: DynamoDB items and JSON answers leave absent fields out."""
    return {k: v for k, v in data.items() if v is not None}
