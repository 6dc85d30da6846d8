"""CPU per DynamoDB call inside moto's server, with and without our corrections.

    .venv/bin/python -m bench.dynamodb_calls [--calls 2000] [--bare] [--profile]

Drives moto's WSGI application in this process (no sockets, no client: only the server's
side of a call) with the fleet's hottest DynamoDB calls: the keyed POST's
TransactWriteItems (a Put under `attribute_not_exists` and an Update of a counter under a
condition) and an UpdateItem with a condition, each with fresh values. Prints the CPU
milliseconds per call (`time.process_time`); `--bare` leaves moto as shipped, `--profile`
prints cProfile's top functions. Asserts nothing and exits 0.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import time
from typing import Any


def _app(bare: bool) -> Any:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.test import Client

    if not bare:
        from fleet.runtime import dynamodb_expressions, dynamodb_json, dynamodb_queries, dynamodb_transactions, moto_dispatch

        dynamodb_transactions.install()
        dynamodb_expressions.install()
        dynamodb_queries.install()
        dynamodb_json.install()
        moto_dispatch.install()
    return Client(DomainDispatcherApplication(create_backend_app))


def _call(client: Any, target: str, body: dict[str, Any]) -> dict[str, Any]:
    headers = {
        "X-Amz-Target": f"DynamoDB_20120810.{target}",
        "Content-Type": "application/x-amz-json-1.0",
        "Host": "dynamodb.us-east-1.amazonaws.com",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261207/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x",
    }
    response = client.post("/", data=json.dumps(body), headers=headers)
    return {"status": response.status_code, "body": response.get_json()}


def _tables(client: Any) -> None:
    for name, key in (("keys", "request_key"), ("counters", "counter")):
        _call(
            client,
            "CreateTable",
            {
                "TableName": name,
                "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )


def _transaction(n: int) -> dict[str, Any]:
    return {
        "TransactItems": [
            {
                "Put": {
                    "TableName": "keys",
                    "Item": {"request_key": {"S": f"key-{n}"}, "at": {"N": str(n)}},
                    "ConditionExpression": "attribute_not_exists(request_key)",
                }
            },
            {
                "Update": {
                    "TableName": "counters",
                    "Key": {"counter": {"S": f"client-{n % 8}"}},
                    "UpdateExpression": "ADD #count :one SET expires_at = :expires",
                    "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit",
                    "ExpressionAttributeNames": {"#count": "hits"},
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":expires": {"N": str(n)}, ":limit": {"N": "1000000"}},
                }
            },
        ]
    }


def _update(n: int) -> dict[str, Any]:
    return {
        "TableName": "keys",
        "Key": {"request_key": {"S": f"key-{n}"}},
        "UpdateExpression": "SET review = :review, changed_at = :at",
        "ConditionExpression": "attribute_exists(request_key) AND (attribute_not_exists(changed_at) OR changed_at < :at)",
        "ExpressionAttributeValues": {":review": {"S": f"ok-{n}"}, ":at": {"N": str(n)}},
    }


def measure(calls: int, bare: bool, profile: bool) -> dict[str, float]:
    """CPU ms per TransactWriteItems and per conditional UpdateItem over `calls` of each."""
    client = _app(bare)
    _tables(client)
    profiler = cProfile.Profile() if profile else None
    figures = {}
    for name, target, make in (("TransactWriteItems", "TransactWriteItems", _transaction), ("UpdateItem", "UpdateItem", _update)):
        if profiler:
            profiler.enable()
        started = time.process_time()
        for n in range(calls):
            answer = _call(client, target, make(n))
            assert answer["status"] == 200, answer
        figures[name] = (time.process_time() - started) / calls * 1000
        if profiler:
            profiler.disable()
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    return figures


def main() -> None:
    """Print CPU ms per call."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--bare", action="store_true", help="moto as shipped, none of our corrections")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    figures = measure(args.calls, args.bare, args.profile)
    label = "moto as shipped" if args.bare else "with Fleet's corrections"
    for name, ms in figures.items():
        print(f"{name}: {ms:.3f} ms CPU per call ({label}, {args.calls} calls)")


if __name__ == "__main__":
    main()
