"""Signups over fakes: the API, the users service and handler."""

from __future__ import annotations

import json

import pytest

from events.messages.envelope import dump_message
from events.messages.users import RegisterUser
from events.models import user_id_for
from ingest_api import create_app
from tests.fakes.mail import FakeUsers
from tests.fakes.tables import FakeQueue
from workers import users as users_worker


@pytest.fixture
def users_queue() -> FakeQueue:
    return FakeQueue()


@pytest.fixture
def users_client(services, users_queue):
    services.users_queue = users_queue
    return create_app({"TESTING": True, "SERVICES": services}).test_client()


def signup(email="ada@example.com", **extra):
    body = {"email": email, "first_name": "Ada", "last_name": "Lovelace"}
    body.update(extra)
    return body


def test_a_signup_is_queued_with_the_user_id_of_its_address(users_client, users_queue):
    response = users_client.post("/v1/users", json=signup("Ada@Example.com", locale="pt-BR"))
    assert response.status_code == 202
    assert response.json["status"] == "queued"
    assert response.json["user_id"] == user_id_for("ada@example.com")
    (command,) = users_queue.sent
    assert isinstance(command, RegisterUser)
    assert command.email == "Ada@Example.com" and command.locale == "pt-BR"
    assert command.signup_id == response.json["signup_id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (signup("not-an-email"), "email"),
        (signup(first_name=""), "first_name"),
        (signup(locale="english"), "locale"),
        (signup(admin=True), "admin"),
        ({"email": "a@example.com"}, "first_name"),
    ],
)
def test_invalid_signups_are_422_and_queue_nothing(users_client, users_queue, body, field):
    response = users_client.post("/v1/users", json=body)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert users_queue.sent == []


def test_an_idempotency_key_answers_the_same_and_stores_one_user(users_client, users_queue):
    headers = {"Idempotency-Key": "signup-1"}
    first = users_client.post("/v1/users", json=signup(), headers=headers)
    second = users_client.post("/v1/users", json=signup(), headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json == second.json
    # The retry is sent again under the first signup id; the worker stores one user.
    assert [m.signup_id for m in users_queue.sent] == [first.json["signup_id"]] * 2
    store = FakeUsers()
    assert [users_worker.register_user(m, store) for m in users_queue.sent] == [True, False]
    assert len(store.items) == 1
    other = users_client.post("/v1/users", json=signup("bob@example.com"), headers=headers)
    assert other.status_code == 422
    assert other.json["error"]["code"] == "idempotency_key_reused"


def test_user_keys_do_not_collide_with_submission_keys(users_client, request_keys):
    users_client.post("/v1/users", json=signup(), headers={"Idempotency-Key": "k"})
    assert list(request_keys.records) == ["users:k"]


def command(email="ada@example.com", signup_id="s-1") -> RegisterUser:
    return RegisterUser(
        signup_id=signup_id,
        user_id=user_id_for(email),
        email=email,
        first_name="Ada",
        last_name="Lovelace",
        received_at="2026-01-01T00:00:00+00:00",
    )


def test_one_user_per_address_whatever_the_case():
    store = FakeUsers()
    assert users_worker.register_user(command("ada@example.com", "s-1"), store) is True
    assert users_worker.register_user(command("ADA@example.COM", "s-2"), store) is False
    assert users_worker.register_user(command("ada@example.com", "s-1"), store) is False  # redelivery
    (user,) = store.items.values()
    assert user["email_lower"] == "ada@example.com" and user["signup_id"] == "s-1"


def test_a_user_id_that_does_not_match_its_address_is_refused():
    forged = RegisterUser("s", user_id_for("eve@example.com"), "ada@example.com", "A", "L", "2026-01-01")
    with pytest.raises(ValueError, match="does not belong to its email address"):
        users_worker.register_user(forged, FakeUsers())


def test_the_handler_stores_users_and_reports_only_bad_records(monkeypatch, lambda_context):
    from events.sample_payloads import load_sample

    store = FakeUsers()
    monkeypatch.setattr(users_worker, "_adapters", lambda: store)
    event = load_sample("sqs_batch")
    template = event["Records"][0]
    records = []
    for n, body in enumerate(
        [dump_message(command("a@example.com", "s-1")), "not json", dump_message(command("A@EXAMPLE.com", "s-2"))]
    ):
        records.append({**template, "messageId": f"m-{n}", "body": body})
    response = users_worker.handler({"Records": records}, lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert len(store.items) == 1
    assert json.loads(records[0]["body"])["type"] == "RegisterUser"
