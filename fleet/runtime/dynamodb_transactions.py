"""The embedded DynamoDB's TransactWriteItems at the cost of its items, as on AWS.

moto 5.2.5 deep-copies every table a transaction touches before it starts, to roll back
on a cancellation: a transaction costs the size of its tables (a put into a table of
5,000 items, 146 ms; of none, 9 ms), and a write by another thread to one of those tables
meanwhile fails it with a 500 ("dictionary changed size during iteration"). The API's
first keyed POST is one transaction over the rate counters and the request keys, a table
that grows with every POST. `install` makes the moto of this process check every
condition of a transaction first and write only when all hold, one transaction at a
time: nothing needs copying. Cancellation reasons (with `ReturnValuesOnConditionCheckFailure`)
and the errors for a bad request are moto's own.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_lock = threading.Lock()

OPERATIONS = ("ConditionCheck", "Put", "Delete", "Update")


def install() -> None:
    """Make this process's moto run TransactWriteItems as above (once; later calls do nothing)."""
    from moto.dynamodb.models import DynamoDBBackend

    # Replacing moto's method with ours is the point: mypy refuses any assignment to a method,
    # and ours takes the backend as Any: it reaches into moto's internals further than moto's
    # own annotations describe them.
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]


def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems: every condition checked, then every write made, or none."""
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    operations: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    touched: set[tuple[str, str]] = set()
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        kind, operation = next(iter(item.items()))
        if kind not in OPERATIONS:
            raise ValueError("Unsupported transaction operation")
        key = _key(backend, kind, operation)
        target = (str(operation["TableName"]), str(dict(sorted(key.items()))))
        if target in touched:
            raise MultipleTransactionsException()
        touched.add(target)
        operations.append((kind, operation, key))
    with _lock:
        reasons = [_check(backend, operation, key) for _, operation, key in operations]
        if any(code is not None for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
        # Only a bad request fails a write now (an update expression moto refuses): put back
        # the few items written before it, as moto's copy of the tables did.
        before = [
            (operation["TableName"], key, copy.deepcopy(backend.get_item(operation["TableName"], key)))
            for kind, operation, key in operations
            if kind != "ConditionCheck"
        ]
        try:
            for kind, operation, key in operations:
                _write(backend, kind, operation, key)
        except Exception:
            for table, key, item in before:
                if item is None:
                    backend.delete_item(table, key)
                else:
                    backend.put_item(table, item.to_json()["Attributes"])
            raise


def _key(backend: Any, kind: str, operation: dict[str, Any]) -> dict[str, Any]:
    if kind != "Put":
        return operation["Key"]
    table = backend.get_table(operation["TableName"])
    attributes = operation["Item"]
    key = {table.hash_key_attr: attributes[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attributes[table.range_key_attr]
    return key


def _check(backend: Any, operation: dict[str, Any], key: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(code, message, item) of one operation's cancellation reason; (None, None, None) when it holds."""
    from moto.dynamodb.comparisons import get_filter_expression

    condition = operation.get("ConditionExpression")
    if condition is None:
        return None, None, None
    current = backend.get_item(operation["TableName"], key)
    holds = get_filter_expression(
        condition, operation.get("ExpressionAttributeNames"), operation.get("ExpressionAttributeValues")
    ).expr(current)
    if holds:
        return None, None, None
    item = None
    if operation.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
        item = current.to_json()["Attributes"]
    return "ConditionalCheckFailed", "The conditional request failed", item


def _write(backend: Any, kind: str, operation: dict[str, Any], key: dict[str, Any]) -> None:
    table = operation["TableName"]
    names, values = operation.get("ExpressionAttributeNames"), operation.get("ExpressionAttributeValues")
    if kind == "Put":
        backend.put_item(table, operation["Item"], expression_attribute_names=names, expression_attribute_values=values)
    elif kind == "Delete":
        backend.delete_item(table, key, expression_attribute_names=names, expression_attribute_values=values)
    elif kind == "Update":
        backend.update_item(
            table,
            key,
            update_expression=operation["UpdateExpression"],
            expression_attribute_names=names,
            expression_attribute_values=values,
        )
