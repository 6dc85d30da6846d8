"""Each queue message is declared once: its schema, id, envelope and defaults come from the class."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from marshmallow import ValidationError, fields

from events.messages.base import ID, MessageSchema, field, message, schema_of, to_dict
from events.messages.blog import EditArticle, PostComment, PublishArticle, UnpublishArticle
from events.messages.campaigns import MAX_REASON, ReviewEntry, SaveCampaign, SubmitEntry
from events.messages.envelope import MESSAGE_TYPES, dump_message, load_message
from events.messages.todos import CreateTodo, DeleteTodo, UpdateTodo
from events.messages.users import RegisterUser

AT = "2026-03-01T12:00:00+00:00"
UUID = "5f0c6d7e-1b2a-4c3d-8e4f-0a1b2c3d4e5f"

#: One message of every type, every field set (none left to its default).
EXAMPLES: list[Any] = [
    SubmitEntry(
        submission_id=UUID,
        campaign_id="spring-2026",
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        consent=True,
        received_at=AT,
        phone="+44 20 7946 0000",
        postal_code="NW1 6XE",
        upload_key="uploads/campaigns/spring-2026/ab/0123456789abcdef0123456789abcdef.jpg",
        answers={"colour": "blue"},
    ),
    RegisterUser(
        signup_id=UUID,
        user_id="3b9f0a5e-6c1d-5e2f-8a3b-4c5d6e7f8091",
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        received_at=AT,
        locale="pt-BR",
    ),
    PublishArticle(
        article_id=UUID,
        title="Notes",
        content="On the engine.",
        author="Ada",
        published=False,
        received_at=AT,
        media={"type": "image", "url": "https://example.com/engine.jpg"},
    ),
    PostComment(comment_id=UUID, article_id=UUID, author="Charles", email="cb@example.com", body="Splendid.", received_at=AT),
    EditArticle(change_id=UUID, article_id=UUID, changes={"title": "Notes, revised", "media": None}, received_at=AT),
    UnpublishArticle(change_id=UUID, article_id=UUID, received_at=AT),
    CreateTodo(todo_id=UUID, owner="user-sub-1", title="Buy milk", received_at=AT, notes="Oat", done=True),
    UpdateTodo(change_id=UUID, todo_id=UUID, owner="user-sub-1", changes={"done": False}, received_at=AT),
    DeleteTodo(change_id=UUID, todo_id=UUID, owner="user-sub-1", received_at=AT),
    SaveCampaign(
        change_id=UUID,
        campaign_id="spring-2026",
        name="Spring",
        opens_at="2026-03-01T00:00:00+00:00",
        closes_at="2026-04-01T00:00:00+00:00",
        received_at=AT,
        max_entries_per_email=3,
        gives_codes=True,
        draw_includes_unreviewed=False,
        draw_includes_flagged=True,
    ),
    ReviewEntry(
        change_id=UUID,
        campaign_id="spring-2026",
        submission_id=UUID,
        decision="rejected",
        received_at=AT,
        key_id="k1",
        key_name="reviewer",
        reason="Blurred receipt.",
    ),
]

#: The field each message type is made idempotent by.
ID_FIELDS = {
    "SubmitEntry": "submission_id",
    "RegisterUser": "signup_id",
    "PublishArticle": "article_id",
    "PostComment": "comment_id",
    "EditArticle": "change_id",
    "UnpublishArticle": "change_id",
    "CreateTodo": "todo_id",
    "UpdateTodo": "change_id",
    "DeleteTodo": "change_id",
    "SaveCampaign": "change_id",
    "ReviewEntry": "change_id",
}


def body_of(cls: type) -> dict[str, Any]:
    """The example body of a message type, as the envelope carries it."""
    return dict(to_dict(next(m for m in EXAMPLES if type(m) is cls)))


def refused(cls: type, body: dict[str, Any]) -> dict[str, Any]:
    """The errors of loading `body` as a `cls` message."""
    with pytest.raises(ValidationError) as error:
        schema_of(cls)().load(body)
    return error.value.messages


def test_the_examples_cover_every_message_type():
    assert sorted(type(m).__name__ for m in EXAMPLES) == sorted(MESSAGE_TYPES) == sorted(ID_FIELDS)
    assert all(MESSAGE_TYPES[name].__name__ == name for name in MESSAGE_TYPES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda m: type(m).__name__)
def test_a_message_round_trips_through_its_schema_and_its_envelope(example):
    schema = schema_of(type(example))()
    assert isinstance(schema, MessageSchema)
    assert schema.load(schema.dump(example)) == example
    assert schema.dump(example) == to_dict(example)
    assert load_message(dump_message(example)) == example


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda m: type(m).__name__)
def test_a_message_is_frozen_and_its_id_is_its_declared_field(example):
    name = type(example).__name__
    assert example.message_id == getattr(example, ID_FIELDS[name])
    with pytest.raises(dataclasses.FrozenInstanceError):
        # The assignment a frozen message refuses, on purpose.
        example.received_at = AT  # type: ignore[misc]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda m: type(m).__name__)
def test_unknown_fields_are_ignored(example):
    # A newer producer may add fields; this reader loads what it knows.
    body = {**to_dict(example), "added_later": {"x": 1}, "priority": 5}
    assert schema_of(type(example))().load(body) == example
    envelope = json.dumps({"type": type(example).__name__, "version": 1, "body": body, "trace": "t"})
    assert load_message(envelope) == example


def test_the_envelope_is_written_byte_for_byte_as_before():
    entry = SubmitEntry(
        submission_id="s1",
        campaign_id="c1",
        first_name="Ada",
        last_name="L",
        email="ada@example.com",
        consent=True,
        received_at=AT,
    )
    assert dump_message(entry) == (
        '{"body":{"answers":{},"campaign_id":"c1","consent":true,"email":"ada@example.com","first_name":"Ada",'
        '"last_name":"L","phone":null,"postal_code":null,"received_at":"2026-03-01T12:00:00+00:00",'
        '"submission_id":"s1","upload_key":null},"type":"SubmitEntry","version":1}'
    )


def test_to_dict_is_shallow_and_in_declaration_order():
    example = EXAMPLES[0]
    shown = to_dict(example)
    assert list(shown) == [f.name for f in dataclasses.fields(example)]
    assert shown["answers"] is example.answers  # no deep copy on the API's hot path


@pytest.mark.parametrize(
    ("cls", "left_out", "defaults"),
    [
        (
            SubmitEntry,
            ("phone", "postal_code", "upload_key", "answers"),
            {"phone": None, "postal_code": None, "upload_key": None, "answers": {}},
        ),
        (RegisterUser, ("locale",), {"locale": "en"}),
        (PublishArticle, ("media",), {"media": None}),
        (CreateTodo, ("notes", "done"), {"notes": "", "done": False}),
        (
            SaveCampaign,
            ("max_entries_per_email", "gives_codes", "draw_includes_unreviewed", "draw_includes_flagged"),
            {"max_entries_per_email": 1, "gives_codes": False, "draw_includes_unreviewed": True, "draw_includes_flagged": False},
        ),
        (ReviewEntry, ("reason",), {"reason": None}),
    ],
)
def test_a_field_left_out_loads_its_default(cls, left_out, defaults):
    body = {k: v for k, v in body_of(cls).items() if k not in left_out}
    loaded = schema_of(cls)().load(body)
    assert {k: getattr(loaded, k) for k in left_out} == defaults
    assert loaded == cls(**body)  # the class's defaults and the schema's are the same


def test_a_default_factory_gives_each_message_its_own_value():
    body = {k: v for k, v in body_of(SubmitEntry).items() if k != "answers"}
    first, second = (schema_of(SubmitEntry)().load(body) for _ in range(2))
    assert first.answers == {} and first.answers is not second.answers


def test_a_nullable_field_takes_null():
    body = {**body_of(SubmitEntry), "phone": None, "upload_key": None}
    assert schema_of(SubmitEntry)().load(body).phone is None
    assert schema_of(ReviewEntry)().load({**body_of(ReviewEntry), "reason": None}).reason is None
    assert schema_of(PublishArticle)().load({**body_of(PublishArticle), "media": None}).media is None


@pytest.mark.parametrize("cls", list(MESSAGE_TYPES.values()), ids=lambda c: c.__name__)
def test_every_field_without_a_default_is_required(cls):
    required = {f.name for f in dataclasses.fields(cls) if f.default is f.default_factory is dataclasses.MISSING}
    assert ID_FIELDS[cls.__name__] in required
    assert refused(cls, {}) == {name: ["Missing data for required field."] for name in required}


TOO_SHORT_OR_LONG = [
    (SubmitEntry, "submission_id", ""),
    (SubmitEntry, "campaign_id", "c" * 65),
    (RegisterUser, "user_id", "u" * 65),
    (PostComment, "article_id", ""),
    (EditArticle, "change_id", "x" * 65),
    (UpdateTodo, "owner", "o" * 129),
    (DeleteTodo, "owner", ""),
    (CreateTodo, "todo_id", ""),
    (ReviewEntry, "reason", "r" * (MAX_REASON + 1)),
    (EditArticle, "changes", {}),
]


@pytest.mark.parametrize(("cls", "name", "value"), TOO_SHORT_OR_LONG, ids=[f"{c.__name__}.{n}" for c, n, _ in TOO_SHORT_OR_LONG])
def test_a_length_out_of_bounds_is_refused(cls, name, value):
    errors = refused(cls, {**body_of(cls), name: value})
    assert list(errors) == [name] and errors[name][0].startswith(("Length must be", "Shorter than", "Longer than"))


@pytest.mark.parametrize("cls", [SubmitEntry, RegisterUser, PostComment], ids=lambda c: c.__name__)
def test_an_email_field_holds_the_one_email_rule(cls):
    assert list(refused(cls, {**body_of(cls), "email": "ada@localhost"})) == ["email"]
    loaded = schema_of(cls)().load({**body_of(cls), "email": "  ada@bücher.example  "})
    assert loaded.email == "ada@xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("cls", "name", "value", "where"),
    [
        (ReviewEntry, "decision", "maybe", ["decision"]),
        (EditArticle, "changes", {"body": "x"}, ["changes"]),
        (UpdateTodo, "changes", {"owner": "someone-else"}, ["changes"]),
    ],
)
def test_a_value_outside_its_choices_is_refused(cls, name, value, where):
    errors = refused(cls, {**body_of(cls), name: value})
    assert list(errors) == where
    assert "Must be one of" in json.dumps(errors)


@pytest.mark.parametrize(
    ("cls", "name", "value"),
    [
        (SubmitEntry, "consent", "maybe"),
        (SubmitEntry, "answers", ["not", "a", "dict"]),
        (SubmitEntry, "first_name", 7),
        (SaveCampaign, "max_entries_per_email", "many"),
        (CreateTodo, "done", "perhaps"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(cls, name, value):
    assert list(refused(cls, {**body_of(cls), name: value})) == [name]


def test_the_envelope_refuses_an_unknown_type_or_version():
    body = to_dict(EXAMPLES[0])
    for envelope in ({"type": "DropTables", "version": 1, "body": body}, {"type": "SubmitEntry", "version": 2, "body": body}):
        with pytest.raises(ValidationError):
            load_message(json.dumps(envelope))


# --- The helper itself ------------------------------------------------------------------


def test_a_message_is_positional_in_declaration_order():
    assert UnpublishArticle("c1", "a1", AT) == UnpublishArticle(change_id="c1", article_id="a1", received_at=AT)


def test_a_field_builds_its_marshmallow_field_from_the_default():
    @message(id_field="thing_id")
    class MakeThing:
        thing_id: str = field(fields.String, validate=ID)
        size: int = field(fields.Integer, default=3)
        tags: dict[str, str] = field(fields.Dict, default_factory=dict)

    declared = schema_of(MakeThing)().fields
    assert declared["thing_id"].required and declared["thing_id"].validators == [ID]
    assert not declared["size"].required and declared["size"].load_default == 3
    assert declared["tags"].load_default is dict
    assert MakeThing("t").message_id == "t"
    assert schema_of(MakeThing).__name__ == "MakeThingSchema"


def test_a_message_must_declare_every_field_and_name_an_id_it_has():
    with pytest.raises(TypeError, match="declare size"):

        @message(id_field="thing_id")
        class Undeclared:
            thing_id: str = field(fields.String)
            size: int = 3

    with pytest.raises(TypeError, match="no field 'id'"):

        @message(id_field="id")
        class NoId:
            thing_id: str = field(fields.String)


def test_a_class_that_is_not_a_message_has_no_schema():
    @dataclasses.dataclass(frozen=True)
    class Plain:
        x: int

    with pytest.raises(TypeError, match="not declared"):
        schema_of(Plain)
