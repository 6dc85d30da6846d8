"""The DynamoDB adapter of the draws table (`lambda_platform.ports.DrawStore`).

The table is keyed by campaign and `seed`, from when each seed made a draw of its own. Now a
campaign holds, under fixed sort keys: `commitment` (the seed's hash: its value is never
stored before the draw), `draw` (the one draw, with the revealed seed as `revealed_seed`),
and `eligible#{digest}#{part}`, the ids the draw froze, newline-joined, in parts that fit an
item. A seed is 64 hex characters, so it never collides with these keys; draws stored by
seed before are left as they are, and read by nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from events.topology import TOPOLOGY
from lambda_platform.adapters.dynamo import call, from_item, put_new, to_item
from lambda_platform.resources import table_name

DRAWS = TOPOLOGY.table("draws")
COMMITMENT = "commitment"
DRAW = "draw"
#: Bytes of ids in one part: an item holds at most 400 KB, names and keys included.
PART_BYTES = 300_000


def _part_key(digest: str, part: int) -> str:
    return f"eligible#{digest}#{part:05d}"


def parts(ids: Sequence[str], size: int = PART_BYTES) -> Iterator[str]:
    """The ids newline-joined, cut between two ids into texts of at most `size` UTF-8 bytes (one
    id longer than that alone)."""
    chunk: list[str] = []
    used = 0
    for entry_id in ids:
        cost = len(entry_id.encode("utf-8")) + (1 if chunk else 0)
        if chunk and used + cost > size:
            yield "\n".join(chunk)
            chunk, used = [], 0
            cost -= 1
        chunk.append(entry_id)
        used += cost
    if chunk:
        yield "\n".join(chunk)


class DynamoDraws:
    """A campaign's commitment and draw, each written once with a conditional put."""

    def commitment(self, campaign_id: str) -> dict[str, Any] | None:
        """The commitment item, read consistently, without its sort key."""
        item = self._get(campaign_id, COMMITMENT)
        if item is not None:
            item.pop("seed")
        return item

    def commit(self, commitment: Mapping[str, Any]) -> bool:
        """A conditional put of the `commitment` item."""
        return put_new(DRAWS, "seed", {**commitment, "seed": COMMITMENT})

    def draw(self, campaign_id: str) -> dict[str, Any] | None:
        """The `draw` item, read consistently, its revealed seed as `seed`."""
        item = self._get(campaign_id, DRAW)
        if item is None:
            return None
        item["seed"] = item.pop("revealed_seed")
        item.pop("eligible_parts", None)
        return item

    def put_draw(self, draw: Mapping[str, Any], eligible: Sequence[str]) -> bool:
        """The frozen ids' parts (plain puts: the same digest is the same ids), then a
        conditional put of the `draw` item naming how many parts there are."""
        campaign_id, digest = draw["campaign_id"], draw["digest"]
        texts = list(parts(eligible))
        for number, text in enumerate(texts):
            call(
                "put_item",
                TableName=table_name(DRAWS),
                Item=to_item({"campaign_id": campaign_id, "seed": _part_key(digest, number), "ids": text, "parts": len(texts)}),
            )
        stored = {k: v for k, v in draw.items() if k != "seed"}
        return put_new(DRAWS, "seed", {**stored, "seed": DRAW, "revealed_seed": draw["seed"], "eligible_parts": len(texts)})

    def eligible(self, campaign_id: str, digest: str) -> list[str] | None:
        """Every part under the digest, one GetItem each (the first says how many)."""
        first = self._get(campaign_id, _part_key(digest, 0))
        if first is None:
            return None
        texts = [str(first["ids"])]
        for number in range(1, int(first["parts"])):
            part = self._get(campaign_id, _part_key(digest, number))
            if part is None:
                return None
            texts.append(str(part["ids"]))
        return "\n".join(texts).split("\n")

    @staticmethod
    def _get(campaign_id: str, key: str) -> dict[str, Any] | None:
        response = call(
            "get_item",
            TableName=table_name(DRAWS),
            Key={"campaign_id": {"S": campaign_id}, "seed": {"S": key}},
            ConsistentRead=True,
        )
        return from_item(response["Item"]) if "Item" in response else None
