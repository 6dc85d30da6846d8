"""In-memory fakes for the email flows: a mailer, a users table, an idempotency store."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer, DataRecord

from lambda_platform.errors import RetryLater


class FakeMailer:
    """A Mailer that keeps what it sent; `throttle_first` recipients fail their first send."""

    def __init__(self, throttle_first: set[str] | None = None, always_fail: set[str] | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.attempts: dict[str, int] = {}
        self.throttle_first = set(throttle_first or ())
        self.always_fail = set(always_fail or ())

    def send(self, to: str, subject: str, text: str, html: str, *, tags: Iterable[tuple[str, str]] = ()) -> str:
        """Record the email and its tags (a dict), or raise RetryLater as SES throttling does."""
        self.attempts[to] = self.attempts.get(to, 0) + 1
        if to in self.always_fail or (to in self.throttle_first and self.attempts[to] == 1):
            raise RetryLater("Throttling: Maximum sending rate exceeded.")
        self.sent.append({"to": to, "subject": subject, "text": text, "html": html, "tags": dict(tags)})
        return f"ses-{len(self.sent)}"

    def to(self, address: str) -> list[dict[str, Any]]:
        """The emails sent to one address."""
        return [m for m in self.sent if m["to"] == address]


class FakeUsers:
    """A UserStore in a dict, conditional on the user id as the DynamoDB adapter is."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def create(self, user: Mapping[str, Any]) -> bool:
        """Store a new user; False when the user id exists."""
        if user["user_id"] in self.items:
            return False
        self.items[user["user_id"]] = {k: v for k, v in user.items() if v is not None}
        return True

    def get(self, user_id: str) -> dict[str, Any] | None:
        """The stored user, or None."""
        item = self.items.get(user_id)
        return copy.deepcopy(item) if item is not None else None


class MemoryPersistence(BasePersistenceLayer):
    """Powertools' idempotency persistence in a dict, with the DynamoDB layer's conditions."""

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, DataRecord] = {}

    def _get_record(self, idempotency_key: str) -> DataRecord:
        if idempotency_key not in self.records:
            raise IdempotencyItemNotFoundError
        return self.records[idempotency_key]

    def _put_record(self, data_record: DataRecord) -> None:
        old = self.records.get(data_record.idempotency_key)
        if old is not None and not old.is_expired:
            raise IdempotencyItemAlreadyExistsError(old_data_record=old)
        self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        self.records.pop(data_record.idempotency_key, None)

    def statuses(self) -> list[str]:
        """The status of every record kept."""
        return [r.status for r in self.records.values()]


def once_over(persistence: MemoryPersistence) -> Callable[[str, str, Callable[[], Any]], Any]:
    """The real `lambda_platform.idempotency.once`, on an in-memory persistence layer, in a Lambda context."""
    from fleet.runtime.invoke import LocalContext
    from lambda_platform.idempotency import once

    context = LocalContext("welcome", 512, "arn:aws:lambda:us-east-1:123456789012:function:fleet-local-workers", 30)
    return lambda scope, key, action: once(scope, key, action, context=context, persistence=persistence)
