"""Messages of the campaign-admin queue and their schemas: a campaign's creation or change, an entry's review.

Both carry `received_at`, the time the API took the request: it orders the changes of
one campaign (or the reviews of one entry), so that a replay of an older message never
overwrites what a newer one stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import EXCLUDE, Schema, fields, post_load, validate

#: The longest reason a reviewer may give.
MAX_REASON = 500
#: Review decisions, as `events.models.REVIEW_DECISIONS` (kept here too: this module imports nothing of ours).
_DECISIONS = ("approved", "rejected")


@dataclass(frozen=True)
class SaveCampaign:
    """Create or replace a campaign, unless a change of it received later was stored already."""

    change_id: str
    campaign_id: str
    name: str
    #: ISO 8601 with an offset, as `CampaignSchema` dumps them.
    opens_at: str
    closes_at: str
    received_at: str
    max_entries_per_email: int = 1
    gives_codes: bool = False
    draw_includes_unreviewed: bool = True
    draw_includes_flagged: bool = False

    @property
    def message_id(self) -> str:
        """The id that makes every delivery of this message idempotent."""
        return self.change_id


@dataclass(frozen=True)
class ReviewEntry:
    """Record an operator's decision on an entry: which key, when, why."""

    change_id: str
    campaign_id: str
    submission_id: str
    decision: str
    received_at: str
    key_id: str
    key_name: str
    reason: str | None = None

    @property
    def message_id(self) -> str:
        """The id that makes every delivery of this message idempotent."""
        return self.change_id


class SaveCampaignSchema(Schema):
    """The body of a `SaveCampaign` message on the campaign-admin queue."""

    class Meta:
        unknown = EXCLUDE

    change_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    campaign_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True)
    opens_at = fields.String(required=True)
    closes_at = fields.String(required=True)
    received_at = fields.String(required=True)
    max_entries_per_email = fields.Integer(load_default=1)
    gives_codes = fields.Boolean(load_default=False)
    draw_includes_unreviewed = fields.Boolean(load_default=True)
    draw_includes_flagged = fields.Boolean(load_default=False)

    @post_load
    def _make(self, data: dict, **kwargs) -> SaveCampaign:
        return SaveCampaign(**data)


class ReviewEntrySchema(Schema):
    """The body of a `ReviewEntry` message on the campaign-admin queue."""

    class Meta:
        unknown = EXCLUDE

    change_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    campaign_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    submission_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    decision = fields.String(required=True, validate=validate.OneOf(_DECISIONS))
    received_at = fields.String(required=True)
    key_id = fields.String(required=True)
    key_name = fields.String(required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=MAX_REASON))

    @post_load
    def _make(self, data: dict, **kwargs) -> ReviewEntry:
        return ReviewEntry(**data)
