"""Query strings: each parameter at most once, on every route.

Flask's `request.args.get` takes a repeated parameter's first value; a proxy, a cache or a
client library may take the last one, or reorder them (`limit=5&limit=100`). Refused
outright (400), no part of the system can read a different request than another.
"""

from __future__ import annotations

from flask import request

from ingest_api.errors import ApiError

#: How many repeated names an error lists, and how much of each.
_SHOWN_NAMES = 10
_NAME_CHARS = 64


def refuse_repeated_parameters() -> None:
    """400 `repeated_parameter`, naming each parameter the query string gives more than once."""
    if not request.query_string:
        return  # most requests: nothing to parse
    repeated = [name for name, values in request.args.lists() if len(values) > 1]
    if repeated:
        fields = {
            name[:_NAME_CHARS]: ["Given more than once: send each query parameter once."] for name in repeated[:_SHOWN_NAMES]
        }
        raise ApiError(400, "repeated_parameter", "A query parameter is given more than once.", fields)
