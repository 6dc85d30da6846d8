"""The embedded DynamoDB's item calls read and written as JSON answer what moto's own parser and serializer answer."""

from __future__ import annotations

import json

import pytest
from moto import mock_aws
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.test import Client

from fleet.runtime import dynamodb_json

TABLE = {
    "TableName": "t",
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t} for a, t in (("pk", "S"), ("sk", "N"), ("g", "S"))],
    "GlobalSecondaryIndexes": [
        {"IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


def item(pk: str, sk: int, **more: dict) -> dict:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}, **more}


#: Item calls of every kind, answers with Nones, lists, maps, numbers and binaries, and refusals.
CALLS = [
    ("PutItem", {"TableName": "t", "Item": item("a", 1, g={"S": "x"}, l={"L": [{"NULL": True}, {"BOOL": False}]})}),
    (
        "PutItem",
        {"TableName": "t", "Item": item("a", 2, g={"S": "x"}, m={"M": {"k": {"SS": ["p", "q"]}}}), "ReturnValues": "ALL_OLD"},
    ),
    (
        "PutItem",
        {"TableName": "t", "Item": item("a", 2, n={"N": "1.50"}), "ReturnValues": "ALL_OLD", "ReturnConsumedCapacity": "TOTAL"},
    ),
    ("PutItem", {"TableName": "t", "Item": item("b", 1, blob={"B": "aGVsbG8="}, bs={"BS": ["aGk="]})}),
    ("PutItem", {"TableName": "t", "Item": item("a", 1), "ConditionExpression": "attribute_not_exists(pk)"}),
    (
        "PutItem",
        {
            "TableName": "t",
            "Item": item("a", 1),
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        },
    ),
    ("GetItem", {"TableName": "t", "Key": item("a", 1)}),
    ("GetItem", {"TableName": "t", "Key": item("zz", 9)}),
    ("GetItem", {"TableName": "t", "Key": item("b", 1), "ReturnConsumedCapacity": "INDEXES"}),
    (
        "GetItem",
        {"TableName": "t", "Key": item("a", 1), "ProjectionExpression": "l[1], #g", "ExpressionAttributeNames": {"#g": "g"}},
    ),
    ("GetItem", {"TableName": "nope", "Key": item("a", 1)}),
    (
        "UpdateItem",
        {
            "TableName": "t",
            "Key": item("a", 1),
            "UpdateExpression": "ADD hits :one SET seen = if_not_exists(seen, :now)",
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":now": {"S": "2026-12-08"}},
            "ReturnValues": "UPDATED_NEW",
        },
    ),
    (
        "UpdateItem",
        {
            "TableName": "t",
            "Key": item("a", 3),
            "UpdateExpression": "SET v = :v",
            "ExpressionAttributeValues": {":v": {"S": "new"}},
            "ReturnValues": "ALL_NEW",
            "ReturnConsumedCapacity": "TOTAL",
        },
    ),
    (
        "UpdateItem",
        {
            "TableName": "t",
            "Key": item("a", 1),
            "UpdateExpression": "SET hits = hits + :s",
            "ExpressionAttributeValues": {":s": {"S": "x"}},
        },
    ),
    ("UpdateItem", {"TableName": "t", "Key": item("a", 1), "UpdateExpression": "SET", "ExpressionAttributeValues": {}}),
    ("Query", {"TableName": "t", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}}),
    (
        "Query",
        {"TableName": "t", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}, "Limit": 1},
    ),
    (
        "Query",
        {
            "TableName": "t",
            "IndexName": "by_g",
            "KeyConditionExpression": "g = :g",
            "ExpressionAttributeValues": {":g": {"S": "x"}},
            "Select": "COUNT",
            "ReturnConsumedCapacity": "INDEXES",
        },
    ),
    ("Query", {"TableName": "t", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "b"}}}),
    ("Scan", {"TableName": "t", "Limit": 2}),
    ("Scan", {"TableName": "t", "FilterExpression": "attribute_exists(hits)"}),
    ("BatchGetItem", {"RequestItems": {"t": {"Keys": [item("a", 1), item("a", 2), item("q", 1)]}}}),
    ("BatchGetItem", {"RequestItems": {"t": {"Keys": [item("b", 1)], "ProjectionExpression": "blob"}}}),
    (
        "BatchWriteItem",
        {
            "RequestItems": {
                "t": [{"PutRequest": {"Item": item("c", i)}} for i in range(3)] + [{"DeleteRequest": {"Key": item("a", 3)}}]
            },
            "ReturnConsumedCapacity": "TOTAL",
        },
    ),
    (
        "TransactGetItems",
        {"TransactItems": [{"Get": {"TableName": "t", "Key": item("a", 1)}}, {"Get": {"TableName": "t", "Key": item("no", 1)}}]},
    ),
    (
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "t", "Item": item("d", 1), "ConditionExpression": "attribute_not_exists(pk)"}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": item("a", 1),
                        "UpdateExpression": "ADD hits :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        },
    ),
    (
        "TransactWriteItems",
        {
            "TransactItems": [
                {
                    "Put": {
                        "TableName": "t",
                        "Item": item("d", 1),
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            ]
        },
    ),
    ("DeleteItem", {"TableName": "t", "Key": item("c", 0), "ReturnValues": "ALL_OLD"}),
    ("DeleteItem", {"TableName": "t", "Key": item("c", 99), "ReturnValues": "ALL_OLD", "ReturnConsumedCapacity": "TOTAL"}),
    ("DeleteItem", {"TableName": "t", "Key": item("b", 1), "ReturnValues": "ALL_OLD"}),
]


def answers(monkeypatch, fast: bool) -> list:
    """Every call of CALLS on a fresh moto, through its WSGI app: (status, the answer's JSON)."""
    dynamodb_json.uninstall()
    if fast:
        dynamodb_json.install()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    seen = []
    with mock_aws():
        client = Client(DomainDispatcherApplication(create_backend_app))
        for action, body in [("CreateTable", TABLE), *CALLS]:
            response = client.post(
                "/",
                data=json.dumps(body),
                headers={
                    "X-Amz-Target": f"DynamoDB_20120810.{action}",
                    "Content-Type": "application/x-amz-json-1.0",
                    "Host": "dynamodb.us-east-1.amazonaws.com",
                    "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261208/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x",
                },
            )
            answer = json.loads(response.get_data(as_text=True) or "{}")
            if action == "CreateTable":
                continue
            seen.append((action, response.status_code, response.headers.get("Content-Type"), answer))
    return seen


@pytest.fixture(autouse=True)
def moto_as_it_was():
    yield
    dynamodb_json.uninstall()


def test_every_item_call_answers_as_moto_does(monkeypatch):
    theirs = answers(monkeypatch, fast=False)
    ours = answers(monkeypatch, fast=True)
    for mine, moto in zip(ours, theirs, strict=True):
        assert mine == moto
    statuses = [status for _, status, _, _ in ours]
    assert statuses.count(400) >= 5 and statuses.count(200) >= 20  # refusals and answers both compared
    assert any("blob" in json.dumps(answer) for *_, answer in ours)  # a binary answer went through moto's own


def test_a_plain_request_is_read_as_json_and_anything_else_by_moto():
    assert dynamodb_json.plain_request(b'{"TableName": "t"}') == {"TableName": "t"}
    assert dynamodb_json.plain_request(b'{"Item": {"b": {"B": "aGk="}}}') is None  # bytes, in moto's parser
    assert dynamodb_json.plain_request(b"[1]") is None
    assert dynamodb_json.plain_request(b"{not json") is None
    assert dynamodb_json.plain_request(b"") is None


def test_an_answer_of_json_types_is_written_as_json_without_its_nones_and_anything_else_by_moto():
    from datetime import UTC, datetime
    from decimal import Decimal

    assert json.loads(
        dynamodb_json.plain_answer({"Items": [{"a": {"S": "x"}}], "Count": 1, "LastEvaluatedKey": None, "Extra": 1}, "Query")
    ) == {
        "Items": [{"a": {"S": "x"}}],
        "Count": 1,
    }
    assert dynamodb_json.plain_answer(None) == "{}"
    for odd in (b"x", datetime.now(UTC), Decimal("1"), float("nan"), [None], {1: "a"}):
        assert dynamodb_json.plain_answer({"v": odd}) is None
    assert DynamoHandler.__dict__.get("serialized") is None  # nothing installed outside a test that asks
