"""Reading tables back in tests: every item, through the paginated Scan."""

from __future__ import annotations

from lambda_platform import aws, settings
from lambda_platform.adapters.dynamo import from_item


def scan(logical: str) -> list[dict]:
    """Every item of a topology table, as plain dicts."""
    items, kwargs = [], {"TableName": settings.current().name(logical)}
    while True:
        page = aws.client("dynamodb").scan(**kwargs)
        items.extend(from_item(i) for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
