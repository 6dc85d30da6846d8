"""In-memory fakes of the ObjectStore, UploadStore and UploadSigner ports."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from lambda_platform.errors import NotFound, RetryLater
from lambda_platform.ports import ObjectInfo


class FakeObjects:
    """A bucket in a dict; `throttle` names operations that raise RetryLater, as a throttled S3 would."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.throttle: set[str] = set()
        self.reads: list[str] = []

    def _check(self, operation: str) -> None:
        if operation in self.throttle:
            raise RetryLater(f"SlowDown: {operation}")

    def head(self, key: str) -> ObjectInfo | None:
        self._check("head")
        if key not in self.objects:
            return None
        data, content_type = self.objects[key]
        return ObjectInfo(key, len(data), content_type, hashlib.md5(data).hexdigest())

    def read(self, key: str) -> bytes:
        self._check("read")
        self.reads.append(key)
        if key not in self.objects:
            raise NotFound(key)
        return self.objects[key][0]

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self._check("write")
        self.objects[key] = (data, content_type)

    def move(self, key: str, new_key: str) -> None:
        self._check("move")
        if key in self.objects:
            self.objects[new_key] = self.objects.pop(key)


class FakeUploads:
    """The uploads table in a dict; `throttle` makes record_outcome raise RetryLater."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.throttle = False

    def create(self, upload: Mapping[str, Any]) -> None:
        assert upload["upload_id"] not in self.items
        self.items[upload["upload_id"]] = dict(upload)

    def get(self, upload_id: str) -> dict[str, Any] | None:
        item = self.items.get(upload_id)
        return copy.deepcopy(item) if item is not None else None

    def get_many(self, upload_ids: Sequence[str]) -> list[dict[str, Any]]:
        return [copy.deepcopy(self.items[i]) for i in dict.fromkeys(upload_ids) if i in self.items]

    def record_outcome(self, upload_id: str, outcome: Mapping[str, Any]) -> None:
        if self.throttle:
            raise RetryLater("ProvisionedThroughputExceededException")
        item = self.items[upload_id]
        for field, value in outcome.items():
            if value is None:
                item.pop(field, None)
            else:
                item[field] = copy.deepcopy(value)


class FakeSigner:
    """Presigned posts that only record what was asked, to the local S3's origin."""

    def __init__(self, origin: str = "http://127.0.0.1:4566") -> None:
        self.calls: list[tuple[str, str, int, int]] = []
        self.origin = origin

    def presign_post(self, key: str, content_type: str, size: int, expires_in: int) -> dict[str, Any]:
        self.calls.append((key, content_type, size, expires_in))
        return {"url": f"{self.origin}/fleet-local-media", "fields": {"key": key, "Content-Type": content_type}}

    def origins(self) -> tuple[str, ...]:
        return (self.origin,)
