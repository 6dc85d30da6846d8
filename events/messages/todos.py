"""Messages of the todos queue: a to-do's creation, change and deletion, each by its owner."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from events.messages.base import ID, field, message

#: The owner of a to-do: the user's token subject.
OWNER = validate.Length(min=1, max=128)
#: The fields of a to-do that a change may set.
EDITABLE_FIELDS = ("title", "notes", "done")


@message(id_field="todo_id")
class CreateTodo:
    """Store a new to-do of `owner` (the user's token subject) under `todo_id`."""

    todo_id: str = field(fields.String, validate=ID)
    owner: str = field(fields.String, validate=OWNER)
    title: str = field(fields.String)
    received_at: str = field(fields.String)
    notes: str = field(fields.String, default="")
    done: bool = field(fields.Boolean, default=False)


@message(id_field="change_id")
class UpdateTodo:
    """Change fields of `owner`'s to-do, unless a later change was applied already."""

    change_id: str = field(fields.String, validate=ID)
    todo_id: str = field(fields.String, validate=ID)
    owner: str = field(fields.String, validate=OWNER)
    changes: dict[str, Any] = field(fields.Dict, keys=fields.String(validate=validate.OneOf(EDITABLE_FIELDS)))
    received_at: str = field(fields.String)


@message(id_field="change_id")
class DeleteTodo:
    """Delete `owner`'s to-do."""

    change_id: str = field(fields.String, validate=ID)
    todo_id: str = field(fields.String, validate=ID)
    owner: str = field(fields.String, validate=OWNER)
    received_at: str = field(fields.String)
