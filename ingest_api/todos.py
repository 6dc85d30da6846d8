"""To-dos of the signed-in user: `POST`/`GET /v1/todos`, `GET`/`PATCH`/`DELETE /v1/todos/{id}`.

Writes are queued for `workers.todos` (202). Every read and every change is keyed by the
caller's token subject: another user's to-do is a 404, exactly as one that does not exist.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, g

from events.messages.todos import CreateTodo, DeleteTodo, UpdateTodo
from events.schemas import shared
from events.todos import MAX_TODOS, TODO_ID, TodoPatchSchema, TodoRequestSchema
from ingest_api.auth import user
from ingest_api.bodies import idempotency_key, json_body
from ingest_api.cache import cacheable
from ingest_api.errors import ApiError
from ingest_api.idempotency import queue_once
from ingest_api.queued import queued
from ingest_api.services import services
from ingest_api.spec import documented

bp = Blueprint("todos", __name__)

_SHOWN = ("todo_id", "title", "notes", "done", "created_at", "updated_at")


def _now() -> str:
    return datetime.now(UTC).isoformat()


def own_todo(todo_id: str) -> dict[str, Any]:
    """The caller's stored to-do; 404 for one that is not stored or not theirs."""
    todo = services().todos.get(g.user_sub, todo_id) if TODO_ID.match(todo_id) else None
    if todo is None:
        raise ApiError(404, "todo_not_found", "No to-do of yours with this id (yet).")
    return todo


def _shown(todo: dict[str, Any]) -> dict[str, Any]:
    return {k: todo[k] for k in _SHOWN if k in todo}


@bp.post("/v1/todos")
@user
@documented(body=TodoRequestSchema, status=202)
def create_todo():
    """Queue a new to-do of the caller; 202 with its id."""
    document = json_body()
    key = idempotency_key()
    fields = shared(TodoRequestSchema).load(document)

    def send(todo_id: str, received_at: str) -> None:
        services().todos_queue.send(CreateTodo(todo_id=todo_id, owner=g.user_sub, received_at=received_at, **fields))

    # queue_once scopes the key to the caller (the user's sub).
    todo_id = queue_once("todos", key, document, send)
    return queued(todo_id=todo_id, status_url=f"/v1/todos/{todo_id}")


@bp.get("/v1/todos")
@user
def list_todos():
    """The caller's to-dos (one Query by owner), with an ETag: a matching If-None-Match is a 304."""
    todos = sorted(services().todos.list(g.user_sub, MAX_TODOS), key=lambda t: t.get("created_at", ""), reverse=True)
    return cacheable({"todos": [_shown(t) for t in todos]}, 0, private=True)


@bp.get("/v1/todos/<todo_id>")
@user
def get_todo(todo_id: str):
    """One of the caller's to-dos."""
    return cacheable(_shown(own_todo(todo_id)), 0, private=True)


@bp.patch("/v1/todos/<todo_id>")
@user
@documented(body=TodoPatchSchema, status=202)
def update_todo(todo_id: str):
    """Queue a change of one of the caller's to-dos; 202."""
    document = json_body()
    todo = own_todo(todo_id)
    changes = shared(TodoPatchSchema).load(document)
    change_id = uuid.uuid4().hex
    services().todos_queue.send(
        UpdateTodo(change_id=change_id, todo_id=todo["todo_id"], owner=g.user_sub, changes=changes, received_at=_now())
    )
    return queued(todo_id=todo["todo_id"])


@bp.delete("/v1/todos/<todo_id>")
@user
@documented(status=202)
def delete_todo(todo_id: str):
    """Queue the deletion of one of the caller's to-dos; 202."""
    todo = own_todo(todo_id)
    services().todos_queue.send(
        DeleteTodo(change_id=uuid.uuid4().hex, todo_id=todo["todo_id"], owner=g.user_sub, received_at=_now())
    )
    return queued(todo_id=todo["todo_id"])
