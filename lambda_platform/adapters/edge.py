"""EdgeCache adapters: a CloudFront invalidation on AWS, a purge of the local edge locally.

The composition root (`lambda_platform.composition.Ports.edge`) picks one by stage.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from typing import Any

from lambda_platform import aws, resources
from lambda_platform.errors import RetryLater, error_code, translate
from lambda_platform.retry import retrying

log = logging.getLogger(__name__)

#: The local edge's purge endpoint: POST `{"paths": [...]}`, taken from loopback only.
PURGE_PATH = "/_edge/purge"


def distribution_comment() -> str:
    """The Comment that provisioning gives the site's distribution in this stage: how it is found."""
    return resources.distribution_name()


class CloudFrontEdge:
    """Invalidations of the stage's distribution, found by its Comment (its physical name)."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def distribution_id(self) -> str | None:
        """The id of the distribution whose Comment is this stage's name for it, or None."""
        comment = distribution_comment()
        with self._lock:
            if comment in self._ids:
                return self._ids[comment]
        found = self._find(comment)
        if found:  # a distribution not made yet may be made later: only a find is kept
            with self._lock:
                self._ids[comment] = found
        return found

    def _find(self, comment: str) -> str | None:
        marker: dict[str, str] = {}
        while True:
            page = self._call("list_distributions", **marker)["DistributionList"]
            for summary in page.get("Items", []):
                if summary.get("Comment") == comment:
                    found: str = summary["Id"]
                    return found
            if not page.get("IsTruncated"):
                return None
            marker = {"Marker": page["NextMarker"]}

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return retrying(lambda: getattr(aws.client("cloudfront"), operation)(**kwargs))
        except Exception as exc:
            if error_code(exc) == "TooManyInvalidationsInProgress":
                raise RetryLater(f"TooManyInvalidationsInProgress: {exc}") from exc
            raise translate(exc) from exc

    def invalidate(self, paths: Sequence[str]) -> str | None:
        """One invalidation of `paths`; its id, or None when the stage has no distribution yet."""
        if not paths:
            return None
        distribution = self.distribution_id()
        if distribution is None:
            log.info("no distribution %s: nothing invalidated", distribution_comment())
            return None
        # One reference per request: botocore's retries of it resend the same reference, which
        # CloudFront answers with the invalidation already made, never a second one.
        batch = {"Paths": {"Quantity": len(paths), "Items": list(paths)}, "CallerReference": uuid.uuid4().hex}
        made = self._call("create_invalidation", DistributionId=distribution, InvalidationBatch=batch)
        invalidation_id: str = made["Invalidation"]["Id"]
        return invalidation_id


class LocalEdgePurge:
    """Purges of the local edge that `fleet up` serves (`FLEET_EDGE_URL`)."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def invalidate(self, paths: Sequence[str]) -> str | None:
        """POST the paths to the edge's purge endpoint; None when no edge runs (nothing is cached)."""
        if not paths:
            return None
        request = urllib.request.Request(
            self.base_url + PURGE_PATH,
            data=json.dumps({"paths": list(paths)}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            # The edge is there and refused the purge: a bug to see, not a cache to forget.
            raise RuntimeError(f"the local edge at {self.base_url} refused the purge: {exc.code} {exc.reason}") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, ConnectionRefusedError):
                log.info("no local edge at %s: nothing purged", self.base_url)
                return None
            raise RetryLater(f"the local edge at {self.base_url}: {exc.reason}") from exc
        except OSError as exc:  # a timeout: the edge is there but did not answer in time
            raise RetryLater(f"the local edge at {self.base_url}: {exc}") from exc
        return "purge"
