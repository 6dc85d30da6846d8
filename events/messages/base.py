"""How a queue message is declared: once, as a frozen dataclass whose fields carry the
marshmallow field that loads them, its schema derived from the class.

    @message(id_field="todo_id")
    class CreateTodo:
        todo_id: str = field(fields.String, validate=ID)
        done: bool = field(fields.Boolean, default=False)

A field without a default is required; one with a `default` or a `default_factory` takes
it when a body leaves the field out. The derived schema ignores fields it does not know (a
newer producer may add some) and loads into the class. `message_id` is the `id_field`:
the id that makes every delivery of the message idempotent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast, dataclass_transform

from marshmallow import EXCLUDE, Schema, fields, post_load, validate

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T")

#: The ids the API assigns (uuid4) and a message carries.
ID = validate.Length(min=1, max=64)

#: The metadata key of a dataclass field that holds its marshmallow field.
_LOADED_BY = "loaded_by"
#: Where a message class keeps its derived schema, and its field names in order.
_SCHEMA = "__message_schema__"
_FIELD_NAMES = "__message_fields__"
_MISSING: Any = dataclasses.MISSING


class MessageSchema(Schema):
    """The schema derived from a message class: unknown fields ignored, loaded into the class."""

    class Meta:
        unknown = EXCLUDE  # a newer producer may add fields; readers ignore them

    message_class: ClassVar[type]

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Any:
        return self.message_class(**data)


def field(
    kind: type[fields.Field[Any]],
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] = _MISSING,
    **options: Any,
) -> Any:
    """A message field loaded by `kind(**options)`: required without a default, else loading the default."""
    if default is not _MISSING:
        loaded_by = kind(load_default=default, **options)
    elif default_factory is not _MISSING:
        loaded_by = kind(load_default=default_factory, **options)
    else:
        loaded_by = kind(required=True, **options)
    return dataclasses.field(default=default, default_factory=default_factory, metadata={_LOADED_BY: loaded_by})


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def message(*, id_field: str) -> Callable[[type[T]], type[T]]:
    """Make a class a message: a frozen dataclass whose `message_id` is `id_field`, with its schema."""

    def declare(cls: type[T]) -> type[T]:
        cls = dataclasses.dataclass(frozen=True)(cls)
        declared = dataclasses.fields(cast("type[DataclassInstance]", cls))
        undeclared = [f.name for f in declared if _LOADED_BY not in f.metadata]
        if undeclared:
            raise TypeError(f"{cls.__name__}: declare {', '.join(undeclared)} with events.messages.base.field")
        if id_field not in {f.name for f in declared}:
            raise TypeError(f"{cls.__name__} has no field {id_field!r} for its message id")
        id_doc = "The id that makes every delivery of this message idempotent."
        # setattr: `cls` is a type[T], on which mypy knows no `message_id`.
        setattr(cls, "message_id", property(attrgetter(id_field), doc=id_doc))  # noqa: B010
        setattr(cls, _FIELD_NAMES, tuple(f.name for f in declared))
        schema_fields = {f.name: f.metadata[_LOADED_BY] for f in declared}
        schema_doc = f"The body of a `{cls.__name__}` message."
        schema = type(f"{cls.__name__}Schema", (MessageSchema,), {**schema_fields, "message_class": cls, "__doc__": schema_doc})
        setattr(cls, _SCHEMA, schema)
        return cls

    return declare


def schema_of(message_class: type) -> type[MessageSchema]:
    """The schema derived from a message class."""
    try:
        schema: type[MessageSchema] = message_class.__dict__[_SCHEMA]
    except KeyError:
        raise TypeError(f"{message_class.__name__} is not declared with events.messages.base.message") from None
    return schema


def to_dict(message: Any) -> dict[str, Any]:
    """A message's fields as plain JSON-ready values.

    Shallow, unlike `dataclasses.asdict`, which deep-copies every value on the API's hot
    path: messages hold JSON values only, never other dataclasses, and the caller only
    serialises the result.
    """
    return {name: getattr(message, name) for name in getattr(type(message), _FIELD_NAMES)}
