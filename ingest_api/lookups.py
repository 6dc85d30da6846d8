"""What several views look up the same way: a campaign, a stored article (and whether the caller's
key may change it), an upload, the upload limit, a page's `limit` and `cursor`.

Not a blueprint: views import it and it imports no view, so no blueprint needs another.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app, g, request

from events.blog import ARTICLE_ID
from events.ids import CAMPAIGN_ID
from events.models import Campaign
from events.uploads import DEFAULT_MAX_BYTES, parse_upload_key
from ingest_api.cache import read_cache
from ingest_api.errors import ApiError
from ingest_api.services import services

K = TypeVar("K")

#: The largest page any listing serves.
MAX_PAGE = 100

#: The fields of an upload record that its status shows.
_SHOWN = ("status", "reason", "format", "width", "height", "bytes", "thumbnails")


def campaign_of(campaign_id: str) -> Campaign:
    """The stored campaign, open or not; 404 when there is none."""
    campaign = services().campaigns.get(campaign_id) if CAMPAIGN_ID.match(campaign_id) else None
    if campaign is None:
        raise campaign_not_found(campaign_id)
    return campaign


def campaign_not_found(campaign_id: str) -> ApiError:
    """The 404 of a campaign id that names no campaign."""
    return ApiError(404, "campaign_not_found", f"No campaign {campaign_id!r}.")


def open_campaign(campaign_id: str, now: datetime) -> Campaign:
    """The campaign if it exists and takes entries now: else 404 or 409."""
    campaign = campaign_of(campaign_id)
    if not campaign.is_open(now):
        when = "has not opened yet" if now < campaign.opens_at else "has closed"
        raise ApiError(409, "campaign_not_open", f"The campaign {when}.")
    return campaign


def stored_article(article_id: str) -> dict[str, Any]:
    """The stored article (read through the cache); 404 when there is none (yet)."""
    article = None
    if ARTICLE_ID.match(article_id):
        article = read_cache().get_or_load(f"article:{article_id}", lambda: services().articles.get(article_id))
    if article is None:
        raise article_not_found()
    return article


def article_not_found() -> ApiError:
    """The 404 of an article id that names no stored article."""
    return ApiError(404, "article_not_found", "No stored article with this id (yet).")


def writable_article(article_id: str) -> dict[str, Any]:
    """The stored article, when the caller's key created it or holds `articles:admin`; else
    the 404 of an article not stored, so that a key learns nothing of others' articles.
    An article stored before articles recorded their key has no creator: only an
    `articles:admin` key changes it."""
    from lambda_platform.access import ARTICLES_ADMIN

    article = stored_article(article_id)
    creator = article.get("created_by")
    if ARTICLES_ADMIN not in g.get("api_key_scopes", ()) and (creator is None or creator != g.get("api_key_id")):
        raise article_not_found()
    return article


def max_upload_bytes() -> int:
    """The largest upload accepted (`UPLOAD_MAX_BYTES` in the app config, 10 MiB by default)."""
    return int(current_app.config.get("UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def upload_status(record: dict[str, Any]) -> dict[str, Any]:
    """What a client may see of an upload record."""
    shown: dict[str, Any] = {"upload_id": record["upload_id"], "key": record["key"]}
    shown.update({k: record[k] for k in _SHOWN if record.get(k) is not None})
    return shown


def upload_of_key(key: str) -> dict[str, Any]:
    """The status of the upload a key names, or `unknown` when it names none."""
    parsed = parse_upload_key(key)
    record = services().uploads.get(parsed.upload_id) if parsed is not None else None
    if record is None or record.get("key") != key:
        return {"key": key, "status": "unknown"}
    return upload_status(record)


def page_limit(raw: str | None, default: int, maximum: int = MAX_PAGE) -> int:
    """A listing's `limit` query parameter: `default` when absent; 422 unless a whole number from 1 to `maximum`."""
    if raw is None:
        return default
    # ASCII digits only: str.isdigit() takes "１" (which int() reads as 1) and "²" (which  # noqa: RUF003
    # it cannot read), and int() refuses a string of more than 4,300 digits.
    if not re.fullmatch(r"[0-9]{1,10}", raw) or not 1 <= int(raw) <= maximum:
        raise ApiError(
            422, "invalid_fields", "Some fields are invalid.", {"limit": [f"Must be a whole number from 1 to {maximum}."]}
        )
    return int(raw)


def page_after(decode: Callable[[str], K]) -> K | None:
    """The key inside the request's `cursor`, None without one; 400 when it is not one we made."""
    cursor = request.args.get("cursor")
    if cursor is None:
        return None
    try:
        return decode(cursor)
    except ValueError:
        raise ApiError(
            400, "invalid_cursor", "The cursor is not one this API made.", {"cursor": ["Not a valid cursor."]}
        ) from None
