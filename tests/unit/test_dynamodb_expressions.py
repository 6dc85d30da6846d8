"""The embedded DynamoDB parses each update expression once; answers and errors stay moto's."""

from __future__ import annotations

import pytest
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.parsing.expressions import UpdateExpressionParser

from fleet.runtime import dynamodb_expressions

ACCOUNT = "000000000047"
REGION = "us-east-1"


@pytest.fixture
def backend(monkeypatch):
    """moto's DynamoDB with the cache installed and a counters table; moto as it was, afterwards."""
    monkeypatch.setattr(UpdateExpressionParser, "make", UpdateExpressionParser.__dict__["make"])
    dynamodb_expressions.install()
    made = dynamodb_models.dynamodb_backends[ACCOUNT][REGION]
    made.create_table(
        "counters",
        schema=[{"AttributeName": "c", "KeyType": "HASH"}],
        attr=[{"AttributeName": "c", "AttributeType": "S"}],
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
    made.delete_table("counters")


def add(backend, key: str, by: int) -> int:
    item = backend.update_item("counters", {"c": {"S": key}}, "ADD hits :n SET seen = :n", {}, {":n": {"N": str(by)}})
    return int(item.attrs["hits"].value)


def test_the_same_expression_with_other_values_and_items_updates_each_as_asked(backend):
    assert UpdateExpressionParser.make("ADD hits :n") is UpdateExpressionParser.make("ADD hits :n")
    assert [add(backend, "a", 1), add(backend, "a", 2), add(backend, "b", 5), add(backend, "a", 3)] == [1, 3, 5, 6]


def test_a_bad_expression_is_refused_every_time(backend):
    for _ in range(2):
        with pytest.raises(Exception, match="Invalid UpdateExpression"):
            UpdateExpressionParser.make("ADD ADD")
