"""A campaign's outcome through the admin API: its codes, its export, its draw.

The same campaign rules as `fleet campaigns codes status`, `fleet campaigns export` and
`fleet campaigns draw` (`campaigns.codes`, `campaigns.export`, `campaigns.draw`), behind the
same scopes as the entries: a key reads them with `campaigns:read` and runs the draw with
`campaigns:write`, for the campaigns it is bound to only.

- The export streams the CLI's bytes, a page of entries at a time (`campaigns.export`).
  Behind API Gateway an answer is buffered and at most 10 MB (Lambda's synchronous payload:
  6 MB), so a large campaign's export is the CLI's job there; locally, and through the
  edge, it streams whatever its size.
- The draw is never committed here: the commitment's seed is shown once, to whoever
  commits, and the staff who review entries must not hold it (knowing the seed, a reviewer
  could reject entries until a friend wins). Committing stays the operator's
  `fleet campaigns draw ID --commit`. Running it takes the seed typed in and keeps every
  rule of the CLI: refused before the close, refused with any seed but the committed one,
  run once (asking again returns the stored draw). It is the one write here that is not
  queued: the operator waits for its winners or its refusal, and it is one conditional put.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request, stream_with_context
from marshmallow import RAISE, Schema, fields, validate

from events.models import ACCEPTED, DUPLICATE, WAITLISTED
from events.schemas import shared
from ingest_api.auth import api_key
from ingest_api.bodies import json_body
from ingest_api.errors import ApiError
from ingest_api.lookups import campaign_not_found, campaign_of
from ingest_api.services import services
from ingest_api.spec import documented

bp = Blueprint("admin_outcome", __name__)

_EXPORT_QUERY: dict[str, dict[str, Any]] = {
    "format": {"type": "string", "enum": ["csv", "jsonl"]},
    "status": {"type": "string", "enum": [ACCEPTED, DUPLICATE, WAITLISTED]},
}
_EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
#: A seed as `fleet campaigns draw --commit` prints it: 64 hex characters.
_SEED = r"^[0-9a-fA-F]{64}$"


class DrawRequestSchema(Schema):
    """The body of `POST /v1/campaigns/{campaign_id}/draw`: how many winners, and the committed seed."""

    class Meta:
        unknown = RAISE

    winners = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    seed = fields.String(
        required=True, validate=validate.Regexp(_SEED, error="The 64 hex characters `fleet campaigns draw --commit` printed.")
    )


@bp.get("/v1/campaigns/<campaign_id>/codes")
@api_key("campaigns:read")
def codes_status(campaign_id: str):
    """The campaign's code pool: codes available and given, entries waitlisted (COUNT Queries)."""
    from campaigns.codes import pool_status

    campaign = campaign_of(campaign_id)
    found = pool_status([campaign], services().codes)
    if not found:
        return {"campaign_id": campaign.campaign_id, "gives_codes": False}
    pool = found[0]
    return {
        "campaign_id": campaign.campaign_id,
        "gives_codes": True,
        "available": pool.available,
        "given": pool.given,
        "waitlisted": pool.waitlisted,
    }


