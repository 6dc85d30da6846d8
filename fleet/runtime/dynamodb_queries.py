"""The embedded DynamoDB's Query at the cost of the items it can match, not of the table sorted.

moto 5.2.5 starts every Query with `Table.all_items()`: every item of the table, sorted by
its primary key with `DynamoType.__lt__` (a Python comparison that casts both values on
every call). A Query of a table then keeps the items of one partition; a Query of an index
keeps those whose index key matches, and sorts them again by the index's key and the
table's. Either way a Query costs the table's size times its logarithm: at 2,000 entries
the feedback worker's Query of `by_email` took a fifth of the DynamoDB process, and a
receipt's band Queries grow with every photo of the campaign.

The first sort decides nothing: a table Query's results are sorted again by range key,
within one partition where range keys are unique; an index Query's by the index's keys
and then the table's, which are unique per item; both sorts are stable. `install` makes
the moto of this process hand a Query, in place of that sorted list, the items of its one
partition (a table Query: a dict lookup) or the items unsorted (an index Query: one pass,
no sort, keeping only those whose string key equals the query's: a superset of what moto
keeps). What moto does next, the matching, the sort, the pages, the filters and the
errors, is its own, and the results are the same items in the same order.

A Scan still sees every item in moto's sorted order: that order is the pages it answers.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

_scope = threading.local()


def install() -> None:
    """Make this process's moto answer a Query from its partition, or from the unsorted items (once)."""
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_fleet_unsorted", False):
        return
    query, all_items = Table.query, Table.all_items
    signature = inspect.signature(query)

    def scoped_query(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        # What the query's own call of all_items() should see: the partition, or everything unsorted.
        if arguments.get("index_name"):
            equal = _string_conditions(arguments.get("hash_key_conditions"))
            _scope.items = lambda: matching_items(self, equal)
        else:
            hash_key = arguments.get("hash_key")
            _scope.items = lambda: partition_items(self, hash_key)
        _scope.table = self
        try:
            return query(self, *args, **kwargs)
        finally:
            _scope.table = None

    def scoped_all_items(self: Any) -> list[Any]:
        if getattr(_scope, "table", None) is not self:
            return all_items(self)
        _scope.table = None  # the query's one call; any other sees moto's own list
        found: list[Any] = _scope.items()
        return found

    scoped_query._fleet_unsorted = True  # type: ignore[attr-defined]
    scoped_query._fleet_original = query  # type: ignore[attr-defined]
    scoped_all_items._fleet_original = all_items  # type: ignore[attr-defined]
    # Replacing moto's methods is the point; mypy refuses an assignment to a method.
    Table.query = scoped_query  # type: ignore[method-assign]
    Table.all_items = scoped_all_items  # type: ignore[method-assign]


def uninstall() -> None:
    """moto's own Query again (for the tests that compare the two)."""
    from moto.dynamodb.models.table import Table

    if not getattr(Table.query, "_fleet_unsorted", False):
        return
    Table.query = Table.query._fleet_original  # type: ignore[attr-defined,method-assign]
    Table.all_items = Table.all_items._fleet_original  # type: ignore[attr-defined,method-assign]


def unsorted_items(table: Any) -> list[Any]:
    """Every item of a moto table, in no particular order."""
    if table.range_key_attr:
        return [item for partition in table.items.values() for item in partition.values()]
    return list(table.items.values())


def matching_items(table: Any, equal: list[tuple[str, str, Any]]) -> list[Any]:
    """The unsorted items whose string or binary attributes `(name, type, value)` are as given: a superset of moto's match.

    moto keeps an item when its attribute is truthy and equal (same type, same cast value:
    for a string or a binary, the value itself); an item this drops, moto would drop too.
    """
    items = unsorted_items(table)
    for name, kind, value in equal:
        items = [item for item in items if _has(item.attrs.get(name), kind, value)]
    return items


def _has(attribute: Any, kind: str, value: Any) -> bool:
    return attribute is not None and attribute.type == kind and attribute.value == value


def _string_conditions(conditions: Any) -> list[tuple[str, str, Any]]:
    """The equalities of a Query's key condition on string or binary values: `(attribute, type, value)`."""
    found: list[tuple[str, str, Any]] = []
    for name, expected in conditions or []:
        if getattr(expected, "type", None) in ("S", "B"):
            found.append((name, expected.type, expected.value))
    return found


def partition_items(table: Any, hash_key: Any) -> list[Any]:
    """The items of one partition of a moto table (none for a key it holds nothing under)."""
    if hash_key is None:
        return unsorted_items(table)
    try:
        found = table.items.get(hash_key)
    except TypeError:  # a key moto cannot hash: let its own comparison decide, over everything
        return unsorted_items(table)
    if found is None:
        return []
    return list(found.values()) if table.range_key_attr else [found]
