"""The DynamoDB adapter of the RateLimiter port: fixed windows in the rate_limits table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from events.topology import TOPOLOGY
from lambda_platform.adapters.dynamo import call, cancellation_reasons
from lambda_platform.errors import error_code
from lambda_platform.resources import table_name

RATE_LIMITS = TOPOLOGY.table("rate_limits")


class DynamoRateLimiter:
    """Fixed windows in the rate_limits table, old windows expiring by TTL.

    Every counter of a request is counted in one call: a transaction of conditional ADDs,
    cancelled as a whole when one counter is at its limit (the reasons say which).
    """

    def hit(self, limits: Sequence[tuple[str, int]], window_seconds: int, now: float) -> str | None:
        """Count one request in each counter's window, all or none; the first full counter, or None."""
        if not limits:
            return None
        try:
            call("transact_write_items", TransactItems=counter_updates(limits, window_seconds, now))
        except Exception as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            full = full_counter(limits, cancellation_reasons(exc))
            if full is None:
                raise  # cancelled for another reason (a conflict): the caller's 5xx/503 path
            return full
        return None


def counter_updates(limits: Sequence[tuple[str, int]], window_seconds: int, now: float) -> list[dict[str, Any]]:
    """The transaction items that count one request in each `(counter, limit)`'s window of `now`."""
    window = int(now) // window_seconds
    table = table_name(RATE_LIMITS)
    return [
        {
            "Update": {
                "TableName": table,
                "Key": {"counter": {"S": f"{counter}#{window}"}},
                "UpdateExpression": "ADD hits :one SET expires_at = if_not_exists(expires_at, :expires)",
                "ConditionExpression": "attribute_not_exists(hits) OR hits < :limit",
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":expires": {"N": str((window + 2) * window_seconds)},
                },
            }
        }
        for counter, limit in limits
    ]


def full_counter(limits: Sequence[tuple[str, int]], reasons: Sequence[Mapping[str, Any]]) -> str | None:
    """The first counter whose update of `counter_updates(limits, ...)` failed its condition, or None."""
    # Not strict: a key's put may follow the counters in the transaction, and a refusal may carry no reasons.
    for (counter, _limit), reason in zip(limits, reasons, strict=False):
        if reason.get("Code") == "ConditionalCheckFailed":
            return counter
    return None
