"""The ports the views use: the boto3 adapters, unless the app's config passes `SERVICES`.

Every port is required. The unit tier and the ingest bench pass in-memory fakes, all of
them built by `fleet.fakes.fake_ports`, overriding the ones a test looks at.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, current_app

from fleet.ports import (
    ApiKeyStore,
    ArticleStore,
    CampaignStore,
    CommentStore,
    CommentTopic,
    FleetMonitor,
    EntryStore,
    MessageQueue,
    RateLimiter,
    RequestKeys,
    SubmissionStore,
    TodoStore,
    UploadSigner,
    UploadStore,
    UserFiles,
)


@dataclass
class Services:
    """Every port a view may need."""

    #: Campaign entries: the queue the Pipe reads, the campaigns and the stored entries.
    submissions_queue: MessageQueue
    campaigns: CampaignStore
    submissions: SubmissionStore
    #: Idempotency-Key records.
    request_keys: RequestKeys
    #: Upload records and the presigned POSTs into the media bucket.
    uploads: UploadStore
    upload_signer: UploadSigner
    #: Signups.
    users_queue: MessageQueue
    #: The blog.
    blog_queue: MessageQueue
    articles: ArticleStore
    comments: CommentStore
    comment_topic: CommentTopic
    #: The local live view's reads and replays (`/_local/dashboard`).
    monitor: FleetMonitor
    #: Who may do what: API keys and the public writes' rate counters.
    api_keys: ApiKeyStore
    rate_limiter: RateLimiter
    #: The to-do app: its queue, its table and each user's folder.
    todos_queue: MessageQueue
    todos: TodoStore
    user_files: UserFiles
    #: Operators' campaign writes (queued) and their reads of a campaign's entries.
    campaign_admin_queue: MessageQueue
    entries: EntryStore


def services() -> Services:
    """The app's services, created on first use."""
    extensions = current_app.extensions
    found = extensions.get("fleet_services")
    if found is None:
        found = extensions["fleet_services"] = current_app.config.get("SERVICES") or _aws_services()
    return found


def prepare(app: Flask) -> None:
    """Build an app's boto3 ports and look their queue URLs up now, so that no request pays
    a GetQueueUrl; an app given `SERVICES` is left alone.

    For a server that is about to serve the app (the local API process), not for
    `create_app`: importing the Lambda entry point creates no AWS client (a cold start
    pays for what it uses, on its first request).
    """
    if app.config.get("SERVICES") is not None:
        return
    from botocore.exceptions import BotoCoreError, ClientError

    from fleet.errors import FleetError

    built = app.extensions["fleet_services"] = _aws_services()
    try:
        queues = (built.submissions_queue, built.users_queue, built.blog_queue, built.todos_queue, built.campaign_admin_queue)
        for queue in queues:
            queue.resolve()  # type: ignore[attr-defined]
    except (FleetError, BotoCoreError, ClientError) as exc:
        # Not provisioned yet, or AWS not reachable: the first send looks its URL up instead.
        logging.getLogger(__name__).warning("queue URLs not looked up at start: %s", exc)


def _aws_services() -> Services:
    """Every port over its boto3 adapter (clients are made on first use, not here)."""
    from fleet import settings
    from fleet.adapters.access import DynamoApiKeys, DynamoRateLimiter, DynamoTodos, S3UserFiles
    from fleet.adapters.monitor import LocalMonitor
    from fleet.adapters.objects import S3UploadSigner
    from fleet.adapters.queues import SqsQueue
    from fleet.adapters.tables import DynamoCampaigns, DynamoRequestKeys, DynamoSubmissions
    from fleet.adapters.blog import DynamoArticles, DynamoComments
    from fleet.adapters.entries import DynamoEntries
    from fleet.adapters.notifications import SnsCommentTopic
    from fleet.adapters.uploads import DynamoUploads

    return Services(
        submissions_queue=SqsQueue("submissions"),
        campaigns=DynamoCampaigns(cache_seconds=settings.current().campaign_cache_seconds),
        submissions=DynamoSubmissions(),
        request_keys=DynamoRequestKeys(),
        uploads=DynamoUploads(),
        upload_signer=S3UploadSigner("media"),
        users_queue=SqsQueue("users"),
        blog_queue=SqsQueue("blog"),
        articles=DynamoArticles(),
        comments=DynamoComments(),
        comment_topic=SnsCommentTopic("comments"),
        monitor=LocalMonitor(),
        api_keys=DynamoApiKeys(),
        rate_limiter=DynamoRateLimiter(),
        todos_queue=SqsQueue("todos"),
        todos=DynamoTodos(),
        user_files=S3UserFiles("media"),
        campaign_admin_queue=SqsQueue("campaign-admin"),
        entries=DynamoEntries(),
    )
