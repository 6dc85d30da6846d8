"""A campaign's entries as the workers leave them, with their photos' thumbnails in the media
bucket, for the review console's browser tests and its benchmark.

The items carry what `workers.submissions` writes and what the thumbnail and receipt
workers add (`upload_key`, the upload's `thumbnails`, a `duplicate_receipt` flag); the
thumbnails are real JPEGs, written where the thumbnail worker writes them.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any


def photo(seed: int, size: int) -> bytes:
    """A receipt-like JPEG of `size` px, different for each `seed`."""
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (size, size * 4 // 3), (236, 232, 220))
    draw = ImageDraw.Draw(image)
    for y in range(size // 10, size * 4 // 3 - size // 10, max(size // 24, 4)):
        draw.line(
            (size // 10, y, size // 10 + rng.randint(size // 5, size * 7 // 10), y), fill=(40, 40, 40), width=max(size // 90, 2)
        )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def entry_item(campaign_id: str, n: int, start: datetime, **extra: Any) -> dict[str, Any]:
    """The `n`th entry of a campaign, received `n` seconds after `start`."""
    received = start + timedelta(seconds=n)
    item = {
        "submission_id": str(uuid.uuid4()),
        "campaign_id": campaign_id,
        "first_name": "Grace",
        "last_name": f"Hopper {n}",
        "email": f"grace{n}@example.com",
        "email_lower": f"grace{n}@example.com",
        "consent": True,
        "answers": {"store": f"Shop {n % 7}"},
        "received_at": received.isoformat(),
        "stored_at": (received + timedelta(milliseconds=300)).isoformat(),
        "status": "accepted",
    }
    item.update(extra)
    return item


def with_photo(item: dict[str, Any], sizes: Sequence[int] = (256, 1024), image_seed: int | None = None) -> dict[str, Any]:
    """Give an entry a photo: its upload record and thumbnails, as the thumbnail worker leaves them."""
    from events.uploads import thumbnail_key, upload_key, uploads_prefix
    from lambda_platform import aws
    from lambda_platform.adapters.uploads import DynamoUploads
    from lambda_platform.resources import bucket_name

    campaign_id = item["campaign_id"]
    upload_id = uuid.uuid4().hex
    key = upload_key(uploads_prefix("campaigns", campaign_id), upload_id, "image/jpeg")
    media = bucket_name("media")
    thumbnails = {}
    for size in sizes:
        thumb = thumbnail_key(campaign_id, upload_id, size)
        body = photo(image_seed if image_seed is not None else hash(upload_id) % 1000, size)
        aws.client("s3").put_object(Bucket=media, Key=thumb, Body=body, ContentType="image/jpeg")
        thumbnails[str(size)] = thumb
    DynamoUploads().create(
        {
            "upload_id": upload_id,
            "key": key,
            "campaign_id": campaign_id,
            "status": "ready",
            "format": "JPEG",
            "thumbnails": thumbnails,
        }
    )
    item["upload_key"] = key
    return item


def seed_campaign(
    campaign_id: str, count: int, photos: bool = True, sizes: Sequence[int] = (256, 1024), **extra: Any
) -> list[dict[str, Any]]:
    """Store `count` entries of a campaign (oldest first in the list), each with a photo unless not `photos`."""
    from lambda_platform.adapters.tables import DynamoSubmissions

    start = datetime.now(UTC) - timedelta(hours=2)
    items = [entry_item(campaign_id, n, start, **extra) for n in range(count)]
    if photos:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda item: with_photo(item, sizes), items))
    assert DynamoSubmissions().put_many(items) == set()
    return items


def store(items: Sequence[dict[str, Any]]) -> None:
    """Store (or store again) entries as the workers left them."""
    from lambda_platform.adapters.tables import DynamoSubmissions

    assert DynamoSubmissions().put_many(list(items)) == set()