@bp.get("/v1/campaigns/<campaign_id>/export")
@api_key("campaigns:read")
@documented(query=_EXPORT_QUERY, content="text/csv")
def export(campaign_id: str):
    """Every entry, oldest first, as `fleet campaigns export` writes it (CSV, or `format=jsonl`), streamed."""
    from campaigns.export import ExportOptions

    campaign = campaign_of(campaign_id)
    fmt = request.args.get("format", "csv")
    if fmt not in _EXPORT_TYPES:
        raise ApiError(422, "invalid_fields", "Some fields are invalid.", {"format": ["Must be one of: csv, jsonl."]})
    status = request.args.get("status")
    if status is not None and status not in _EXPORT_QUERY["status"]["enum"]:
        raise ApiError(
            422,
            "invalid_fields",
            "Some fields are invalid.",
            {"status": [f"Must be one of: {ACCEPTED}, {DUPLICATE}, {WAITLISTED}."]},
        )
    rows = _export_rows(campaign.campaign_id, status, ExportOptions(format=fmt))
    suffix = f"-{status}" if status else ""
    response = Response(stream_with_context(rows), 200, content_type=_EXPORT_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{campaign.campaign_id}{suffix}-entries.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _export_rows(campaign_id: str, status: str | None, options: Any) -> Iterator[bytes]:
    """The export's bytes, the header first, then a page of entries at a time."""
    from campaigns.export import RowWriter, entry_record, pages
    from events.uploads import parse_upload_key

    ports = services()
    buffer = io.StringIO(newline="")
    writer = RowWriter(buffer, options)
    yield _drained(buffer)
    for page in pages(ports.entries.iter_campaign(campaign_id, status=status, newest_first=False)):
        upload_ids: list[str] = []
        for entry in page:
            parsed = parse_upload_key(entry["upload_key"]) if entry.get("upload_key") else None
            if parsed is not None:
                upload_ids.append(parsed.upload_id)
        uploads = _uploads(upload_ids)
        for entry in page:
            writer.write(entry_record(entry, uploads))
        yield _drained(buffer)


def _uploads(upload_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not upload_ids:
        return {}
    return {r["upload_id"]: r for r in services().uploads.get_many(upload_ids)}


def _drained(buffer: io.StringIO) -> bytes:
    """What was written to `buffer` since the last call, as UTF-8; the buffer is emptied."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")


@bp.get("/v1/campaigns/<campaign_id>/draw")
@api_key("campaigns:read")
def get_draw(campaign_id: str):
    """The draw's commitment (the seed's sha256, never the seed), whether the campaign has closed, and the draw once run."""
    campaign = campaign_of(campaign_id)
    draws = services().draws
    return {
        "campaign_id": campaign.campaign_id,
        "closes_at": campaign.closes_at.isoformat(),
        "closed": datetime.now(UTC) >= campaign.closes_at,
        "commitment": draws.commitment(campaign.campaign_id),
        "draw": draws.draw(campaign.campaign_id),
    }


@bp.post("/v1/campaigns/<campaign_id>/draw")
@api_key("campaigns:write")
@documented(body=DrawRequestSchema, status=201)
def run_draw(campaign_id: str):
    """Run the committed draw once the campaign has closed, with the seed typed in: 201 with the
    draw stored now, 200 with the one stored before; 409 before the close, without a commitment
    or with any other seed (nothing stored), 422 for more winners than eligible entries."""
    from campaigns.draw import DrawRefused, TooManyWinners
    from campaigns.draw import run_draw as run

    body = shared(DrawRequestSchema).load(json_body())
    campaign_of(campaign_id)
    # The close as stored now: a cached campaign whose close was moved later would let the draw run early.
    campaign = services().campaigns.get(campaign_id, fresh=True)
    if campaign is None:
        raise campaign_not_found(campaign_id)
    entries = services().entries.iter_campaign(campaign.campaign_id)
    try:
        outcome = run(campaign, entries, body["winners"], body["seed"].lower(), services().draws)
    except DrawRefused as exc:
        raise ApiError(409, "draw_refused", str(exc)) from None
    except TooManyWinners as exc:
        raise ApiError(422, "invalid_fields", "Some fields are invalid.", {"winners": [f"{exc}."]}) from None
    except ValueError as exc:
        raise ApiError(422, "invalid_fields", "Some fields are invalid.", {"winners": [f"{exc}."]}) from None
    answer = {"created": outcome.created, "draw": outcome.draw, "eligible_now": len(outcome.ids_now)}
    return answer, 201 if outcome.created else 200


@bp.get("/v1/campaigns/<campaign_id>/draw/verification")
@api_key("campaigns:read")
def verify_draw(campaign_id: str):
    """The stored draw recomputed from its stored seed, frozen ids and rule, check by check; 404 before the draw."""
    from campaigns.draw import verify_draw as verify

    campaign = campaign_of(campaign_id)
    checked = verify(campaign, services().entries.iter_campaign(campaign.campaign_id), services().draws)
    if checked is None:
        raise ApiError(404, "draw_not_found", f"No draw of {campaign.campaign_id} is stored.")
    return {
        "campaign_id": campaign.campaign_id,
        "verified": checked.verified,
        "checks": [
            {"check": "the seed hashes to the committed sha256", "held": checked.seed_matches_commitment},
            {"check": "the commitment was made before the campaign closed", "held": checked.committed_before_closing},
            {"check": "the draw ran after the campaign closed", "held": checked.drawn_after_closing},
            {"check": "the frozen eligible ids hash to the digest", "held": checked.frozen_match_digest},
            {"check": "the rule gives the same winners from them", "held": checked.winners_match},
        ],
        "draw": checked.draw,
        "eligible_now": len(checked.ids_now),
        "entries_changed": checked.entries_changed,
    }
