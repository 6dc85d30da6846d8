"""The embedded DynamoDB's Query reads one partition, or the unsorted items: the same answers as moto's own, pages included."""

from __future__ import annotations

import random

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID as ACCOUNT
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table

from fleet.runtime import dynamodb_queries

REGION = "us-east-1"


@pytest.fixture
def dynamodb(monkeypatch):
    """A client of moto's in-process DynamoDB with two tables, each with an index, filled at random; moto as it was, after."""
    monkeypatch.setattr(Table, "query", Table.__dict__["query"])
    monkeypatch.setattr(Table, "all_items", Table.__dict__["all_items"])
    dynamodb_queries.uninstall()  # moto's own to begin with, whatever this process installed before
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName="entries",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("id", "email", "at")],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by_email",
                    "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "ALL"},
                },
                {
                    "IndexName": "by_email_only",
                    "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                },
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.create_table(
            TableName="bands",
            KeySchema=[{"AttributeName": "band", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in (("band", "S"), ("n", "N"), ("tag", "S"))],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by_tag",
                    "KeySchema": [{"AttributeName": "tag", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        backend = dynamodb_backends[ACCOUNT][REGION]  # filled directly: 700 puts through HTTP cost seconds
        rng = random.Random(47)
        for i in range(300):
            item = {"id": {"S": f"e{rng.randrange(10**6):06d}"}, "email": {"S": f"a{rng.randrange(12)}@example.com"}}
            if rng.random() < 0.8:  # an item without the index's range key is not in by_email
                item["at"] = {"S": f"2026-12-0{rng.randrange(1, 8)}T{i:05d}"}
            backend.put_item("entries", item)
        for _ in range(400):
            item = {"band": {"S": f"b{rng.randrange(8)}"}, "n": {"N": str(rng.randrange(-50, 5000) / 4)}}
            if rng.random() < 0.7:
                item["tag"] = {"S": rng.choice("xyz")}
            backend.put_item("bands", item)
        yield client


QUERIES = [
    {"TableName": "bands", "KeyConditionExpression": "band = :b", "ExpressionAttributeValues": {":b": {"S": "b3"}}},
    {"TableName": "bands", "KeyConditionExpression": "band = :b", "ExpressionAttributeValues": {":b": {"S": "b99"}}},
    {
        "TableName": "bands",
        "KeyConditionExpression": "band = :b AND n BETWEEN :lo AND :hi",
        "ExpressionAttributeValues": {":b": {"S": "b1"}, ":lo": {"N": "10"}, ":hi": {"N": "900.5"}},
        "ScanIndexForward": False,
    },
    {
        "TableName": "bands",
        "IndexName": "by_tag",
        "KeyConditionExpression": "tag = :t AND n > :n",
        "ExpressionAttributeValues": {":t": {"S": "y"}, ":n": {"N": "100"}},
        "FilterExpression": "band <> :b",
        "ExpressionAttributeValues_extra": {":b": {"S": "b2"}},
    },
    {"TableName": "entries", "KeyConditionExpression": "id = :i", "ExpressionAttributeValues": {":i": {"S": "nobody"}}},
    {
        "TableName": "entries",
        "IndexName": "by_email",
        "KeyConditionExpression": "email = :e",
        "ExpressionAttributeValues": {":e": {"S": "a3@example.com"}},
    },
    {
        "TableName": "entries",
        "IndexName": "by_email",
        "KeyConditionExpression": "email = :e AND begins_with(#at, :d)",
        "ExpressionAttributeNames": {"#at": "at"},
        "ExpressionAttributeValues": {":e": {"S": "a5@example.com"}, ":d": {"S": "2026-12-03"}},
        "ScanIndexForward": False,
    },
    {
        "TableName": "entries",
        "IndexName": "by_email_only",
        "KeyConditionExpression": "email = :e",
        "ExpressionAttributeValues": {":e": {"S": "a7@example.com"}},
    },
]


def pages(client, query: dict, limit: int | None) -> list[dict]:
    """Every page of a Query, `limit` items at a time, as the client saw them."""
    request = {k: v for k, v in query.items() if not k.endswith("_extra")}
    request["ExpressionAttributeValues"] = {
        **query["ExpressionAttributeValues"],
        **query.get("ExpressionAttributeValues_extra", {}),
    }
    if limit:
        request["Limit"] = limit
    seen = []
    while True:
        page = client.query(**request)
        seen.append({k: page.get(k) for k in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")})
        if "LastEvaluatedKey" not in page:
            return seen
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.mark.parametrize("limit", [None, 3, 7])
def test_every_query_answers_as_moto_does_page_by_page(dynamodb, limit):
    before = [pages(dynamodb, query, limit) for query in QUERIES]
    assert any(sum(page["Count"] for page in answer) > 3 for answer in before)  # the queries find things
    dynamodb_queries.install()
    after = [pages(dynamodb, query, limit) for query in QUERIES]
    assert after == before


def test_a_scan_still_sees_every_item_in_moto_order_and_a_bad_query_is_refused_as_before(dynamodb):
    dynamodb_queries.install()
    scanned = dynamodb.scan(TableName="bands", Limit=50)["Items"]
    dynamodb_queries.uninstall()
    assert dynamodb.scan(TableName="bands", Limit=50)["Items"] == scanned
    dynamodb_queries.install()
    with pytest.raises(dynamodb.exceptions.ClientError, match="Invalid index"):
        dynamodb.query(
            TableName="entries",
            IndexName="nope",
            KeyConditionExpression="email = :e",
            ExpressionAttributeValues={":e": {"S": "a1@example.com"}},
        )


def test_a_query_does_not_sort_the_table():
    """What the correction hands a Query: one partition, or everything unsorted."""
    table = Table.__new__(Table)
    table.range_key_attr = "n"
    table.items = {"p": {1: "a", 2: "b"}, "q": {3: "c"}}
    assert sorted(dynamodb_queries.unsorted_items(table)) == ["a", "b", "c"]
    assert dynamodb_queries.partition_items(table, "q") == ["c"]
    assert dynamodb_queries.partition_items(table, "r") == []
    table.range_key_attr = None
    table.items = {"p": "a", "q": "b"}
    assert dynamodb_queries.partition_items(table, "q") == ["b"]
