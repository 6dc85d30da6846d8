"""Ports: the small interfaces that services and views depend on.

Each has a boto3 adapter in `lambda_platform.adapters` and an in-memory fake in the unit tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from events.email_feedback import Feedback
from events.models import Campaign


class MessageQueue(Protocol):
    """A queue that takes messages."""

    def send(self, message: Any) -> str:
        """Send one message; return the queue's message id."""


class CampaignStore(Protocol):
    """The campaigns table."""

    def get(self, campaign_id: str, fresh: bool = False) -> Campaign | None:
        """The campaign, or None; `fresh`: read now, consistently, never from a cache."""

    def put(self, campaign: Campaign) -> None:
        """Create or replace a campaign."""

    def list(self) -> list[Campaign]:
        """Every campaign, by id."""

    def save(self, campaign: Campaign, change_id: str, changed_at: str) -> bool:
        """Create or replace a campaign unless a change received after `changed_at` was
        stored; True when stored (also when this very change, `change_id`, was before)."""


class EntryStore(Protocol):
    """A campaign's stored entries as an operator reads and reviews them (the submissions table)."""

    def page(
        self,
        campaign_id: str,
        *,
        limit: int,
        after: Mapping[str, str] | None = None,
        status: str | None = None,
        flagged: bool | None = None,
        reviewed: bool | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """Entries newest first after the entry key `after` (`received_at`, `submission_id`),
        filtered by `status`, by being `flagged` as a duplicate receipt (or not) and by being
        `reviewed` (or not), reading the `by_campaign` index a bounded number of entries at a
        time (so a filtered page may be short, even empty); and the key to resume from, None
        on the last page."""

    def iter_campaign(
        self, campaign_id: str, *, status: str | None = None, newest_first: bool = True
    ) -> Iterator[dict[str, Any]]:
        """Every entry of a campaign, one Query page held at a time."""

    def get(self, submission_id: str) -> dict[str, Any] | None:
        """The stored entry, or None."""

    def count(self, campaign_id: str) -> int:
        """How many entries a campaign has stored."""

    def record_review(self, submission_id: str, campaign_id: str, review: Mapping[str, Any]) -> bool:
        """Set an entry's `review` unless the entry is not this campaign's (or not stored) or a
        review received after `review["reviewed_at"]` was recorded; True when recorded (also
        when this very review, `review["change_id"]`, was before). A rejection recorded takes
        the entry off the campaign's waitlist (`CodeStore.leave_waitlist`)."""


class SubmissionStore(Protocol):
    """The submissions table and its entry claims."""

    def get(self, submission_id: str) -> dict[str, Any] | None:
        """The stored submission, or None."""

    def existing(self, submission_ids: Iterable[str]) -> set[str]:
        """The ids among `submission_ids` that are stored already."""

    def claim_owners(self, claim_ids: Iterable[str]) -> dict[str, str]:
        """claim id -> the submission id that holds it, for the claims that are taken."""

    def claim(self, claim_id: str, submission_id: str) -> bool:
        """Take a claim for a submission; False when another submission holds it."""

    def put_many(self, items: Sequence[Mapping[str, Any]]) -> set[str]:
        """Store items in batches; return the submission ids that could not be written."""


@dataclass(frozen=True)
class KeyClaim:
    """What claiming an Idempotency-Key found: both None when the key was new (and written)."""

    #: The first counter already at its limit: neither the key nor any count was written.
    full: str | None = None
    #: The known key's record (`fingerprint`, `message_id`, `received_at`): nothing was written or counted.
    known: dict[str, Any] | None = None


class RequestKeys(Protocol):
    """Idempotency-Key records of the API."""

    def claim(
        self,
        key: str,
        fingerprint: str,
        message_id: str,
        received_at: str,
        limits: Sequence[tuple[str, int]] = (),
        window_seconds: int = 60,
        now: float = 0.0,
    ) -> KeyClaim:
        """Record a new key with the id its message goes out under and the change's version
        (`received_at`, the time the API first took it), and count one request in each
        `(counter, limit)`'s window of `now` (as `RateLimiter.hit`), all in one write, all
        or none; say instead which counter is full, or the known key's record."""


@dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD tells about a stored object."""

    key: str
    size: int
    content_type: str | None = None
    etag: str | None = None


class ObjectStore(Protocol):
    """One bucket's objects; raises RetryLater when S3 is throttling."""

    def head(self, key: str) -> ObjectInfo | None:
        """The object's size and type, or None when there is no such object."""

    def read(self, key: str) -> bytes:
        """The object's bytes; NotFound when it is gone."""

    def write(self, key: str, data: bytes, content_type: str) -> None:
        """Create or replace an object."""

    def move(self, key: str, new_key: str) -> None:
        """Copy an object to `new_key`, then delete it; nothing happens when it is gone."""


class UploadStore(Protocol):
    """The uploads table: one record per presigned upload."""

    def create(self, upload: Mapping[str, Any]) -> None:
        """Store the record of a new upload (status `pending`)."""

    def get(self, upload_id: str) -> dict[str, Any] | None:
        """The upload's record, or None."""

    def get_many(self, upload_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The records of those of `upload_ids` that exist, in batches of 100."""

    def record_outcome(self, upload_id: str, outcome: Mapping[str, Any]) -> None:
        """Set the status and what the worker found (width, reason, thumbnails...)."""


class UploadSigner(Protocol):
    """Makes presigned POSTs into the media bucket."""

    def presign_post(self, key: str, content_type: str, size: int, expires_in: int) -> dict[str, Any]:
        """`{"url", "fields"}` of a POST whose policy fixes the key, type and exact size."""

    def origins(self) -> tuple[str, ...]:
        """The origins a browser sends these POSTs to (a page's CSP allows them)."""


class UserStore(Protocol):
    """The users table."""

    def create(self, user: Mapping[str, Any]) -> bool:
        """Store a new user; False (and nothing written) when its user id exists."""

    def get(self, user_id: str) -> dict[str, Any] | None:
        """The stored user, or None."""


T = TypeVar("T")


class Once(Protocol):
    """Runs an action at most once per (scope, key); see `lambda_platform.idempotency.once`."""

    def __call__(self, scope: str, key: str, action: Callable[[], T]) -> T:
        """Run `action` unless it already completed for (scope, key); return its (stored) result."""
        ...


class Mailer(Protocol):
    """Sends one email, text and HTML; raises RetryLater when throttled."""

    def send(self, to: str, subject: str, text: str, html: str, *, tags: Iterable[tuple[str, str]] = ()) -> str:
        """Send one email with its message tags (name, value; one SES cannot take is left out, never failing
        the send); return the provider's message id."""


class ArticleStore(Protocol):
    """The articles table and its `feed` index."""

    def create(self, article: Mapping[str, Any]) -> bool:
        """Store a new article; False (and nothing written) when its id is stored already."""

    def get(self, article_id: str) -> dict[str, Any] | None:
        """The stored article, or None."""

    def feed(self, limit: int, after: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """Published articles newest first, after the feed key `after`; and the feed key to
        resume from, None on the last page."""

    def update(
        self,
        article_id: str,
        changes: Mapping[str, Any],
        change_id: str,
        changed_at: str,
        remove: Sequence[str] = (),
    ) -> bool:
        """Set `changes` and remove the attributes `remove` of a stored article, unless it is
        gone or a change later than `changed_at` was applied; True when applied (also when
        this very change, `change_id`, was applied before)."""


class CommentStore(Protocol):
    """The comments table."""

    def create(self, comment: Mapping[str, Any]) -> bool:
        """Store a new comment; False (and nothing written) when its id is stored already."""

    def get(self, comment_id: str) -> dict[str, Any] | None:
        """The stored comment, or None."""

    def of_article(self, article_id: str, limit: int, after: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """An article's accepted comments oldest first, after the comment key `after`, in one
        Query of at most `limit + 1` comments (so a page may be short when rejected ones
        were skipped); and the comment key to resume from, None on the last page."""


class CommentTopic(Protocol):
    """The SNS comments topic: notifications out, subscriptions filtered by article."""

    def publish(self, subject: str, message: str, attributes: Mapping[str, str]) -> str:
        """Publish one notification with string message attributes; return SNS's message id."""

    def subscribe(self, protocol: str, endpoint: str, article_id: str) -> str:
        """Subscribe an endpoint to one article's notifications; return the subscription id."""

    def queue_exists(self, queue_arn: str) -> bool:
        """Whether the SQS queue of this ARN exists, in this fleet's region and the ARN's account."""

    def host_addresses(self, host: str) -> tuple[str, ...]:
        """Every address an https endpoint's host name resolves to; empty when it does not resolve."""

    def article_of(self, subscription_id: str) -> str | None:
        """The article a subscription of this topic filters on, or None when there is none."""

    def unsubscribe(self, subscription_id: str) -> None:
        """Remove a subscription of this topic."""


class ApiKeyStore(Protocol):
    """API keys, stored by the sha256 of the key."""

    def get(self, key_hash: str) -> dict[str, Any] | None:
        """The key's record (`key_id`, `name`, `scopes`, `revoked`), or None."""

    def put(self, record: Mapping[str, Any]) -> None:
        """Store a new key's record."""

    def list(self) -> list[dict[str, Any]]:
        """Every key's record."""

    def revoke(self, key_hash: str) -> None:
        """Mark a key revoked."""


class RateLimiter(Protocol):
    """Fixed-window counters shared by every API process."""

    def hit(self, limits: Sequence[tuple[str, int]], window_seconds: int, now: float) -> str | None:
        """Count one request in each `(counter, limit)`'s current window, all or none: return
        the first counter already at its limit (nothing is counted then), or None."""


class TodoStore(Protocol):
    """The todos table: each user's to-dos under their token subject."""

    def get(self, owner: str, todo_id: str) -> dict[str, Any] | None:
        """The owner's to-do, or None (another user's is None too)."""

    def list(self, owner: str, limit: int) -> list[dict[str, Any]]:
        """The owner's to-dos, up to `limit`."""

    def create(self, item: Mapping[str, Any]) -> bool:
        """Store a new to-do; False when its id is stored already."""

    def update(self, owner: str, todo_id: str, changes: Mapping[str, Any], changed_at: str) -> bool:
        """Apply changes to the owner's to-do unless it is gone or changed later; True when applied."""

    def delete(self, owner: str, todo_id: str) -> None:
        """Delete the owner's to-do (nothing happens when it is gone)."""


@dataclass(frozen=True)
class ReplayItem:
    """One message (or parked batch of stream records) a replay puts back: its id, and what it holds, cut short."""

    id: str
    summary: str


@dataclass(frozen=True)
class ReplayOutcome:
    """What a replay of one topology queue did, or what its dry run would do."""

    queue: str
    #: The queue the replay reads: the dead-letter queue, or the on-failure queue itself.
    source: str
    #: Where it puts the work back: the queue, or the function whose stream records are parked.
    target: str
    dry_run: bool
    #: A dry run: what would go back (at most its limit).
    items: tuple[ReplayItem, ...] = ()
    moved: int = 0
    still_failing: int = 0


class QueueDepths(Protocol):
    """A topology queue's counts, as `fleet status` reads them (never by peeking); read-only."""

    @property
    def name(self) -> str:
        """The queue's logical name."""

    @property
    def visible(self) -> int:
        """Messages waiting."""

    @property
    def in_flight(self) -> int:
        """Messages received and not yet deleted."""

    @property
    def dead_lettered(self) -> int:
        """Messages in its dead-letter queue."""


class FleetMonitor(Protocol):
    """What the local live view reads and does: queue depths, the triggers' counts, the outbox, replays."""

    def queues(self) -> Sequence[QueueDepths]:
        """Every topology queue's counts (visible, in flight, dead-lettered), no peeking."""

    def live_view(self, now: float) -> dict[str, Any]:
        """Every trigger's counts per second up to `now`, the latest failures and whether the
        workers are reporting, from their last stats snapshot."""

    def emails_accepted(self) -> int:
        """How many emails the local SES has accepted (the outbox's count)."""

    def email_health(self) -> dict[str, Any]:
        """The bounce and complaint rates of the last 24 hours and the suppressed addresses
        (`fleet.email_health.EmailHealth.document`)."""

    def replay(self, queue: str, dry_run: bool) -> ReplayOutcome:
        """Put a topology queue's failed work back as `fleet replay QUEUE` does (or list it, for a dry run)."""


class UserFiles(Protocol):
    """Each user's folder in the media bucket."""

    def presign_post(self, key: str, content_type: str, size: int, expires_in: int) -> dict[str, Any]:
        """A presigned POST for exactly `key`, of exactly `size` bytes."""

    def list(self, prefix: str, limit: int) -> list[dict[str, Any]]:
        """`{key, bytes, last_modified}` of the objects under `prefix`."""

    def exists(self, key: str) -> bool:
        """True when the object is stored."""

    def presign_get(self, key: str, expires_in: int) -> str:
        """A presigned GET URL of `key`."""


class EdgeCache(Protocol):
    """What the edge holds cached: CloudFront's copies on AWS, the local edge's on loopback."""

    def invalidate(self, paths: Sequence[str]) -> str | None:
        """Drop the cached copies of these viewer paths (`/c/*` wildcards as CloudFront takes
        them) in one request; return its id, or None when there is no edge (nothing cached)."""


@dataclass(frozen=True)
class CodeGrant:
    """What one conditional give of a code found."""

    #: The entry's code now: the one given, or the one it held already; None when the code
    #: had left the pool (another entry took it), or the entry may hold none, and nothing
    #: was written.
    code: str | None
    #: True when this give wrote the code to the entry.
    given: bool = False
    #: False when the entry may hold no code (not accepted, flagged as a duplicate receipt,
    #: rejected in review, or another campaign's): nothing was written, the code stays.
    eligible: bool = True


class CodeStore(Protocol):
    """A campaign's discount codes (the codes table) and its entries' side of them (the submissions table)."""

    def add(self, campaign_id: str, codes: Sequence[tuple[str, str]], added_at: str) -> dict[str, str]:
        """Put each `(code, pool order)` in the pool unless the campaign holds that code already,
        in any case (`events.models.code_key`), in the pool or given, each with a conditional
        write; return the codes not added, each with the pool order of the one held."""

    def available(self, campaign_id: str, limit: int, after: Any = None) -> tuple[list[str], Any]:
        """Codes still in the pool, as imported, in pool order, after the cursor `after`; and
        the cursor to resume from, None on the last page."""

    def give(self, campaign_id: str, code: str, submission_id: str, given_at: str) -> CodeGrant:
        """In one transaction the code leaves the pool and the entry gets it, accepted and off
        the waitlist, or neither. The entry's condition: it holds no code, is this campaign's,
        accepted or waitlisted, not flagged as a duplicate receipt and not rejected in review
        (else `eligible` is False). NotFound when the entry is not stored."""

    def waitlist(self, campaign_id: str, submission_id: str, at: str) -> CodeGrant | None:
        """Waitlist an entry that holds no code and may hold one (the condition of `give`), its
        first `waitlisted_at` kept; None when done, else what the entry is instead (nothing
        written): the code it holds, or not `eligible`."""

    def leave_waitlist(self, campaign_id: str, submission_id: str) -> bool:
        """Take a waitlisted entry that may no longer hold a code (flagged as a duplicate
        receipt, or rejected in review) off the waitlist, `accepted` again without a code, in
        one conditional write; False (nothing written) when it is not so."""

    def waitlisted(self, campaign_id: str, limit: int, after: Any = None) -> tuple[list[str], Any]:
        """The ids of the campaign's waitlisted entries, oldest entry first, after the cursor
        `after`; and the cursor to resume from, None on the last page."""

    def counts(self, campaign_id: str) -> tuple[int, int, int]:
        """How many codes are in the pool, how many were given, how many entries wait (COUNT Queries)."""

    def unmailed(self, campaign_id: str) -> int:
        """How many of the campaign's entries hold a code that never reached them: their address
        bounced, or was suppressed when the email was due (a COUNT Query of all its entries)."""


class ReceiptIndex(Protocol):
    """The receipt_bands table: one item per band of each entry's photo hash."""

    def record(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Write band items (`band`, `submission_id`, `phash`, `received_at`) in batches; RetryLater when some stay unwritten."""

    def band(self, band: str) -> list[dict[str, Any]]:
        """Every item of one band: one Query (and its next pages), never a Scan."""


class ReceiptFlags(Protocol):
    """The entries' side of their receipt photos (the submissions table)."""

    def flag(self, submission_id: str, copies: Sequence[str]) -> bool:
        """Add ids to the entry's `duplicate_receipt` set; False (nothing written) when the entry is not stored."""

    def senders(self, upload_key: str) -> list[str]:
        """The ids of the entries that sent this upload (a Query of the `by_upload` index)."""

    def mark_ready(self, submission_id: str, at: str) -> bool:
        """Set the entry's `receipt_ready_at`; False (nothing written) when the entry is not stored."""


class DrawStore(Protocol):
    """The draws table: a campaign's commitment (its seed's hash) and its one draw, each
    written once, and the eligible ids the draw froze."""

    def commitment(self, campaign_id: str) -> dict[str, Any] | None:
        """The campaign's commitment, or None."""

    def commit(self, commitment: Mapping[str, Any]) -> bool:
        """Store the campaign's commitment unless one is stored; False (nothing written) then."""

    def draw(self, campaign_id: str) -> dict[str, Any] | None:
        """The campaign's draw, or None."""

    def put_draw(self, draw: Mapping[str, Any], eligible: Sequence[str]) -> bool:
        """Store the eligible ids under the draw's digest, then the draw unless the campaign's
        draw is stored; False (the draw not written) then."""

    def eligible(self, campaign_id: str, digest: str) -> list[str] | None:
        """The eligible ids stored under this digest, in order; None when they are not all there."""


class SuppressionList(Protocol):
    """The stage's suppression list (the suppressions table), and SES's account-level one where it is on."""

    def suppressed(self, addresses: Iterable[str]) -> set[str]:
        """Those of `addresses` (lower-cased) that are on the list now, read at once."""

    def suppress(self, feedback: Feedback) -> bool:
        """Put the feedback's address on the list, unless it is there or was lifted after this
        event; True when this call put it there."""

    def lift(self, address: str, by: str, at: str) -> bool:
        """Take an address off the list, recording who and when; False when it is not on it."""

    def entries(self) -> list[dict[str, Any]]:
        """Every address ever suppressed, with why and when, and its last lift; `active` says which still are."""


class EmailEvents(Protocol):
    """SES's sending events as applied (the email_events table): each once, counted by the hour."""

    def record(self, feedback: Feedback) -> bool:
        """Store the event and count it in its hour, in one transaction; False (nothing written) when stored already."""

    def counts(self, hours: Sequence[str]) -> dict[str, int]:
        """The events counted in these hours (`YYYY-MM-DDTHH`), summed by kind."""

    def of_message(self, message_id: str) -> list[dict[str, Any]]:
        """The events stored for one email."""


class EmailStatuses(Protocol):
    """The `email_status` of entries and users: what became of the latest email about them, or to their address."""

    def mark_address(self, address: str, status: str, at: str) -> int:
        """Mark every entry and the user of this address, unless one carries a status as new or newer
        (and never `suppressed` over `bounced` or `complained`); how many were marked."""

    def mark_entry(self, submission_id: str, status: str, at: str) -> bool:
        """Mark one entry so; False when it is not stored or carries a newer status."""

    def mark_user(self, user_id: str, status: str, at: str) -> bool:
        """Mark one user so; False when it is not stored or carries a newer status."""
