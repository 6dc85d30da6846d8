"""The embedded DynamoDB's transactions cost their items: moto's models in this process, no server."""

from __future__ import annotations

import copy

import pytest
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.exceptions import MockValidationException, TransactionCanceledException

from fleet.runtime import dynamodb_transactions

#: An account of its own, so that nothing here meets what a moto server of this process holds.
ACCOUNT = "000000000043"
REGION = "us-east-1"


@pytest.fixture
def backend(monkeypatch):
    """moto's DynamoDB with the transactions installed, two tables; moto as it was, afterwards."""
    backend_class = dynamodb_models.DynamoDBBackend
    monkeypatch.setattr(backend_class, "transact_write_items", backend_class.__dict__["transact_write_items"])
    dynamodb_transactions.install()
    made = dynamodb_models.dynamodb_backends[ACCOUNT][REGION]
    for name, key in (("keys", "k"), ("counters", "c")):
        made.create_table(
            name,
            schema=[{"AttributeName": key, "KeyType": "HASH"}],
            attr=[{"AttributeName": key, "AttributeType": "S"}],
            throughput=None,
            billing_mode="PAY_PER_REQUEST",
            indexes=None,
            global_indexes=None,
            streams=None,
            sse_specification=None,
            tags=None,
            deletion_protection_enabled=False,
            warm_throughput=None,
        )
    yield made
    for name in ("keys", "counters"):
        made.delete_table(name)


def count_and_claim(key: str, limit: int = 2) -> list[dict]:
    """A counter's conditional ADD and a key's conditional put, as the API's first keyed POST sends them."""
    return [
        {
            "Update": {
                "TableName": "counters",
                "Key": {"c": {"S": "client"}},
                "UpdateExpression": "ADD hits :one",
                "ConditionExpression": "attribute_not_exists(hits) OR hits < :limit",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":limit": {"N": str(limit)}},
            }
        },
        {
            "Put": {
                "TableName": "keys",
                "Item": {"k": {"S": key}, "id": {"S": f"id-{key}"}},
                "ConditionExpression": "attribute_not_exists(k)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    ]


def hits(backend) -> int:
    item = backend.get_item("counters", {"c": {"S": "client"}})
    return int(item.attrs["hits"].value) if item else 0


def test_a_transaction_copies_no_table(backend, monkeypatch):
    real = copy.deepcopy

    def refuse_tables(value, *args):
        assert not isinstance(value, dynamodb_models.Table), "a whole table was copied"
        return real(value, *args)

    monkeypatch.setattr(dynamodb_models.copy, "deepcopy", refuse_tables)
    monkeypatch.setattr(dynamodb_transactions.copy, "deepcopy", refuse_tables)
    backend.transact_write_items(count_and_claim("a"))
    assert hits(backend) == 1 and backend.get_item("keys", {"k": {"S": "a"}}) is not None


def test_a_failed_condition_writes_nothing_and_the_reasons_say_which_with_the_old_item(backend):
    backend.transact_write_items(count_and_claim("a"))

    with pytest.raises(TransactionCanceledException) as known:
        backend.transact_write_items(count_and_claim("a"))
    reasons = known.value.description
    assert '"Code": "None"' in reasons and '"Code": "ConditionalCheckFailed"' in reasons
    assert '"id": {"S": "id-a"}' in reasons, "the known key's item comes back"
    assert hits(backend) == 1, "the counter's ADD was not made"

    backend.transact_write_items(count_and_claim("b"))
    with pytest.raises(TransactionCanceledException):
        backend.transact_write_items(count_and_claim("c"))
    assert hits(backend) == 2 and backend.get_item("keys", {"k": {"S": "c"}}) is None


def test_a_write_moto_refuses_puts_back_the_writes_before_it(backend):
    items = count_and_claim("a")
    items.append({"Update": {"TableName": "keys", "Key": {"k": {"S": "z"}}, "UpdateExpression": "SET = nonsense"}})
    with pytest.raises(MockValidationException):  # moto's ValidationException for the malformed update
        backend.transact_write_items(items)
    assert hits(backend) == 0 and backend.get_item("keys", {"k": {"S": "a"}}) is None
