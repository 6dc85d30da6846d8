"""The answer to a write that was queued: 202, `status: queued`, the ids it will be stored
under, and where to follow it.

Not a blueprint: views import it and it imports no view.
"""

from __future__ import annotations

from typing import Any


def queued(status_url: str | None = None, **fields: Any) -> tuple[dict[str, Any], int, dict[str, str]]:
    """202 with `fields` and `status: queued`; with a `status_url`, that too and a `Location` header."""
    body = {**fields, "status": "queued"}
    if status_url is None:
        return body, 202, {}
    body["status_url"] = status_url
    return body, 202, {"Location": status_url}
