"""In-memory fakes of the access ports (API keys, rate counters), the to-dos table and user files."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from lambda_platform.access import CAMPAIGN_SCOPES, new_key


class FakeApiKeys:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def get(self, key_hash: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.records.get(key_hash))

    def put(self, record: Mapping[str, Any]) -> None:
        self.records[record["key_hash"]] = dict(record)

    def list(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.records.values()]

    def revoke(self, key_hash: str) -> None:
        self.records[key_hash]["revoked"] = True

    def id_of(self, key: str) -> str:
        """The key id of an issued key."""
        from lambda_platform.access import hash_key

        return self.records[hash_key(key)]["key_id"]

    def issue(self, *scopes: str, name: str = "test", campaigns: tuple[str, ...] = ()) -> str:
        """A new key with these scopes; a campaigns:* key reaches `campaigns`, or every campaign when none are named."""
        every = not campaigns and any(scope in CAMPAIGN_SCOPES for scope in scopes)
        return new_key(name, list(scopes), self, campaigns, all_campaigns=every)[0]


class FakeRateLimiter:
    """The rate_limits table's counters in a dict, by counter and window."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def hit(self, limits, window_seconds: int, now: float):
        if (full := self.full(limits, window_seconds, now)) is not None:
            return full
        self.count(limits, window_seconds, now)
        return None

    def full(self, limits, window_seconds: int, now: float) -> str | None:
        """The first counter at its limit in the window of `now`, or None (nothing counted)."""
        window = int(now) // window_seconds
        return next((c for c, limit in limits if self.counts.get(f"{c}#{window}", 0) >= limit), None)

    def count(self, limits, window_seconds: int, now: float) -> None:
        """Count one request in each counter's window of `now`."""
        window = int(now) // window_seconds
        for counter, _ in limits:
            key = f"{counter}#{window}"
            self.counts[key] = self.counts.get(key, 0) + 1


class FakeTodos:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, owner: str, todo_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.items.get((owner, todo_id)))

    def list(self, owner: str, limit: int) -> list[dict[str, Any]]:
        return [copy.deepcopy(v) for (o, _), v in sorted(self.items.items()) if o == owner][:limit]

    def create(self, item: Mapping[str, Any]) -> bool:
        key = (item["owner"], item["todo_id"])
        if key in self.items:
            return False
        self.items[key] = dict(item)
        return True

    def update(self, owner: str, todo_id: str, changes: Mapping[str, Any], changed_at: str) -> bool:
        item = self.items.get((owner, todo_id))
        if item is None or not item["updated_at"] < changed_at:
            return False
        item.update(changes, updated_at=changed_at)
        return True

    def delete(self, owner: str, todo_id: str) -> None:
        self.items.pop((owner, todo_id), None)


class FakeUserFiles:
    def __init__(self) -> None:
        self.objects: dict[str, int] = {}
        self.presigned: list[str] = []

    def presign_post(self, key: str, content_type: str, size: int, expires_in: int) -> dict[str, Any]:
        self.presigned.append(key)
        return {"url": "http://s3.test/bucket", "fields": {"key": key}}

    def list(self, prefix: str, limit: int) -> list[dict[str, Any]]:
        return [
            {"key": k, "bytes": n, "last_modified": "2026-01-01T00:00:00+00:00"}
            for k, n in sorted(self.objects.items())
            if k.startswith(prefix)
        ][:limit]

    def exists(self, key: str) -> bool:
        return key in self.objects

    def presign_get(self, key: str, expires_in: int) -> str:
        return f"http://s3.test/bucket/{key}?signed"
