"""The composition root: which adapter serves each port, for the API, every worker and the CLI.

A port is built on first use, importing only its own adapter module, so the thumbnail
worker never imports the SES or the codes adapter, and the confirmations worker never
imports S3's. `ports()` keeps one `Ports` per settings for the process (the tests point
Fleet at a new endpoint by resetting the settings, and get new ports). A port passed to
`Ports(...)` is used as given: the unit tests pass in-memory fakes, and the local runtime
passes the live view's monitor, which only the host can build.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from functools import cached_property
from typing import Any

from events.topology import TOPOLOGY
from lambda_platform import settings
from lambda_platform.errors import FleetError
from lambda_platform.ports import (
    ApiKeyStore,
    ArticleStore,
    CampaignStore,
    CodeStore,
    CommentStore,
    CommentTopic,
    DrawStore,
    EdgeCache,
    EmailEvents,
    EmailStatuses,
    EntryStore,
    FleetMonitor,
    Mailer,
    MessageQueue,
    ObjectStore,
    Once,
    RateLimiter,
    ReceiptFlags,
    ReceiptIndex,
    RequestKeys,
    SubmissionStore,
    SuppressionList,
    TodoStore,
    UploadSigner,
    UploadStore,
    UserFiles,
    UserStore,
)


class MissingPort(FleetError):
    """A port that this process has no adapter for (the live view's monitor off the local runtime)."""


class Ports:
    """Every port of the API, the workers and the CLI, each built on first use and then kept."""

    def __init__(self, *, campaign_cache_seconds: float | None = None, **given: Any) -> None:
        """`given` ports are used as they are; `campaign_cache_seconds` (default: the settings')
        is how long a campaign read is reused (0 for the CLI, which must see its own writes)."""
        unknown = sorted(set(given) - set(port_names()))
        if unknown:
            raise TypeError(f"no port named {', '.join(unknown)}")
        self._campaign_cache_seconds = campaign_cache_seconds
        # A cached_property looks in the instance's dict first: a given port is never built.
        vars(self).update(given)

    # --- the campaign entries -------------------------------------------------------------

    @cached_property
    def submissions_queue(self) -> MessageQueue:
        """The queue the entries' Pipe reads."""
        from lambda_platform.adapters.queues import SqsQueue

        return SqsQueue(TOPOLOGY.sqs_queue("submissions"))

    @cached_property
    def campaigns(self) -> CampaignStore:
        """The campaigns table, each read reused for `campaign_cache_seconds`."""
        from lambda_platform.adapters.tables import DynamoCampaigns

        seconds = self._campaign_cache_seconds
        return DynamoCampaigns(cache_seconds=settings.current().campaign_cache_seconds if seconds is None else seconds)

    @cached_property
    def submissions(self) -> SubmissionStore:
        """The submissions table as the API and the submissions worker write it."""
        from lambda_platform.adapters.tables import DynamoSubmissions

        return DynamoSubmissions()

    @cached_property
    def entries(self) -> EntryStore:
        """The submissions table as operators read and review it."""
        from lambda_platform.adapters.entries import DynamoEntries

        return DynamoEntries()

    @cached_property
    def request_keys(self) -> RequestKeys:
        """The Idempotency-Key records (and the public writes' rate counters beside them)."""
        from lambda_platform.adapters.tables import DynamoRequestKeys

        return DynamoRequestKeys()

    @cached_property
    def campaign_admin_queue(self) -> MessageQueue:
        """Operators' campaign saves and entry reviews."""
        from lambda_platform.adapters.queues import SqsQueue

        return SqsQueue(TOPOLOGY.sqs_queue("campaign-admin"))

    @cached_property
    def codes(self) -> CodeStore:
        """The campaigns' discount codes and their waitlists."""
        from lambda_platform.adapters.codes import DynamoCodes

        return DynamoCodes()

    @cached_property
    def draws(self) -> DrawStore:
        """The campaigns' stored draws."""
        from lambda_platform.adapters.draws import DynamoDraws

        return DynamoDraws()

    @cached_property
    def receipt_index(self) -> ReceiptIndex:
        """The receipt photos' hash bands."""
        from lambda_platform.adapters.receipts import DynamoReceiptIndex

        return DynamoReceiptIndex()

    @cached_property
    def receipt_flags(self) -> ReceiptFlags:
        """The entries' duplicate-receipt flags and photo readiness."""
        from lambda_platform.adapters.receipts import DynamoReceiptFlags

        return DynamoReceiptFlags()

    # --- uploads ----------------------------------------------------------------------------

    @cached_property
    def uploads(self) -> UploadStore:
        """The uploads table."""
        from lambda_platform.adapters.uploads import DynamoUploads

        return DynamoUploads()

    @cached_property
    def upload_signer(self) -> UploadSigner:
        """Presigned POSTs into the media bucket."""
        from lambda_platform.adapters.objects import S3UploadSigner

        return S3UploadSigner(TOPOLOGY.bucket("media").name)

    @cached_property
    def objects(self) -> ObjectStore:
        """The media bucket's objects, as the thumbnail worker reads and writes them."""
        from lambda_platform.adapters.objects import S3Objects

        return S3Objects(TOPOLOGY.bucket("media").name)

    # --- users and emails -------------------------------------------------------------------

    @cached_property
    def users_queue(self) -> MessageQueue:
        """Signups."""
        from lambda_platform.adapters.queues import SqsQueue

        return SqsQueue(TOPOLOGY.sqs_queue("users"))

    @cached_property
    def users(self) -> UserStore:
        """The users table."""
        from lambda_platform.adapters.users import DynamoUsers

        return DynamoUsers()

    @cached_property
    def mailer(self) -> Mailer:
        """SES, from the stage's sender."""
        from lambda_platform.adapters.mail import SesMailer

        return SesMailer()

    @cached_property
    def suppressions(self) -> SuppressionList:
        """The stage's suppression list (and SES's account-level one, where it is on)."""
        from lambda_platform.adapters.email_feedback import DynamoSuppressionList

        return DynamoSuppressionList()

    @cached_property
    def email_events(self) -> EmailEvents:
        """SES's sending events as applied, and their hourly counts."""
        from lambda_platform.adapters.email_feedback import DynamoEmailEvents

        return DynamoEmailEvents()

    @cached_property
    def email_statuses(self) -> EmailStatuses:
        """The entries' and users' `email_status`."""
        from lambda_platform.adapters.email_feedback import DynamoEmailStatuses

        return DynamoEmailStatuses()

    def once(self, context: Any = None) -> Once:
        """Powertools' idempotency on our table: an action at most once per (scope, key)."""
        from lambda_platform.idempotency import once

        return functools.partial(once, context=context)

    def batch_once(self, scope: str, keys: Iterable[str], context: Any = None) -> Once:
        """`once` for one stream batch, whose `keys` in `scope` are read at once."""
        from lambda_platform.idempotency import batch_once

        return batch_once(scope, keys, context)

    # --- the blog ---------------------------------------------------------------------------

    @cached_property
    def blog_queue(self) -> MessageQueue:
        """Articles, their changes and comments."""
        from lambda_platform.adapters.queues import SqsQueue

        return SqsQueue(TOPOLOGY.sqs_queue("blog"))

    @cached_property
    def articles(self) -> ArticleStore:
        """The articles table."""
        from lambda_platform.adapters.blog import DynamoArticles

        return DynamoArticles()

    @cached_property
    def comments(self) -> CommentStore:
        """The comments table."""
        from lambda_platform.adapters.blog import DynamoComments

        return DynamoComments()

    @cached_property
    def comment_topic(self) -> CommentTopic:
        """The comments topic and its subscriptions."""
        from lambda_platform.adapters.notifications import SnsCommentTopic

        return SnsCommentTopic(TOPOLOGY.topic("comments").name)

    @cached_property
    def edge(self) -> EdgeCache:
        """The stage's edge: the local edge's purge on the local stage, CloudFront elsewhere."""
        from lambda_platform.adapters.edge import CloudFrontEdge, LocalEdgePurge

        current = settings.current()
        if current.local:
            return LocalEdgePurge(current.edge_url or settings.LOCAL_EDGE_URL)
        return CloudFrontEdge()

    # --- who may do what, and the to-do app --------------------------------------------------

    @cached_property
    def api_keys(self) -> ApiKeyStore:
        """The API keys (their hashes)."""
        from lambda_platform.adapters.access import DynamoApiKeys

        return DynamoApiKeys()

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        """The public writes' rate counters."""
        from lambda_platform.adapters.rate_limits import DynamoRateLimiter

        return DynamoRateLimiter()

    @cached_property
    def todos_queue(self) -> MessageQueue:
        """To-do writes."""
        from lambda_platform.adapters.queues import SqsQueue

        return SqsQueue(TOPOLOGY.sqs_queue("todos"))

    @cached_property
    def todos(self) -> TodoStore:
        """The to-dos table."""
        from lambda_platform.adapters.todos import DynamoTodos

        return DynamoTodos()

    @cached_property
    def user_files(self) -> UserFiles:
        """Each user's folder in the media bucket."""
        from lambda_platform.adapters.todos import S3UserFiles

        return S3UserFiles(TOPOLOGY.bucket("media").name)

    # --- the local live view ----------------------------------------------------------------

    @cached_property
    def monitor(self) -> FleetMonitor:
        """The live view's reads and replays: given by the local runtime, none elsewhere."""
        raise MissingPort("no live view on this stage: the local runtime gives the API its monitor")


@functools.cache
def port_names() -> frozenset[str]:
    """Every port's name: the attributes `Ports` builds."""
    return frozenset(
        name
        for name, value in vars(Ports).items()
        if not name.startswith("_") and (isinstance(value, cached_property) or callable(value))
    )


#: The settings the process's ports were built under, and those ports.
_built: tuple[settings.Settings, Ports] | None = None


def ports() -> Ports:
    """This process's ports, built anew whenever the settings are (a test's new endpoint)."""
    global _built
    current = settings.current()
    if _built is None or _built[0] is not current:
        _built = (current, Ports())
    return _built[1]


def reset() -> None:
    """Forget this process's ports."""
    global _built
    _built = None
