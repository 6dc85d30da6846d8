"""The embedded DynamoDB reads and writes the JSON of its item calls as JSON, not through a model of every shape.

moto 5.2.5 reads every request with a parser driven by botocore's service model (each
member looked up in its shape, each value converted by type) and writes every answer
with a serializer driven the same way: for DynamoDB's item calls, whose bodies are JSON
in and JSON out, that walk was a sixth of the DynamoDB process's CPU in a burst, to
produce what `json.loads` and `json.dumps` produce. The walk changes something in three
cases only: a binary value (`B`, `BS`: base64 in the JSON, bytes in between), a time
(no item call has one), and a member that is None (left out of the answer).

`install` makes the moto of this process, for the item calls (GetItem, PutItem,
UpdateItem, DeleteItem, Query, Scan, BatchGetItem, BatchWriteItem, TransactGetItems,
TransactWriteItems), read a request body that holds no `"B` anywhere with `json.loads`,
and write an answer that holds nothing but JSON's own types with `json.dumps`, leaving
out, as moto's serializer does, Nones and the members the call's output shape does not
have (the shape's plan is worked out once per call; an attribute value is written as is). Any other call, body or answer goes through moto's own
parser and serializer; errors are moto's own either way.
"""

from __future__ import annotations

import functools
import json
from typing import Any

#: DynamoDB's item calls: JSON in, JSON out, no times.
ITEM_CALLS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
#: What a JSON answer may hold and be written as is (bool is an int).
_SCALARS = (str, int, float)


class _NotPlain(Exception):
    """An answer with a value JSON has no type for (bytes, a time, a Decimal): moto's serializer writes it."""


def install() -> None:
    """Make this process's moto read and write its DynamoDB item calls' JSON as above (once)."""
    from moto.core.responses import ActionResult, BaseResponse
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.__dict__.get("parse_parameters"), "_fleet_json", False):
        return
    parse, serialize = BaseResponse.parse_parameters, BaseResponse.serialized
    execute = ActionResult.execute_result

    def parse_parameters(self: Any, request: Any) -> None:
        if self._get_action() in ITEM_CALLS:
            parsed = plain_request(request.data)
            if parsed is not None:
                self.params = parsed
                return
        parse(self, request)

    def serialized(self: Any, action_result: Any) -> Any:
        # An ActionResult, or DynamoResult (its items already dicts): one that writes itself otherwise goes to moto.
        if type(action_result).execute_result is execute and self._get_action() in ITEM_CALLS:
            body = plain_answer(action_result.result, self._get_action())
            if body is not None:
                headers = {"Content-Type": "application/x-amz-json-1.0"}
                headers.update(self.response_headers)
                return 200, headers, body
        return serialize(self, action_result)

    parse_parameters._fleet_json = True  # type: ignore[attr-defined]
    # Methods of our own on moto's class are the point; mypy refuses an assignment to a method.
    DynamoHandler.parse_parameters = parse_parameters  # type: ignore[method-assign]
    DynamoHandler.serialized = serialized  # type: ignore[method-assign]


def uninstall() -> None:
    """moto's own parser and serializer again (for the tests that compare the two)."""
    from moto.dynamodb.responses import DynamoHandler

    for name in ("parse_parameters", "serialized"):
        if name in DynamoHandler.__dict__:
            delattr(DynamoHandler, name)


def plain_request(body: Any) -> dict[str, Any] | None:
    """The parameters of a JSON body that holds no binary value, as moto's parser would give them; else None."""
    if isinstance(body, str):
        body = body.encode()
    if not isinstance(body, bytes) or not body or b'"B' in body:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def plain_answer(result: Any, action: str = "") -> str | None:
    """The JSON moto's serializer would write for an answer of JSON's own types; None for any other.

    As the serializer does, it leaves out Nones and the members the operation's output
    shape does not have (moto adds some of its own); an attribute value is written as is.
    """
    if result is None:
        result = {}
    if not isinstance(result, dict):
        return None
    try:
        return json.dumps(_clean(result, _output_plan(action) if action else None))
    except _NotPlain:
        return None


#: How to clean a value of a shape: None (as it is, Nones left out), or a structure's, list's or map's plan.
Plan = tuple[str, Any] | None


@functools.cache
def _output_plan(action: str) -> Plan:
    from moto.core.responses import get_service_model

    return _plan(get_service_model("dynamodb").operation_model(action).output_shape, {})


def _plan(shape: Any, seen: dict[str, Plan]) -> Plan:
    if shape is None or shape.name == "AttributeValue":
        return None  # an attribute value (dynamo_to_dict's own dicts) is written as it is
    if shape.name in seen:
        return seen[shape.name]
    seen[shape.name] = None  # a shape within itself: as it is
    plan: Plan = None
    if shape.type_name == "structure":
        plan = ("structure", {name: _plan(member, seen) for name, member in shape.members.items()})
    elif shape.type_name == "list":
        inner = _plan(shape.member, seen)
        plan = None if inner is None else ("list", inner)
    elif shape.type_name == "map":
        inner = _plan(shape.value, seen)
        plan = None if inner is None else ("map", inner)
    seen[shape.name] = plan
    return plan


def _clean(value: Any, plan: Plan) -> Any:
    if plan is None:
        return _without_none(value)
    kind, inner = plan
    if kind == "structure":
        if not isinstance(value, dict):
            raise _NotPlain
        return {_key(k): _clean(v, inner[k]) for k, v in value.items() if v is not None and k in inner}
    if kind == "list":
        if not isinstance(value, list):
            raise _NotPlain
        return [_clean(v, inner) for v in value]
    if not isinstance(value, dict):
        raise _NotPlain
    return {_key(k): _clean(v, inner) for k, v in value.items() if v is not None}


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {_key(k): _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    if isinstance(value, _SCALARS):
        if isinstance(value, float) and value != value:  # NaN: no JSON for it
            raise _NotPlain
        return value
    raise _NotPlain  # bytes, a datetime, a Decimal, a None in a list, a model object


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise _NotPlain
    return key
