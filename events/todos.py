"""To-dos and each user's own files: request schemas, ids and the file-name rule."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, validate, validates_schema

from events.ids import UUID_ID
from events.messages.todos import EDITABLE_FIELDS
from events.schemas import StrictBoolean, StrictInteger, Text
from events.uploads import EXTENSIONS

#: Ids the API assigns (uuid4); anything else is a 404 without a read.
TODO_ID = UUID_ID
#: A user's to-dos are listed whole, newest first, up to this many.
MAX_TODOS = 500
TITLE_MAX = 200
NOTES_MAX = 2000
#: A user's folder holds at most this many files in a listing.
MAX_FILES = 1000
#: A file name: one path segment of letters, digits, `.`, `_`, `-` and spaces, no `..`.
FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._ -]{0,127}\Z")
FILE_MAX_BYTES = 25 * 1024 * 1024
#: What a user may keep in their folder: images, PDFs and plain text.
FILE_CONTENT_TYPES = (*sorted(EXTENSIONS), "application/pdf", "text/plain")


class TodoRequestSchema(Schema):
    """`POST /v1/todos`: a new to-do."""

    class Meta:
        unknown = RAISE

    title = Text(required=True, validate=validate.Length(min=1, max=TITLE_MAX))
    notes = Text(load_default="", validate=validate.Length(max=NOTES_MAX))
    done = StrictBoolean(load_default=False)


class TodoPatchSchema(Schema):
    """`PATCH /v1/todos/{id}`: the fields to change, at least one."""

    class Meta:
        unknown = RAISE

    title = Text(validate=validate.Length(min=1, max=TITLE_MAX))
    notes = Text(validate=validate.Length(max=NOTES_MAX))
    done = StrictBoolean()

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError(f"Send at least one of {', '.join(EDITABLE_FIELDS)}.")


def escapes_folder(name: str) -> bool:
    """True when a file name would reach outside its folder: separators, `..`, NUL, absolute paths."""
    return (
        "/" in name
        or "\\" in name
        or "\x00" in name
        or ".." in name
        or name.startswith(("~", "."))
        or "%" in name  # a name is used as it is; an encoded one is somebody's trick
        or ":" in name
    )


class FileRequestSchema(Schema):
    """`POST /v1/me/files`: a presigned upload of one file into the caller's folder."""

    class Meta:
        unknown = RAISE

    name = Text(required=True, validate=validate.Length(min=1, max=128))
    content_type = Text(required=True, validate=validate.OneOf(FILE_CONTENT_TYPES))
    content_length = StrictInteger(required=True, validate=validate.Range(1, FILE_MAX_BYTES))
