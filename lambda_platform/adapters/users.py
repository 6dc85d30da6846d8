"""The users table adapter of the UserStore port."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from events.topology import TOPOLOGY
from lambda_platform.adapters.dynamo import get_one, put_new

USERS = TOPOLOGY.table("users")


class DynamoUsers:
    """The users table, keyed by the user id derived from the email address."""

    def create(self, user: Mapping[str, Any]) -> bool:
        """Store a new user with a conditional put; False when the user id is taken.

        The condition is what keeps one user per address under concurrent workers and
        redeliveries, and it writes nothing (so emits no stream record) for a repeat.
        """
        return put_new(USERS, "user_id", user)

    def get(self, user_id: str) -> dict[str, Any] | None:
        """The stored user, or None."""
        return get_one(USERS, "user_id", user_id)
