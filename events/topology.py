"""The topology: every queue, table, bucket, topic, pipe and function, declared once.

Provisioning, the local runtime, `zappa_settings.json` and post-deploy wiring all read
this module; nothing else may name a queue or a table. Names here are logical; the
physical name of a resource is `fleet-{stage}-{logical}` (see `physical_name`), and
`lambda_platform.resources` is the one place that builds it, refusing a name not declared here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Literal, TypeVar

from events.edge import ApiEdge, CacheBehaviour, Distribution, MethodCache, Site, StaticFiles
from events.permissions import Grant, any_queue, listing, objects, queue, sender, table, topic, unscoped
from events.permissions import distribution as cdn

PROJECT = "fleet"

_Item = TypeVar("_Item")


def project_name(stage: str) -> str:
    """Return the prefix of every resource of one stage (Zappa's `project_name`)."""
    return f"{PROJECT}-{stage}"


def physical_name(stage: str, logical: str) -> str:
    """Return the AWS name of a logical resource in one stage."""
    return f"{project_name(stage)}-{logical}"


class UnknownResource(KeyError):
    """A name that the topology does not declare, for a kind of resource."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        self.kind, self.name, self.known = kind, name, tuple(known)
        super().__init__(kind, name)

    def __str__(self) -> str:
        return f"no {self.kind} named {self.name!r} in the topology (known: {', '.join(self.known) or 'none'})"


@dataclass(frozen=True)
class Queue:
    """An SQS queue and the dead-letter queue that catches what it cannot deliver."""

    name: str
    visibility_timeout: int = 180  # at least six times the consumer's timeout (on AWS, the workers unit's)
    max_receive_count: int = 5
    retention_seconds: int = 4 * 24 * 3600
    dlq_retention_seconds: int = 14 * 24 * 3600
    #: Alarm when the oldest message has waited this long (a consumed queue falling behind).
    oldest_age_alarm_seconds: int = 600

    @property
    def dlq_name(self) -> str:
        """The logical name of this queue's dead-letter queue."""
        return f"{self.name}-dlq"


@dataclass(frozen=True)
class Index:
    """A global secondary index, projecting all attributes."""

    name: str
    partition_key: str
    sort_key: str | None = None


@dataclass(frozen=True)
class Table:
    """A DynamoDB table on demand, keyed by string attributes."""

    name: str
    partition_key: str
    sort_key: str | None = None
    indexes: tuple[Index, ...] = ()
    stream: Literal["NEW_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY", None] = None
    ttl_attribute: str | None = None
    #: Regions that hold a replica (a DynamoDB global table) on AWS stages; none locally.
    replica_regions: tuple[str, ...] = ()

    def index(self, name: str) -> Index:
        """Return the index of this table declared as `name`."""
        return _by_name(self.indexes, name, f"index of table {self.name}")


@dataclass(frozen=True)
class Bucket:
    """An S3 bucket; `notify_prefix` objects are announced on `notify_queue`."""

    name: str
    notify_queue: str | None = None
    notify_prefix: str | None = None
    #: Browsers post to it straight (presigned POSTs): it gets a CORS rule for the web origins.
    browser_uploads: bool = False


@dataclass(frozen=True)
class Topic:
    """An SNS topic."""

    name: str


@dataclass(frozen=True)
class EmailFeedback:
    """The stage's SES configuration set, which every email goes out with, and where its events go.

    SES publishes each email's `event_types` (bounces, complaints, deliveries, rejects) to
    `topic`; `queue` is subscribed to the topic (raw delivery) and feeds the worker that
    suppresses and marks addresses (`workers.email_feedback`).
    """

    configuration_set: str
    topic: str
    queue: str
    event_types: tuple[str, ...] = ("BOUNCE", "COMPLAINT", "DELIVERY", "REJECT")


@dataclass(frozen=True)
class RetryPolicy:
    """How a stream trigger retries a failing batch before giving it up."""

    maximum_retry_attempts: int = 3
    maximum_record_age_seconds: int = 3600
    bisect_on_error: bool = True
    on_failure_queue: str | None = None


@dataclass(frozen=True)
class SqsTrigger:
    """An SQS event source mapping: Lambda polls `queue` and passes `{"Records": [...]}`."""

    queue: str
    batch_size: int = 10
    batching_window_seconds: int = 0
    maximum_concurrency: int = 2
    kind: Literal["sqs"] = "sqs"


@dataclass(frozen=True)
class PipeTrigger:
    """An EventBridge Pipe from `queue` to the function: the event is a bare JSON array."""

    pipe: str
    queue: str
    batch_size: int = 10
    batching_window_seconds: int = 1
    kind: Literal["pipe"] = "pipe"


@dataclass(frozen=True)
class StreamTrigger:
    """A DynamoDB Streams event source mapping on `table`."""

    table: str
    batch_size: int = 100
    batching_window_seconds: int = 0
    starting_position: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    kind: Literal["stream"] = "stream"


Trigger = SqsTrigger | PipeTrigger | StreamTrigger


@dataclass(frozen=True)
class ApiPlan:
    """The API's usage plan: one API key for clients, throttled and with a quota."""

    name: str = "api"
    rate_limit: float = 200.0  # steady requests per second, over all keys of the plan
    burst_limit: int = 500
    quota_limit: int = 2_000_000
    quota_period: Literal["DAY", "WEEK", "MONTH"] = "DAY"


@dataclass(frozen=True)
class Function:
    """A worker: a handler named by dotted path, as Lambda and Zappa name it.

    On AWS a Function is not a Lambda function of its own: every Function runs inside the
    one Lambda function of the `workers` deploy unit (`Topology.workers`), whose entry
    point routes each event by its source to the Function fed from there. That Lambda
    function gets the largest timeout and memory of all Functions.
    """

    name: str
    handler: str
    triggers: tuple[Trigger, ...]
    timeout_seconds: int = 30
    memory_mb: int = 512
    #: What its code does to the declared resources (what its triggers need is derived from them).
    grants: tuple[Grant, ...] = ()


@dataclass(frozen=True)
class DeployUnit:
    """A Lambda function that Zappa deploys: one Zappa stage of the same name.

    Zappa names the function `{project_name}-{zappa stage}`, which is the unit's physical
    name, `fleet-{stage}-{name}`. It runs a WSGI app (`app_function`) or a Lambda handler
    (`lambda_handler`), named by dotted path.
    """

    name: str
    app_function: str | None = None
    lambda_handler: str | None = None
    #: None: the largest that any Function of the topology declares (the workers unit runs them all).
    memory_mb: int | None = None
    timeout_seconds: int | None = None
    #: What its code does to the declared resources; the workers unit's are its Functions'.
    grants: tuple[Grant, ...] = ()


@dataclass(frozen=True)
class Topology:
    """Everything Fleet runs on, in one value."""

    queues: tuple[Queue, ...]
    tables: tuple[Table, ...]
    buckets: tuple[Bucket, ...]
    topics: tuple[Topic, ...]
    functions: tuple[Function, ...]
    #: The API's Lambda function, behind API Gateway.
    api: DeployUnit
    #: The one Lambda function that runs every Function above.
    workers: DeployUnit
    api_plan: ApiPlan = ApiPlan()
    #: The IAM role that the pipes assume: read their queues, invoke the workers function.
    pipes_role: str = "pipes"
    #: Where Zappa uploads the deploy zips (its `s3_bucket`); Zappa creates it, not provisioning.
    deploy_bucket: str = "deploy"
    #: The static site and the CloudFront distribution in front of it and of the API.
    site: Site | None = None
    #: API Gateway's endpoint type and stage cache.
    api_edge: ApiEdge = field(default_factory=ApiEdge)
    #: The SES configuration set of every email, and the path its sending events take back.
    email_feedback: EmailFeedback | None = None

    def queue(self, name: str) -> Queue:
        """Return the queue declared as `name`."""
        return _by_name(self.queues, name, "queue")

    def queue_names(self) -> tuple[str, ...]:
        """Every queue's logical name, each followed by its dead-letter queue's."""
        return tuple(n for q in self.queues for n in (q.name, q.dlq_name))

    def sqs_queue(self, name: str) -> str:
        """Return `name` when it is a declared queue or the dead-letter queue of one."""
        if name not in self.queue_names():
            raise UnknownResource("queue", name, self.queue_names())
        return name

    def table(self, name: str) -> Table:
        """Return the table declared as `name`."""
        return _by_name(self.tables, name, "table")

    def bucket(self, name: str) -> Bucket:
        """Return the bucket declared as `name`."""
        return _by_name(self.buckets, name, "bucket")

    def topic(self, name: str) -> Topic:
        """Return the topic declared as `name`."""
        return _by_name(self.topics, name, "topic")

    def function(self, name: str) -> Function:
        """Return the function declared as `name`."""
        return _by_name(self.functions, name, "function")

    def unit(self, name: str) -> DeployUnit:
        """Return the deploy unit (Lambda function) declared as `name`."""
        return _by_name((self.api, self.workers), name, "deploy unit")

    def pipe(self, name: str) -> PipeTrigger:
        """Return the pipe declared as `name`."""
        return _by_name([t for _f, t in self.pipes()], name, "pipe", key=lambda t: t.pipe)

    def pipes(self) -> list[tuple[Function, PipeTrigger]]:
        """Every pipe with the function it feeds."""
        return [(f, t) for f in self.functions for t in f.triggers if isinstance(t, PipeTrigger)]

    def on_failure_queues(self) -> set[str]:
        """The queues where stream triggers park their failures."""
        return {
            t.retry.on_failure_queue
            for f in self.functions
            for t in f.triggers
            if isinstance(t, StreamTrigger) and t.retry.on_failure_queue
        }

    def on_failure_function(self, queue: str) -> str | None:
        """The function whose stream trigger parks its failures on `queue`, or None."""
        for function in self.functions:
            for trigger in function.triggers:
                if isinstance(trigger, StreamTrigger) and trigger.retry.on_failure_queue == queue:
                    return function.name
        return None

    def validate(self) -> None:
        """Raise when a name is declared twice (ValueError) or names nothing declared (UnknownResource)."""
        for kind, names in (
            ("queue", self.queue_names()),
            ("table", [t.name for t in self.tables]),
            ("bucket", [b.name for b in self.buckets]),
            ("topic", [t.name for t in self.topics]),
            ("function", [f.name for f in self.functions]),
            ("pipe", [t.pipe for _f, t in self.pipes()]),
            ("deploy unit", [self.api.name, self.workers.name]),
        ):
            twice = sorted({n for n in names if list(names).count(n) > 1})
            if twice:
                raise ValueError(f"{kind} declared twice in the topology: {', '.join(twice)}")
        for function in self.functions:
            for trigger in function.triggers:
                if isinstance(trigger, (SqsTrigger, PipeTrigger)):
                    self.queue(trigger.queue)
                else:
                    table = self.table(trigger.table)
                    if table.stream is None:
                        raise ValueError(f"table {table.name} has no stream for {function.name}")
                    if trigger.retry.on_failure_queue:
                        self.queue(trigger.retry.on_failure_queue)
        for bucket in self.buckets:
            if bucket.notify_queue:
                self.queue(bucket.notify_queue)
        if self.email_feedback is not None:
            self.topic(self.email_feedback.topic)
            self.queue(self.email_feedback.queue)


def _by_name(items: Sequence[_Item], name: str, kind: str, key: Callable[[_Item], str] = attrgetter("name")) -> _Item:
    for item in items:
        if key(item) == name:
            return item
    raise UnknownResource(kind, name, [key(item) for item in items])


TOPOLOGY = Topology(
    queues=(
        # Campaign entries: API -> this queue -> the submissions pipe -> workers.submissions.
        Queue("submissions", visibility_timeout=360, max_receive_count=5),
        # S3 ObjectCreated under uploads/ -> this queue -> workers.thumbnails.
        Queue("uploads", visibility_timeout=360, max_receive_count=5),
        # Signups: API -> this queue -> workers.users.
        Queue("users", visibility_timeout=360, max_receive_count=5),
        # On-failure destinations of the stream triggers: where a stream record that
        # exhausted its retries is described, so that it can be replayed.
        Queue("welcome-failures"),
        Queue("confirmations-failures"),
        # Blog writes: articles and comments, API -> this queue -> workers.blog.
        Queue("blog", visibility_timeout=360, max_receive_count=5),
        Queue("comment-notifications-failures"),
        # To-do writes (create, update, delete): API -> this queue -> workers.todos.
        Queue("todos", visibility_timeout=360, max_receive_count=5),
        # Operators' campaign writes (create or update a campaign, review an entry):
        # admin API -> this queue -> workers.campaign_admin.
        Queue("campaign-admin", visibility_timeout=360, max_receive_count=5),
        # SES's sending events (bounces, complaints, deliveries): the email-feedback topic ->
        # this queue -> workers.email_feedback.
        Queue("email-feedback", visibility_timeout=360, max_receive_count=5),
    ),
    tables=(
        # Read on every entry and rarely written: replicated, so a region's API reads locally.
        Table("campaigns", partition_key="campaign_id", replica_regions=("us-west-2",)),
        Table(
            "submissions",
            partition_key="submission_id",
            indexes=(
                Index("by_campaign", partition_key="campaign_id", sort_key="received_at"),
                # The entry that sent a photo, found when its thumbnails and hash are ready.
                Index("by_upload", partition_key="upload_key"),
                # Sparse: only waitlisted entries carry `waitlisted_in` (their campaign id),
                # so a campaign's waitlist is one Query, oldest first.
                Index("waitlist", partition_key="waitlisted_in", sort_key="received_at"),
                # The entries of an address, marked when SES reports a bounce or a complaint.
                Index("by_email", partition_key="email_lower"),
            ),
            stream="NEW_IMAGE",
        ),
        # Perceptual hashes of entries' photos, one item per band of the hash:
        # band = "{campaign_id}#{band number}#{band value}", so the entries whose photo
        # shares a band with a new one are one Query per band, never a Scan.
        Table("receipt_bands", partition_key="band", sort_key="submission_id"),
        # Discount codes of each campaign. A code still in the pool carries `pool` (its
        # campaign id) and `pool_order` (import order), so the sparse `available` index
        # hands them out oldest first; giving one removes `pool` with a conditional write.
        Table(
            "codes",
            partition_key="campaign_id",
            sort_key="code",
            indexes=(Index("available", partition_key="pool", sort_key="pool_order"),),
        ),
        # Draws of each campaign by seed: the seed, the eligible entries' count and digest, the winners.
        Table("draws", partition_key="campaign_id", sort_key="seed"),
        # One item per entry slot of an email in a campaign: a conditional write on it is
        # what makes the entries-per-email rule hold under concurrent workers.
        Table("entry_claims", partition_key="claim_id"),
        # Idempotency-Key headers seen by the API, with the request they answered.
        Table("request_keys", partition_key="request_key", ttl_attribute="expires_at"),
        Table("uploads", partition_key="upload_id"),
        Table("users", partition_key="user_id", stream="NEW_IMAGE"),
        # Powertools' idempotency records: one per email sent, so none is sent twice.
        Table("idempotency", partition_key="id", ttl_attribute="expiration"),
        # The local runtime's stream checkpoints ("{function}#{shard}" -> last sequence
        # number done), so a restarted runtime resumes where it stopped. Lambda keeps its
        # own on AWS; only the local stage writes here.
        Table("checkpoints", partition_key="shard_key"),
        # Articles; published ones also carry feed = "published" and feed_key =
        # "{published_at}#{article_id}", so the sparse `feed` index lists them newest first.
        # Replicated like campaigns (far more reads than writes, no stream consumer). Comments
        # and users are not: their stream INSERTs would reach the consumers of every region,
        # one email or notification per region.
        Table(
            "articles",
            partition_key="article_id",
            indexes=(Index("feed", partition_key="feed", sort_key="feed_key"),),
            replica_regions=("us-west-2",),
        ),
        Table(
            "comments",
            partition_key="comment_id",
            indexes=(Index("by_article", partition_key="article_id", sort_key="created_at"),),
            stream="NEW_IMAGE",
        ),
        # Each user's to-dos, keyed by the token's subject: a user's list is one Query.
        Table("todos", partition_key="owner", sort_key="todo_id"),
        # API keys by the sha256 of the key (the key itself is never stored).
        Table("api_keys", partition_key="key_hash"),
        # The suppression list, by lower-cased address: why and when, and who lifted it.
        Table("suppressions", partition_key="address"),
        # SES's sending events as applied, one item per (email, event, recipient), so a
        # redelivered one changes nothing; and the hourly counts behind the bounce and
        # complaint rates (message_id "hour#{YYYY-MM-DDTHH}", event "counts").
        Table("email_events", partition_key="message_id", sort_key="event", ttl_attribute="expires_at"),
        # Fixed-window request counters of the public routes ("{scope}#{window}"), shared by
        # every API process; TTL removes old windows on AWS (moto keeps them: harmless).
        Table("rate_limits", partition_key="counter", ttl_attribute="expires_at"),
    ),
    buckets=(
        Bucket("media", notify_queue="uploads", notify_prefix="uploads/", browser_uploads=True),
        # The static site: private, read only by the distribution (Origin Access Control).
        Bucket("site"),
    ),
    topics=(
        Topic("comments"),
        # CloudWatch alarms notify here (and FLEET_ALARM_EMAIL, when set, by email).
        Topic("alarms"),
        # The SES configuration set publishes every email's bounces, complaints and deliveries here.
        Topic("email-feedback"),
    ),
    # Campaign bursts reach thousands of entries a minute (tens a second); the plan leaves
    # room above that and stops a runaway client long before it costs real money.
    api_plan=ApiPlan("api", rate_limit=200.0, burst_limit=500, quota_limit=2_000_000, quota_period="DAY"),
    functions=(
        Function(
            "submissions",
            handler="workers.submissions.handler",
            grants=(
                table("campaigns", "dynamodb:GetItem"),
                # Which of a batch's entries are stored already; all of a batch's new ones at once.
                table("submissions", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"),
                # One slot per entry an email may take in a campaign, claimed with a conditional put.
                table("entry_claims", "dynamodb:BatchGetItem", "dynamodb:PutItem"),
            ),
            triggers=(PipeTrigger(pipe="submissions", queue="submissions", batch_size=10),),
            timeout_seconds=30,
        ),
        # Uploads: the media bucket notifies the uploads queue (see Bucket("media")).
        # Decoding a 50-megapixel PNG needs room: 1 GiB, and a minute at most.
        Function(
            "thumbnails",
            handler="workers.thumbnails.handler",
            grants=(
                # Read what was uploaded (HeadObject is GetObject to IAM); a move is a copy, then a delete.
                objects("media", ("uploads/",), "s3:GetObject", "s3:DeleteObject"),
                objects("media", ("thumbnails/", "quarantine/"), "s3:PutObject"),
                table("uploads", "dynamodb:GetItem", "dynamodb:UpdateItem"),
                # The entries that sent a photo, touched when it is ready.
                table("submissions", "dynamodb:Query", "dynamodb:UpdateItem", indexes=("by_upload",)),
            ),
            triggers=(SqsTrigger(queue="uploads", batch_size=5),),
            timeout_seconds=60,
            memory_mb=1024,
        ),
        Function(
            "users",
            handler="workers.users.handler",
            grants=(table("users", "dynamodb:PutItem"),),
            triggers=(SqsTrigger(queue="users", batch_size=10),),
            timeout_seconds=30,
        ),
        # Emails: one per stream INSERT, at most once per user or entry (idempotency table).
        Function(
            "welcome",
            handler="workers.welcome.handler",
            grants=(
                # Powertools' idempotency records, read for a whole batch at once.
                table(
                    "idempotency",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:BatchGetItem",
                ),
                sender("ses:SendEmail", configuration_set="emails"),
                # Nothing goes to a suppressed address (the batch's addresses read at once); the user says so.
                table("suppressions", "dynamodb:BatchGetItem"),
                table("users", "dynamodb:UpdateItem"),
            ),
            triggers=(
                StreamTrigger(
                    table="users",
                    batch_size=25,
                    retry=RetryPolicy(maximum_retry_attempts=3, on_failure_queue="welcome-failures"),
                ),
            ),
            timeout_seconds=30,
        ),
        Function(
            "confirmations",
            handler="workers.confirmations.handler",
            grants=(
                table("campaigns", "dynamodb:GetItem"),
                table("uploads", "dynamodb:BatchGetItem"),
                # A code leaves the pool and reaches its entry in one transaction (two UpdateItems);
                # the waitlist, a duplicate receipt's flag and leaving the waitlist when flagged are updates of the entry too.
                table("codes", "dynamodb:Query", "dynamodb:UpdateItem", indexes=("available",)),
                table("submissions", "dynamodb:UpdateItem"),
                table("receipt_bands", "dynamodb:BatchWriteItem", "dynamodb:Query"),
                # Powertools' idempotency records, read for a whole batch at once.
                table(
                    "idempotency",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:BatchGetItem",
                ),
                sender("ses:SendEmail", configuration_set="emails"),
                # Nothing goes to a suppressed address (the batch's addresses read at once).
                table("suppressions", "dynamodb:BatchGetItem"),
            ),
            triggers=(
                StreamTrigger(
                    table="submissions",
                    batch_size=25,
                    retry=RetryPolicy(maximum_retry_attempts=3, on_failure_queue="confirmations-failures"),
                ),
            ),
            timeout_seconds=30,
        ),
        Function(
            "blog",
            handler="workers.blog.handler",
            grants=(
                table("articles", "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"),
                # A comment is looked up first: a redelivered one is known, and keeps its status.
                table("comments", "dynamodb:PutItem", "dynamodb:GetItem"),
                cdn("cloudfront:CreateInvalidation"),
                unscoped(
                    "cloudfront:ListDistributions",
                    why="finds the stage's distribution by its comment; CloudFront scopes no List action to a resource",
                ),
            ),
            triggers=(SqsTrigger(queue="blog", batch_size=10),),
            timeout_seconds=30,
        ),
        # Comment notifications: one SNS publish per stored comment, at most once per comment id.
        Function(
            "comment_notifications",
            handler="workers.comment_notifications.handler",
            grants=(
                # Powertools' idempotency records, read for a whole batch at once.
                table(
                    "idempotency",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:BatchGetItem",
                ),
                topic("comments", "sns:Publish"),
            ),
            triggers=(
                StreamTrigger(
                    table="comments",
                    batch_size=25,
                    retry=RetryPolicy(maximum_retry_attempts=3, on_failure_queue="comment-notifications-failures"),
                ),
            ),
            timeout_seconds=30,
        ),
        Function(
            "todos",
            handler="workers.todos.handler",
            grants=(table("todos", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),),
            triggers=(SqsTrigger(queue="todos", batch_size=10),),
            timeout_seconds=30,
        ),
        Function(
            "campaign_admin",
            handler="workers.campaign_admin.handler",
            grants=(
                table("campaigns", "dynamodb:PutItem", "dynamodb:GetItem"),
                # An entry's review: one conditional update.
                table("submissions", "dynamodb:UpdateItem"),
            ),
            triggers=(SqsTrigger(queue="campaign-admin", batch_size=10),),
            timeout_seconds=30,
        ),
        # SES's bounces, complaints and deliveries: suppress the address, mark its entries and user.
        Function(
            "email_feedback",
            handler="workers.email_feedback.handler",
            grants=(
                # A conditional update; a refused one is read back (already on the list, or lifted since).
                table("suppressions", "dynamodb:UpdateItem", "dynamodb:GetItem"),
                # Each event applied once, and counted, in one transaction (a put and an update).
                table("email_events", "dynamodb:PutItem", "dynamodb:UpdateItem"),
                table("submissions", "dynamodb:Query", "dynamodb:UpdateItem", indexes=("by_email",)),
                table("users", "dynamodb:UpdateItem"),
                unscoped(
                    "ses:PutSuppressedDestination",
                    why="SESv2 scopes the account-level suppression list to no resource",
                ),
            ),
            triggers=(SqsTrigger(queue="email-feedback", batch_size=10),),
            timeout_seconds=30,
        ),
    ),
    # What Zappa deploys, one Zappa stage each (zappa_settings.json is rendered from these).
    # API Gateway gives up on a request at about 29 s.
    api=DeployUnit(
        "api",
        app_function="ingest_api.wsgi.app",
        memory_mb=512,
        timeout_seconds=29,
        # It validates and queues: it writes nothing but the queues, the Idempotency-Key
        # records, the rate counters, the upload records and a campaign's one draw.
        grants=(
            queue("submissions", "sqs:SendMessage", "sqs:GetQueueUrl"),
            queue("users", "sqs:SendMessage", "sqs:GetQueueUrl"),
            queue("blog", "sqs:SendMessage", "sqs:GetQueueUrl"),
            queue("todos", "sqs:SendMessage", "sqs:GetQueueUrl"),
            queue("campaign-admin", "sqs:SendMessage", "sqs:GetQueueUrl"),
            # A campaign; every campaign for a key that reaches them all (a small table).
            table("campaigns", "dynamodb:GetItem", "dynamodb:Scan"),
            # An entry's status, and a campaign's entries (and its waitlist) for its operators.
            table("submissions", "dynamodb:GetItem", "dynamodb:Query", indexes=("by_campaign", "waitlist")),
            # A key's first request is a conditional put, with the rate counters in one transaction.
            table("request_keys", "dynamodb:GetItem", "dynamodb:PutItem"),
            table("rate_limits", "dynamodb:UpdateItem"),
            # A listed page's thumbnails in one BatchGetItem.
            table("uploads", "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:BatchGetItem"),
            # The admin API's outcome: the code pool's counts, the waitlist's, the draw run once.
            table("codes", "dynamodb:Query", indexes=("available",), and_table=True),
            table("draws", "dynamodb:GetItem", "dynamodb:PutItem"),
            table("articles", "dynamodb:GetItem", "dynamodb:Query", indexes=("feed",)),
            table("comments", "dynamodb:GetItem", "dynamodb:Query", indexes=("by_article",)),
            table("todos", "dynamodb:GetItem", "dynamodb:Query"),
            table("api_keys", "dynamodb:GetItem"),
            # Presigned POSTs are signed with this role: S3 takes an upload only where it may put.
            objects("media", ("uploads/", "users/"), "s3:PutObject"),
            # Presigned GETs of the thumbnails (operators) and of a user's own files (HeadObject too).
            objects("media", ("thumbnails/", "users/"), "s3:GetObject"),
            listing("media", ("users/",)),
            topic("comments", "sns:Subscribe"),
            # An email subscription to an address on the suppression list is refused.
            table("suppressions", "dynamodb:BatchGetItem"),
            unscoped(
                "sns:Unsubscribe",
                "sns:GetSubscriptionAttributes",
                why="SNS scopes actions on a subscription to no resource; the API checks it is its article's",
            ),
            any_queue(
                "sqs:GetQueueUrl",
                why="a subscriber's own queue, named by its ARN, is checked to exist before subscribing it",
            ),
        ),
    ),
    workers=DeployUnit("workers", lambda_handler="lambda_platform.entry.lambda_handler"),
    pipes_role="pipes",
    deploy_bucket="deploy",
    site=Site(
        files=(
            # The entry page, the same files for every campaign (served at /c/{id}).
            StaticFiles("ingest_api/web", prefix="web/", max_age_seconds=60),
            # The blog's pages, which call the REST API.
            StaticFiles("site/blog", prefix="blog/", max_age_seconds=60),
            # The review console for campaign staff: its calls carry a key, so never cached.
            StaticFiles("site/admin", prefix="admin/", no_store=True),
            # Large downloads (the software-update case): a surge hits the cache, not S3.
            StaticFiles("site/downloads", prefix="downloads/", max_age_seconds=3600),
        ),
        distribution=Distribution(
            "site",
            site_bucket="site",
            behaviours=(
                # The API: GET and HEAD cached as the origin's Cache-Control says, within
                # these bounds; the query strings that select a page are in the key.
                CacheBehaviour(
                    "/v1/*",
                    origin="api",
                    min_ttl=0,
                    default_ttl=0,
                    max_ttl=300,
                    query_strings=("limit", "cursor", "status", "flagged", "reviewed", "format"),
                    allowed_methods=("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"),
                ),
                # Every campaign's entry page is one object.
                CacheBehaviour("/c/*", origin="site", default_ttl=60, max_ttl=300, rewrite="/web/entry.html"),
                CacheBehaviour("/blog/", origin="site", default_ttl=60, max_ttl=300, rewrite="/blog/index.html"),
                CacheBehaviour("/blog/a/*", origin="site", default_ttl=60, max_ttl=300, rewrite="/blog/article.html"),
                # The review console: never stored (its TTLs are all 0), at /admin/ as its index.
                CacheBehaviour("/admin/", origin="site", rewrite="/admin/index.html"),
                CacheBehaviour("/admin/*", origin="site"),
                CacheBehaviour("/downloads/*", origin="site", default_ttl=3600, max_ttl=86400),
                CacheBehaviour("*", origin="site", default_ttl=60, max_ttl=3600),
            ),
        ),
    ),
    email_feedback=EmailFeedback("emails", topic="email-feedback", queue="email-feedback"),
    api_edge=ApiEdge(
        endpoint_type="EDGE",
        cache_size_gb="0.5",
        cache_encrypted=True,
        cached_gets=(
            MethodCache("/v1/articles", ttl_seconds=5, query_strings=("limit", "cursor")),
            MethodCache("/v1/articles/{article_id}", ttl_seconds=60),
            MethodCache("/v1/articles/{article_id}/comments", ttl_seconds=10, query_strings=("limit", "cursor")),
            MethodCache("/v1/campaigns/{campaign_id}", ttl_seconds=60),
        ),
    ),
)
