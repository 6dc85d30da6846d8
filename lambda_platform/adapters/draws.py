"""The DynamoDB adapter of the draws table (`lambda_platform.ports.DrawStore`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from events.topology import TOPOLOGY
from lambda_platform.adapters.dynamo import call, from_item, put_new
from lambda_platform.resources import table_name

DRAWS = TOPOLOGY.table("draws")


class DynamoDraws:
    """Draws by campaign and seed, each written once with a conditional put."""

    def get(self, campaign_id: str, seed: str) -> dict[str, Any] | None:
        """The stored draw, or None."""
        response = call(
            "get_item",
            TableName=table_name(DRAWS),
            Key={"campaign_id": {"S": campaign_id}, "seed": {"S": seed}},
            ConsistentRead=True,
        )
        return from_item(response["Item"]) if "Item" in response else None

    def put_new(self, draw: Mapping[str, Any]) -> bool:
        """Store a draw unless one with its campaign and seed is stored; False (nothing written) then."""
        # attribute_not_exists on the sort key holds only when no item has this whole key.
        return put_new(DRAWS, "seed", draw)
