"""The embedded DynamoDB parses an update expression once, not on every call.

moto 5.2.5 tokenises and parses an UpdateExpression twice per UpdateItem (once to check
the request, once to apply it) and once more per Update of a transaction; the API's
first keyed POST carries two (its rate counters), the same two strings on every request.
The parsed tree is only read: moto's validator deep-copies it before it resolves names
and values into it, so one parse per distinct expression serves every call. `install`
makes the moto of this process keep them (a bounded cache); what it answers, a bad
expression's error included, is moto's own.
"""

from __future__ import annotations

import functools
from typing import Any

#: Distinct update expressions kept parsed (the fleet writes a few dozen).
CACHED_EXPRESSIONS = 1024


def install() -> None:
    """Make this process's moto parse each distinct update expression once (again: the same)."""
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    original = UpdateExpressionParser.__dict__["make"]
    make = getattr(original, "__func__", original)
    if getattr(make, "_fleet_cached", False):
        return

    @functools.lru_cache(maxsize=CACHED_EXPRESSIONS)
    def parsed(cls: Any, expression: str) -> Any:
        return make(cls, expression)

    def cached_make(cls: Any, expression: str) -> Any:
        return parsed(cls, expression)

    # Marks on the function itself (the first makes a second install do nothing): mypy knows no attributes on a function.
    cached_make._fleet_cached = True  # type: ignore[attr-defined]
    cached_make._fleet_original = make  # type: ignore[attr-defined]
    UpdateExpressionParser.make = classmethod(cached_make)
