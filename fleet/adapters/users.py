"""The users table adapter of the UserStore port."""

from __future__ import annotations

from typing import Any, Mapping

from fleet.adapters.dynamo import call, from_item, table_name, to_item
from fleet.errors import ConditionFailed


class DynamoUsers:
    """The users table, keyed by the user id derived from the email address."""

    def create(self, user: Mapping[str, Any]) -> bool:
        """Store a new user with a conditional put; False when the user id is taken.

        The condition is what keeps one user per address under concurrent workers and
        redeliveries, and it writes nothing (so emits no stream record) for a repeat.
        """
        try:
            call(
                "put_item",
                TableName=table_name("users"),
                Item=to_item(user),
                ConditionExpression="attribute_not_exists(user_id)",
            )
        except ConditionFailed:
            return False
        return True

    def get(self, user_id: str) -> dict[str, Any] | None:
        """The stored user, or None."""
        response = call(
            "get_item", TableName=table_name("users"), Key={"user_id": {"S": user_id}}, ConsistentRead=True
        )
        return from_item(response["Item"]) if "Item" in response else None
