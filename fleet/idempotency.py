"""Do something at most once per key: Powertools' idempotency utility on our DynamoDB table.

The persistence layer is built on first use from `fleet.aws`'s cached client, so it
honours `AWS_ENDPOINT_URL` and costs nothing at import. Powertools writes an INPROGRESS
record before the action, marks it COMPLETED after, and deletes it when the action
raises: a failed (say, throttled) send leaves nothing behind and is retried later.

Two windows are closed here. A throttled write of the record itself is retried a few
times (`fleet.retry`): an INPROGRESS record that cannot be marked COMPLETED would, after
its expiry, let the email go out again. And a key found INPROGRESS (another invocation
holds it, or a process died holding it) is waited on while the invocation has time left,
so a crash's leftover record delays the email rather than parking it on the on-failure
queue. One window stays open, as on AWS: SES accepts the email and the process dies
before the record says COMPLETED; after the in-progress expiry the retry sends again.
"""

from __future__ import annotations

import functools
import time
from typing import Any, Callable

from events.topology import TOPOLOGY

#: Where Powertools keeps its records, one per action done.
IDEMPOTENCY = TOPOLOGY.table("idempotency")

#: How long a key is remembered. Stream records live 24 h, but a failure parked in an
#: on-failure queue may be replayed up to its 14-day retention: remember longer than that.
REMEMBER_SECONDS = 15 * 24 * 3600


@functools.lru_cache(maxsize=8)
def _persistence(table: str, region: str, endpoint_url: str | None) -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from fleet import aws
    from fleet.retry import retrying

    class RetryingPersistenceLayer(DynamoDBPersistenceLayer):
        """Powertools' DynamoDB layer whose calls ride out a burst of throttling."""

        def _get_record(self, idempotency_key):
            return retrying(lambda: DynamoDBPersistenceLayer._get_record(self, idempotency_key))

        def _put_record(self, data_record):
            return retrying(lambda: DynamoDBPersistenceLayer._put_record(self, data_record))

        def _update_record(self, data_record):
            # The email is out: failing to say so would let it go out again. Try hard.
            return retrying(lambda: DynamoDBPersistenceLayer._update_record(self, data_record), attempts=8)

        def _delete_record(self, data_record):
            # A record left INPROGRESS blocks every retry until its expiry.
            return retrying(lambda: DynamoDBPersistenceLayer._delete_record(self, data_record), attempts=8)

    return RetryingPersistenceLayer(table_name=table, key_attr=IDEMPOTENCY.partition_key, boto3_client=aws.client("dynamodb"))


def persistence_layer() -> Any:
    """The Powertools persistence layer on the topology's `idempotency` table."""
    from fleet import resources, settings

    current = settings.current()
    return _persistence(resources.table_name(IDEMPOTENCY), current.region, current.endpoint_url)


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

    return _waiting_in_progress(lambda: run(data={"key": key}), context)


#: Margin kept out of the invocation's remaining time when waiting on an INPROGRESS key.
IN_PROGRESS_MARGIN_MS = 3000
IN_PROGRESS_POLL_SECONDS = 0.5


def _waiting_in_progress(run: Callable[[], Any], context: Any) -> Any:
    """Run; while the key is INPROGRESS elsewhere and time is left, wait and run again."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    while True:
        try:
            return run()
        except IdempotencyAlreadyInProgressError:
            if context is None or context.get_remaining_time_in_millis() < IN_PROGRESS_MARGIN_MS:
                raise  # the record fails and is delivered again later
            time.sleep(IN_PROGRESS_POLL_SECONDS)
