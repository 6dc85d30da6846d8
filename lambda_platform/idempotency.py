"""Do something at most once per key: Powertools' idempotency utility on our DynamoDB table.

The persistence layer is built on first use from `lambda_platform.aws`'s cached client, so it
honours `AWS_ENDPOINT_URL`; only a worker that sends something imports this module (the
composition root's `once` and `batch_once`), so the others never import Powertools' utility. Powertools writes an INPROGRESS
record before the action, marks it COMPLETED after, and deletes it when the action
raises: a failed (say, throttled) send leaves nothing behind and is retried later.

Two windows are closed here. A throttled write of the record itself is retried a few
times (`lambda_platform.retry`): an INPROGRESS record that cannot be marked COMPLETED would, after
its expiry, let the email go out again. And a key found INPROGRESS (another invocation
holds it, or a process died holding it) is waited on while the invocation has time left,
so a crash's leftover record delays the email rather than parking it on the on-failure
queue. One window stays open, as on AWS: SES accepts the email and the process dies
before the record says COMPLETED; the retry sends again.

A stream batch (`batch_once`) spares the INPROGRESS write: what its keys hold is read in
one BatchGetItem, and a key that holds nothing is written once, COMPLETED, right after
its action. The INPROGRESS record only keeps a second invocation from running the same
key at the same time, and a stream never does: it hands a key's records to one
invocation at a time, in order (one per shard; a key stays in its shard), and its retries
and replays come after. So a batch's email costs its send and one write; a key found
INPROGRESS or expired goes through Powertools' own conditional put, as above.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyItemAlreadyExistsError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from events.topology import TOPOLOGY
from lambda_platform.errors import RetryLater, translate
from lambda_platform.ports import Once
from lambda_platform.retry import retrying
from lambda_platform.telemetry import logger

#: Where Powertools keeps its records, one per action done.
IDEMPOTENCY = TOPOLOGY.table("idempotency")

#: How long a key is remembered. Stream records live 24 h, but a failure parked in an
#: on-failure queue may be replayed up to its 14-day retention: remember longer than that.
REMEMBER_SECONDS = 15 * 24 * 3600


class RetryingPersistenceLayer(DynamoDBPersistenceLayer):
    """Powertools' DynamoDB layer whose calls ride out a burst of throttling.

    `_get_record`, `_put_record`, `_update_record` and `_delete_record` are the methods a
    persistence layer implements (Powertools' "bring your own persistent store"): each is
    the parent's, retried.
    """

    def _get_record(self, idempotency_key: str) -> DataRecord:
        return retrying(lambda: DynamoDBPersistenceLayer._get_record(self, idempotency_key))

    def _put_record(self, data_record: DataRecord) -> None:
        retrying(lambda: DynamoDBPersistenceLayer._put_record(self, data_record))

    def _update_record(self, data_record: DataRecord) -> None:
        # The email is out: failing to say so would let it go out again. Try hard.
        retrying(lambda: DynamoDBPersistenceLayer._update_record(self, data_record), attempts=8)

    def _delete_record(self, data_record: DataRecord) -> None:
        # A record left INPROGRESS blocks every retry until its expiry.
        retrying(lambda: DynamoDBPersistenceLayer._delete_record(self, data_record), attempts=8)


class BatchPersistenceLayer(RetryingPersistenceLayer):
    """One stream batch's layer: its keys read at once, a key found empty written once, after its action."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: Hashed key -> its record as read, or None when nothing was there.
        self.known: dict[str, DataRecord | None] = {}
        self.unwritten: set[str] = set()

    def read(self, scope: str, keys: Iterable[str]) -> None:
        """Read what `keys` hold in `scope`, 100 to a BatchGetItem; a key left unread takes the usual path."""
        self.configure(_config(), key_prefix=scope)
        # Powertools hashes to None only for a missing key: such a key is left to the usual path.
        every = (self._get_hashed_idempotency_key({"key": k}) for k in keys)
        hashed = list(dict.fromkeys(h for h in every if h is not None))
        for start in range(0, len(hashed), 100):
            chunk = hashed[start : start + 100]
            request = {self.table_name: {"Keys": [self._get_key(k) for k in chunk], "ConsistentRead": True}}
            try:
                answer = retrying(functools.partial(self.client.batch_get_item, RequestItems=request))
            except Exception as exc:
                if not isinstance(translate(exc), RetryLater):
                    raise
                # Throttled: these keys take the usual path, each with its own conditional put.
                logger.warning("idempotency records not read for the batch", extra={"error": repr(exc)})
                continue
            unread = {
                k[self.key_attr]["S"] for k in (answer.get("UnprocessedKeys") or {}).get(self.table_name, {}).get("Keys", [])
            }
            self.known.update((k, None) for k in chunk if k not in unread)
            for item in answer.get("Responses", {}).get(self.table_name, []):
                record = self._item_to_data_record(item)
                self.known[record.idempotency_key] = record

    def _put_record(self, data_record: DataRecord) -> None:
        key = data_record.idempotency_key
        if key in self.known:
            found = self.known.pop(key)
            if found is None:
                self.unwritten.add(key)  # written once its action is done
                return None
            if found.status == "COMPLETED":
                self.known[key] = found
                raise IdempotencyItemAlreadyExistsError(old_data_record=found)
        # INPROGRESS or expired: Powertools' conditional put decides, as for any key.
        return super()._put_record(data_record)

    def _update_record(self, data_record: DataRecord) -> None:
        super()._update_record(data_record)  # creates the record of a key found empty
        self.unwritten.discard(data_record.idempotency_key)
        self.known[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        key = data_record.idempotency_key
        if key in self.unwritten:  # nothing was written for it
            self.unwritten.discard(key)
            self.known[key] = None
            return None
        return super()._delete_record(data_record)

    def _get_record(self, idempotency_key: str) -> DataRecord:
        found = self.known.get(idempotency_key)
        return found if found is not None else super()._get_record(idempotency_key)


@functools.lru_cache(maxsize=8)
def _persistence(table: str, region: str, endpoint_url: str | None) -> Any:
    from lambda_platform import aws

    return RetryingPersistenceLayer(table_name=table, key_attr=IDEMPOTENCY.partition_key, boto3_client=aws.client("dynamodb"))


def _config() -> Any:
    """How our keys are remembered: the `key` of the data, for `REMEMBER_SECONDS`."""
    return IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=REMEMBER_SECONDS, raise_on_no_idempotency_key=True)


def persistence_layer() -> Any:
    """The Powertools persistence layer on the topology's `idempotency` table."""
    from lambda_platform import resources, settings

    current = settings.current()
    return _persistence(resources.table_name(IDEMPOTENCY), current.region, current.endpoint_url)


def reset() -> None:
    """Forget the cached persistence layer (tests point Fleet at a new endpoint)."""
    _persistence.cache_clear()


def batch_once(scope: str, keys: Iterable[str], context: Any = None) -> Once:
    """`once` for one stream batch whose records carry `keys` in `scope`: what they hold is
    read now, in one BatchGetItem, and each action done costs one write after it."""
    from lambda_platform import aws, resources

    layer = BatchPersistenceLayer(
        table_name=resources.table_name(IDEMPOTENCY), key_attr=IDEMPOTENCY.partition_key, boto3_client=aws.client("dynamodb")
    )
    layer.read(scope, keys)
    return functools.partial(once, context=context, persistence=layer)


def once(scope: str, key: str, action: Callable[[], Any], context: Any = None, persistence: Any = None) -> Any:
    """Run `action` unless it already completed for (scope, key); return its (stored) result.

    Raises Powertools' IdempotencyAlreadyInProgressError while another invocation holds
    the key: the caller fails the record and it is retried later. `context` (a Lambda
    context) bounds how long a crashed invocation's INPROGRESS record blocks retries.
    """
    config = _config()
    if context is not None:
        config.register_lambda_context(context)

    def run(data: dict[str, str]) -> Any:
        return action()

    # Powertools' decorator applied by a call, as its `@` form does: it is typed to return Any.
    guarded: Callable[..., Any] = idempotent_function(
        run,
        data_keyword_argument="data",
        persistence_store=persistence if persistence is not None else persistence_layer(),
        config=config,
        key_prefix=scope,
    )
    return _waiting_in_progress(lambda: guarded(data={"key": key}), context)


#: Margin kept out of the invocation's remaining time when waiting on an INPROGRESS key.
IN_PROGRESS_MARGIN_MS = 3000
IN_PROGRESS_POLL_SECONDS = 0.5


def _waiting_in_progress(run: Callable[[], Any], context: Any) -> Any:
    """Run; while the key is INPROGRESS elsewhere and time is left, wait and run again."""
    while True:
        try:
            return run()
        except IdempotencyAlreadyInProgressError:
            if context is None or context.get_remaining_time_in_millis() < IN_PROGRESS_MARGIN_MS:
                raise  # the record fails and is delivered again later
            time.sleep(IN_PROGRESS_POLL_SECONDS)
