"""Do something at most once per key: Powertools' idempotency utility on our DynamoDB table.

The persistence layer is built on first use from `fleet.aws`'s cached client, so it
honours `AWS_ENDPOINT_URL` and costs nothing at import. Powertools writes an INPROGRESS
record before the action, marks it COMPLETED after, and deletes it when the action
raises: a failed (say, throttled) send leaves nothing behind and is retried later.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

#: How long a key is remembered. Stream records live 24 h, but a failure parked in an
#: on-failure queue may be replayed up to its 14-day retention: remember longer than that.
REMEMBER_SECONDS = 15 * 24 * 3600


@functools.lru_cache(maxsize=8)
def _persistence(table: str, region: str, endpoint_url: str | None) -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from fleet import aws

    return DynamoDBPersistenceLayer(table_name=table, key_attr="id", boto3_client=aws.client("dynamodb"))


def persistence_layer() -> Any:
    """The Powertools persistence layer on the topology's `idempotency` table."""
    from fleet import settings

    current = settings.current()
    return _persistence(current.name("idempotency"), current.region, current.endpoint_url)


def reset() -> None:
    """Forget the cached persistence layer (tests point Fleet at a new endpoint)."""
    _persistence.cache_clear()


def once(scope: str, key: str, action: Callable[[], Any], context: Any = None, persistence: Any = None) -> Any:
    """Run `action` unless it already completed for (scope, key); return its (stored) result.

    Raises Powertools' IdempotencyAlreadyInProgressError while another invocation holds
    the key: the caller fails the record and it is retried later. `context` (a Lambda
    context) bounds how long a crashed invocation's INPROGRESS record blocks retries.
    """
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    config = IdempotencyConfig(
        event_key_jmespath="key", expires_after_seconds=REMEMBER_SECONDS, raise_on_no_idempotency_key=True
    )
    if context is not None:
        config.register_lambda_context(context)

    @idempotent_function(
        data_keyword_argument="data",
        persistence_store=persistence if persistence is not None else persistence_layer(),
        config=config,
        key_prefix=scope,
    )
    def run(data: dict[str, str]) -> Any:
        return action()

    return run(data={"key": key})
