"""The ports the views use: boto3 adapters by default, fakes when a test passes its own."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from fleet.ports import (
    ApiKeyStore,
    ArticleStore,
    CampaignStore,
    CommentStore,
    CommentTopic,
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

    submissions_queue: MessageQueue
    campaigns: CampaignStore
    submissions: SubmissionStore
    request_keys: RequestKeys
    #: Upload records and presigned posts; optional so that other tests need not fake them.
    uploads: UploadStore | None = None
    upload_signer: UploadSigner | None = None
    #: Signups; optional so that tests of other resources need not pass a fake of it.
    users_queue: MessageQueue | None = None
    #: The blog; optional for the same reason.
    blog_queue: MessageQueue | None = None
    articles: ArticleStore | None = None
    comments: CommentStore | None = None
    comment_topic: CommentTopic | None = None
    #: Who may do what: API keys, the public routes' rate counters; optional likewise
    #: (without a rate limiter nothing is counted; without keys, key routes answer 503).
    api_keys: ApiKeyStore | None = None
    rate_limiter: RateLimiter | None = None
    #: The to-do app: its queue, its table and each user's folder.
    todos_queue: MessageQueue | None = None
    todos: TodoStore | None = None
    user_files: UserFiles | None = None


def services() -> Services:
    """The app's services, created on first use."""
    extensions = current_app.extensions
    found = extensions.get("fleet_services")
    if found is None:
        found = extensions["fleet_services"] = current_app.config.get("SERVICES") or _aws_services()
    return found


def _aws_services() -> Services:
    from fleet import settings
    from fleet.adapters.access import DynamoApiKeys, DynamoRateLimiter, DynamoTodos, S3UserFiles
    from fleet.adapters.objects import S3UploadSigner
    from fleet.adapters.queues import SqsQueue
    from fleet.adapters.tables import DynamoCampaigns, DynamoRequestKeys, DynamoSubmissions
    from fleet.adapters.blog import DynamoArticles, DynamoComments
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
        api_keys=DynamoApiKeys(),
        rate_limiter=DynamoRateLimiter(),
        todos_queue=SqsQueue("todos"),
        todos=DynamoTodos(),
        user_files=S3UserFiles("media"),
    )
