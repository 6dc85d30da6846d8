"""workers.todos: apply the to-do writes queued by the API, each to its owner's item only.

Every write is keyed by (owner, todo_id), so a message can only ever touch its owner's
to-do. A create is a conditional put (a redelivery writes nothing); an update applies only
to a to-do that is there and was not changed by a later request (`updated_at` is the time
the API received the change, so a late redelivery never undoes a newer change); a delete
of a gone to-do does nothing. None of those outcomes is a failure.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from events.messages.envelope import load_message
from events.messages.todos import CreateTodo, DeleteTodo, UpdateTodo
from lambda_platform.batch import process_sqs
from lambda_platform.ports import TodoStore
from lambda_platform.telemetry import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def apply(message: Any, store: TodoStore) -> str:
    """Apply one to-do write; return what happened (`created`, `known`, `updated`, `skipped`, `deleted`)."""
    if isinstance(message, CreateTodo):
        created = store.create(
            {
                "owner": message.owner,
                "todo_id": message.todo_id,
                "title": message.title,
                "notes": message.notes,
                "done": message.done,
                "created_at": message.received_at,
                "updated_at": message.received_at,
                "stored_at": datetime.now(UTC).isoformat(),
            }
        )
        return "created" if created else "known"
    if isinstance(message, UpdateTodo):
        applied = store.update(message.owner, message.todo_id, message.changes, message.received_at)
        return "updated" if applied else "skipped"
    if isinstance(message, DeleteTodo):
        store.delete(message.owner, message.todo_id)
        return "deleted"
    raise TypeError(f"not a to-do message: {type(message).__name__}")


def _store() -> TodoStore:
    from lambda_platform.composition import ports

    return ports().todos


def _write(record: SQSRecord, store: TodoStore) -> None:
    message = load_message(record.body)
    outcome = apply(message, store)
    logger.info("todo write", extra={"todo_id": message.todo_id, "outcome": outcome})


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Apply a batch of to-do writes; report the failed records by messageId."""
    return process_sqs(event, _write, _store, context)
