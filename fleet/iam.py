"""Every principal's least-privilege IAM policy, rendered from the topology.

Four principals, each with one policy:

- `api`: the API function's execution role, from the API unit's grants;
- `workers`: the workers function's execution role, the union of its Functions' grants
  (they run in one Lambda function on AWS) and of what their triggers need: an SQS
  mapping reads its queue, a stream mapping its table's stream and sends failures to its
  on-failure queue;
- `pipes`: the role the pipes assume: each reads its queue and invokes the workers function;
- `operator`: who provisions, deploys and operates the stage (`fleet provision`, `fleet
  wire`, `zappa deploy`, `fleet publish`, and the `campaigns`, `keys`, `status` and
  `replay` commands).

Every action is exact, and every resource is one of the stage's exact ARNs (S3 by key
prefix). Where AWS has no resource-level permission for an action, the statement carries
`Resource: "*"`, and the grant behind it says why (`events.permissions.unscoped`);
`unscoped_reasons` lists them for a reviewer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from events.permissions import BASE_TABLE, Grant, table, unscoped
from events.topology import (
    TOPOLOGY,
    PipeTrigger,
    SqsTrigger,
    StreamTrigger,
    Topology,
    physical_name,
    project_name,
)

#: Who assumes each execution role.
LAMBDA_SERVICE = "lambda.amazonaws.com"
PIPES_SERVICE = "pipes.amazonaws.com"
#: The principal who provisions, deploys and operates a stage (the others are named by the topology).
OPERATOR = "operator"

#: What an SQS event source mapping does with the function's role (AWSLambdaSQSQueueExecutionRole).
QUEUE_CONSUMER = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
#: What a DynamoDB stream mapping does with the function's role (AWSLambdaDynamoDBExecutionRole).
STREAM_READER = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
#: The reads that reach a table's index rather than the table (IAM checks them on the index's ARN).
INDEX_READS = {"dynamodb:Query", "dynamodb:Scan"}
#: What every Lambda function writes: its logs, and its traces when tracing is on.
LOGS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
TRACING = unscoped("xray:PutTraceSegments", "xray:PutTelemetryRecords", why="X-Ray scopes no action to a resource")
LIST_STREAMS = unscoped("dynamodb:ListStreams", why="DynamoDB's ListStreams is not scoped to a stream")


@dataclass(frozen=True)
class StageFacts:
    """What a policy's ARNs need beyond the topology: where the stage lives and its sender."""

    stage: str
    region: str
    account: str
    #: The address the stage sends from (`FLEET_SENDER`, display name or not).
    sender: str
    #: The site's distribution, once provisioning has made it (its ARN needs the id).
    distribution_id: str | None = None

    @property
    def partition(self) -> str:
        """The AWS partition of the region (`aws`, `aws-cn`, `aws-us-gov`)."""
        if self.region.startswith("cn-"):
            return "aws-cn"
        return "aws-us-gov" if self.region.startswith("us-gov-") else "aws"


@dataclass(frozen=True)
class Principal:
    """One principal of a stage: its IAM name, who may assume it, its policy."""

    key: str
    #: The role's name (for the operator: the name of its policy, to attach to a person's identity).
    name: str
    #: The service that assumes the role; None for the operator, a person's identity.
    service: str | None
    policy: dict[str, Any]
    #: Why each statement on `*` (or on ids made later) reaches that, by Sid.
    unscoped: dict[str, str] = field(default_factory=dict)

    def trust_policy(self, also: Iterable[str] = ()) -> dict[str, Any]:
        """Who may assume the role: its service (and, locally, `also`: the ARNs of those who stand in for it)."""
        principal: dict[str, Any] = {"Service": self.service}
        extra = sorted(also)
        if extra:
            principal["AWS"] = extra if len(extra) > 1 else extra[0]
        return {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        }


class Arns:
    """The ARNs of one stage's declared resources."""

    def __init__(self, facts: StageFacts) -> None:
        self.facts = facts
        self._prefix = f"arn:{facts.partition}"

    def name(self, logical: str) -> str:
        """The physical name of a logical resource in the stage."""
        return physical_name(self.facts.stage, logical)

    def regional(self, service: str, rest: str) -> str:
        """An ARN of the stage's region and account."""
        return self._regional(service, rest)

    def _regional(self, service: str, rest: str) -> str:
        return f"{self._prefix}:{service}:{self.facts.region}:{self.facts.account}:{rest}"

    def table(self, logical: str) -> str:
        """A table's ARN."""
        return self._regional("dynamodb", f"table/{self.name(logical)}")

    def index(self, logical: str, index: str) -> str:
        """One index of a table."""
        return f"{self.table(logical)}/index/{index}"

    def stream(self, logical: str) -> str:
        """Every stream of a table (a table gets a new stream ARN when its stream is turned on again)."""
        return f"{self.table(logical)}/stream/*"

    def queue(self, logical: str) -> str:
        """A queue's ARN."""
        return self._regional("sqs", self.name(logical))

    def any_queue(self) -> str:
        """Every queue of the stage's account and region."""
        return self._regional("sqs", "*")

    def bucket(self, logical: str) -> str:
        """A bucket's ARN (bucket names are global: no region, no account)."""
        return f"{self._prefix}:s3:::{self.name(logical)}"

    def objects(self, logical: str, prefix: str) -> str:
        """The objects of a bucket under a key prefix."""
        return f"{self.bucket(logical)}/{prefix}*"

    def topic(self, logical: str) -> str:
        """A topic's ARN."""
        return self._regional("sns", self.name(logical))

    def identities(self) -> list[str]:
        """The sender's SES identities: its address and its domain (SES authorizes against the one verified)."""
        address = parseaddr(self.facts.sender)[1]
        domain = address.rpartition("@")[2]
        return [self._regional("ses", f"identity/{address}"), self._regional("ses", f"identity/{domain}")]

    def configuration_set(self, logical: str) -> str:
        """An SES configuration set's ARN."""
        return self._regional("ses", f"configuration-set/{self.name(logical)}")

    def distribution(self) -> str | None:
        """The site's distribution, once made."""
        if self.facts.distribution_id is None:
            return None
        return f"{self._prefix}:cloudfront::{self.facts.account}:distribution/{self.facts.distribution_id}"

    def function(self, unit: str) -> str:
        """A deploy unit's Lambda function."""
        return self._regional("lambda", f"function:{self.name(unit)}")

    def log_group(self, unit: str) -> str:
        """The log group Lambda writes a deploy unit's logs to, and its streams."""
        return self._regional("logs", f"log-group:/aws/lambda/{self.name(unit)}:*")

    def role(self, logical: str) -> str:
        """An IAM role of the stage (IAM is global: no region)."""
        return f"{self._prefix}:iam::{self.facts.account}:role/{self.name(logical)}"

    def pipe(self, logical: str) -> str:
        """An EventBridge pipe."""
        return self._regional("pipes", f"pipe/{self.name(logical)}")


# --- statements -----------------------------------------------------------------------------


@dataclass
class _Statement:
    actions: set[str]
    resources: list[str]
    condition: dict[str, Any] | None = None
    why: str = ""


class _Policy:
    """Statements keyed by what they reach, so that grants on the same resources merge."""

    def __init__(self) -> None:
        self._statements: dict[str, _Statement] = {}

    def allow(
        self, sid: str, actions: Iterable[str], resources: list[str], condition: dict[str, Any] | None = None, why: str = ""
    ) -> None:
        """Allow `actions` on `resources` (under `condition`), merged into the statement `sid`;
        `why` says why a resource is wider than one the stage names (an id made later)."""
        found = self._statements.get(sid)
        if found is None:
            self._statements[sid] = _Statement(set(actions), list(resources), condition, why)
            return
        if found.resources != resources or found.condition != condition:
            raise ValueError(f"statement {sid} reaches other resources in two grants")
        found.actions.update(actions)

    def unscoped(self, grant: Grant) -> None:
        """Allow a grant's actions on `*`, keeping why (one statement per service and reason)."""
        service = _sid_part(sorted(grant.actions)[0].split(":")[0])
        sid = f"Unscoped{service}"
        number = 1
        while sid in self._statements and self._statements[sid].why != grant.why:
            number += 1
            sid = f"Unscoped{service}{number}"
        self.allow(sid, grant.actions, ["*"], why=grant.why)

    def document(self) -> dict[str, Any]:
        """The policy document, statements and their actions and resources in a stable order."""
        statements = []
        for sid in sorted(self._statements):
            found = self._statements[sid]
            statement: dict[str, Any] = {
                "Sid": sid,
                "Effect": "Allow",
                "Action": sorted(found.actions),
                "Resource": found.resources[0] if len(found.resources) == 1 else found.resources,
            }
            if found.condition:
                statement["Condition"] = found.condition
            statements.append(statement)
        return {"Version": "2012-10-17", "Statement": statements}

    def reasons(self) -> dict[str, str]:
        """Why each statement on `*`, or on ids made later, reaches that, by Sid."""
        return {sid: s.why for sid, s in sorted(self._statements.items()) if s.why}


def _sid_part(text: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^A-Za-z0-9]+", text) if word)


def _add_grant(policy: _Policy, grant: Grant, arns: Arns) -> None:
    """One grant as a statement of `policy` (or merged into the one that reaches the same resources)."""
    if grant.kind == "table":
        assert grant.name is not None
        # Named indexes take the reads that reach an index (a Query, a Scan), and the table the rest.
        on_index = {a for a in grant.actions if a in INDEX_READS} if grant.parts else set()
        on_table = [a for a in grant.actions if a not in on_index]
        if on_table:
            policy.allow("Table" + _sid_part(grant.name), on_table, [arns.table(grant.name)])
        for index in grant.parts:
            if index == BASE_TABLE:
                policy.allow("Table" + _sid_part(grant.name), on_index, [arns.table(grant.name)])
            else:
                policy.allow("Index" + _sid_part(grant.name) + _sid_part(index), on_index, [arns.index(grant.name, index)])
    elif grant.kind == "queue":
        assert grant.name is not None
        policy.allow("Queue" + _sid_part(grant.name), grant.actions, [arns.queue(grant.name)])
    elif grant.kind == "objects":
        assert grant.name is not None
        resources = [arns.objects(grant.name, p) for p in grant.parts]
        policy.allow("Objects" + _sid_part(grant.name) + _sid_part(" ".join(grant.parts)), grant.actions, resources)
    elif grant.kind == "listing":
        assert grant.name is not None
        condition = {"StringLike": {"s3:prefix": [f"{p}*" for p in grant.parts]}}
        policy.allow("List" + _sid_part(grant.name), grant.actions, [arns.bucket(grant.name)], condition)
    elif grant.kind == "topic":
        assert grant.name is not None
        policy.allow("Topic" + _sid_part(grant.name), grant.actions, [arns.topic(grant.name)])
    elif grant.kind == "sender":
        policy.allow("Sender", grant.actions, [*arns.identities(), *(arns.configuration_set(c) for c in grant.parts)])
    elif grant.kind == "distribution":
        found = arns.distribution()
        if found is not None:  # before provisioning has made it, nobody may reach it
            policy.allow("Distribution", grant.actions, [found])
    elif grant.kind == "any_queue":
        sid = "AnyQueue" + _sid_part("".join(a.split(":")[1] for a in grant.actions))
        policy.allow(sid, grant.actions, [arns.any_queue()], why=grant.why)
    else:
        policy.unscoped(grant)


def _function_basics(policy: _Policy, unit: str, arns: Arns) -> None:
    policy.allow("Logs", LOGS, [arns.log_group(unit)])
    policy.unscoped(TRACING)


def api_policy(topology: Topology, arns: Arns) -> _Policy:
    """The API function's policy: its unit's grants, its logs and traces."""
    policy = _Policy()
    for grant in topology.api.grants:
        _add_grant(policy, grant, arns)
    _function_basics(policy, topology.api.name, arns)
    return policy


def workers_policy(topology: Topology, arns: Arns) -> _Policy:
    """The workers function's policy: every Function's grants and what its triggers need."""
    policy = _Policy()
    for grant in topology.workers.grants:
        _add_grant(policy, grant, arns)
    for function in topology.functions:
        for grant in function.grants:
            _add_grant(policy, grant, arns)
        for trigger in function.triggers:
            if isinstance(trigger, SqsTrigger):
                policy.allow("Consume" + _sid_part(trigger.queue), QUEUE_CONSUMER, [arns.queue(trigger.queue)])
            elif isinstance(trigger, StreamTrigger):
                policy.allow("Stream" + _sid_part(trigger.table), STREAM_READER, [arns.stream(trigger.table)])
                policy.unscoped(LIST_STREAMS)
                if trigger.retry.on_failure_queue:
                    failures = trigger.retry.on_failure_queue
                    # Lambda sends a batch it gave up on to the destination with the function's role.
                    policy.allow("Park" + _sid_part(failures), ("sqs:SendMessage",), [arns.queue(failures)])
    _function_basics(policy, topology.workers.name, arns)
    return policy


def pipes_policy(topology: Topology, arns: Arns) -> _Policy:
    """The pipes' role: each pipe reads its queue and invokes the workers function."""
    policy = _Policy()
    for _function, trigger in topology.pipes():
        assert isinstance(trigger, PipeTrigger)
        policy.allow("Source" + _sid_part(trigger.queue), QUEUE_CONSUMER, [arns.queue(trigger.queue)])
    if topology.pipes():
        policy.allow("Target", ("lambda:InvokeFunction",), [arns.function(topology.workers.name)])
    return policy


# --- the operator ----------------------------------------------------------------------------

#: What provisioning and the commands do to each kind of declared resource.
OPERATOR_QUEUE = (
    "sqs:CreateQueue",
    "sqs:GetQueueUrl",
    "sqs:GetQueueAttributes",
    "sqs:SetQueueAttributes",
    "sqs:ListQueueTags",
    "sqs:TagQueue",
    # `fleet replay` and `fleet dlq`: a dead-letter or on-failure queue read, its messages put back.
    "sqs:ReceiveMessage",
    "sqs:SendMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
)
OPERATOR_TABLE = (
    "dynamodb:CreateTable",
    "dynamodb:DescribeTable",
    "dynamodb:UpdateTable",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:UpdateTimeToLive",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:TagResource",
    "dynamodb:ListTagsOfResource",
)
#: The operator's own reads and writes of the data: campaigns, keys, codes, the draw, exports.
OPERATOR_DATA = (
    table("campaigns", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan"),
    table("submissions", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", indexes=("by_campaign", "waitlist")),
    # A campaign's codes by the table's own key, and those still in the pool by the index.
    table("uploads", "dynamodb:BatchGetItem"),
    table(
        "codes",
        "dynamodb:PutItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        indexes=("available",),
        and_table=True,
    ),
    table("draws", "dynamodb:GetItem", "dynamodb:PutItem"),
    # `fleet suppression list|remove`, and the bounce and complaint rates of `fleet status`.
    table("suppressions", "dynamodb:Scan", "dynamodb:GetItem", "dynamodb:UpdateItem"),
    table("email_events", "dynamodb:BatchGetItem", "dynamodb:Query"),
    table("api_keys", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"),
    # The local runtime's own stream checkpoints (Lambda keeps its own on AWS).
    table("checkpoints", "dynamodb:GetItem", "dynamodb:PutItem"),
)
#: `fleet replay` of an on-failure queue reads the parked stream records again.
OPERATOR_STREAMS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
OPERATOR_BUCKET = (
    "s3:CreateBucket",
    "s3:ListBucket",
    "s3:GetBucketNotification",
    "s3:PutBucketNotification",
    "s3:GetBucketCORS",
    "s3:PutBucketCORS",
    "s3:GetBucketPublicAccessBlock",
    "s3:PutBucketPublicAccessBlock",
)
#: Only the site bucket has a bucket policy (it lets the distribution read it): on any other,
#: a bucket policy is a way around the object permissions the operator does not hold.
OPERATOR_SITE_BUCKET = ("s3:GetBucketPolicy", "s3:PutBucketPolicy")
#: `fleet publish` writes the site; Zappa uploads its zips to the deploy bucket.
OPERATOR_OBJECTS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
OPERATOR_TOPIC = ("sns:CreateTopic", "sns:GetTopicAttributes", "sns:Subscribe", "sns:ListSubscriptionsByTopic")
OPERATOR_ROLE = (
    "iam:CreateRole",
    "iam:GetRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:GetRolePolicy",
    "iam:PutRolePolicy",
    "iam:ListRolePolicies",
    "iam:DeleteRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:DetachRolePolicy",
    "iam:TagRole",
    # Zappa gives the functions their roles; provisioning gives the pipes theirs.
    "iam:PassRole",
)
OPERATOR_FUNCTION = (
    "lambda:CreateFunction",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:PublishVersion",
    "lambda:ListVersionsByFunction",
    "lambda:DeleteFunction",
    "lambda:AddPermission",
    "lambda:RemovePermission",
    "lambda:GetPolicy",
    "lambda:TagResource",
    "lambda:ListTags",
)
OPERATOR_PIPE = ("pipes:CreatePipe", "pipes:DescribePipe", "pipes:UpdatePipe", "pipes:TagResource")
OPERATOR_UNSCOPED = (
    unscoped(
        "sts:GetCallerIdentity",
        why="the account id in every ARN; STS scopes GetCallerIdentity to no resource",
    ),
    unscoped(
        "ses:VerifyEmailIdentity",
        "ses:GetIdentityVerificationAttributes",
        "ses:ListIdentities",
        "ses:GetSendQuota",
        why="SES scopes identity verification, the list of identities and the account's quota to no resource",
    ),
    unscoped(
        "ses:CreateConfigurationSet",
        "ses:DescribeConfigurationSet",
        why="SES (v1) scopes the creation and description of a configuration set to no resource",
    ),
    unscoped(
        "ses:DeleteSuppressedDestination",
        why="`fleet suppression remove` lifts an address from SESv2's account-level list, which is scoped to no resource",
    ),
    unscoped(
        "lambda:CreateEventSourceMapping",
        "lambda:ListEventSourceMappings",
        why="Lambda scopes the creation and listing of mappings to no resource (a condition names the function)",
    ),
    unscoped(
        "cloudfront:ListDistributions",
        "cloudfront:ListOriginAccessControls",
        "cloudfront:CreateOriginAccessControl",
        "cloudfront:ListResponseHeadersPolicies",
        why="CloudFront scopes no List action, and no creation of an origin access control, to a resource",
    ),
    unscoped(
        "apigateway:GET",
        "apigateway:POST",
        "apigateway:PUT",
        "apigateway:PATCH",
        "apigateway:DELETE",
        why="Zappa's REST API, its stage cache and the usage plan: their ids exist only once made",
    ),
    unscoped(
        "events:ListRuleNamesByTarget",
        "events:ListRules",
        why="Zappa looks for its keep-warm rules on every deploy (none are made: keep_warm is off)",
    ),
)
OPERATOR_CLOUDFRONT = (
    "cloudfront:GetDistribution",
    "cloudfront:GetDistributionConfig",
    "cloudfront:UpdateDistribution",
    "cloudfront:CreateInvalidation",
    "cloudfront:GetInvalidation",
)
OPERATOR_EDGE_FUNCTION = (
    "cloudfront:CreateFunction",
    "cloudfront:DescribeFunction",
    "cloudfront:GetFunction",
    "cloudfront:UpdateFunction",
    "cloudfront:PublishFunction",
)


def operator_policy(topology: Topology, arns: Arns) -> _Policy:
    """Who provisions, deploys and operates the stage: every declared resource, by kind."""
    facts = arns.facts
    policy = _Policy()
    queues = sorted({n for q in topology.queues for n in (q.name, q.dlq_name)})
    policy.allow("Queues", OPERATOR_QUEUE, [arns.queue(n) for n in queues])
    tables = [t.name for t in topology.tables]
    policy.allow("Tables", OPERATOR_TABLE, [arns.table(n) for n in tables])
    streamed = [t.name for t in topology.tables if t.stream]
    policy.allow("Streams", OPERATOR_STREAMS, [arns.stream(n) for n in streamed])
    for grant in OPERATOR_DATA:
        _add_grant(policy, grant, arns)
    buckets = [b.name for b in topology.buckets]
    policy.allow("Buckets", OPERATOR_BUCKET, [arns.bucket(n) for n in [*buckets, topology.deploy_bucket]])
    if topology.site is not None:
        policy.allow("SiteBucketPolicy", OPERATOR_SITE_BUCKET, [arns.bucket(topology.site.distribution.site_bucket)])
    written = ["site", topology.deploy_bucket] if topology.site else [topology.deploy_bucket]
    policy.allow("Objects", OPERATOR_OBJECTS, [arns.objects(n, "") for n in written])
    policy.allow("Topics", OPERATOR_TOPIC, [arns.topic(t.name) for t in topology.topics])
    if topology.email_feedback is not None:
        policy.allow(
            "ConfigurationSet",
            (
                "ses:CreateConfigurationSetEventDestination",
                "ses:UpdateConfigurationSetEventDestination",
            ),
            [arns.configuration_set(topology.email_feedback.configuration_set)],
        )
    units = [topology.api.name, topology.workers.name]
    roles = [*units, topology.pipes_role]
    policy.allow("Roles", OPERATOR_ROLE, [arns.role(n) for n in roles])
    policy.allow("Functions", OPERATOR_FUNCTION, [arns.function(n) for n in units])
    # Made by `fleet wire` and by Zappa, named by ids that exist only once they are made.
    policy.allow(
        "Mappings",
        ("lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping"),
        [arns.regional("lambda", "event-source-mapping:*")],
        why="a mapping's ARN is its UUID, given when it is made",
    )
    # Zappa makes each function's API Gateway through a stack named after the function.
    policy.allow(
        "Stacks",
        (
            "cloudformation:CreateStack",
            "cloudformation:UpdateStack",
            "cloudformation:DescribeStacks",
            "cloudformation:DescribeStackResource",
            "cloudformation:ListStackResources",
        ),
        [arns.regional("cloudformation", f"stack/{arns.name(n)}/*") for n in units],
    )
    # `zappa tail`, over the log groups Lambda makes for the functions.
    policy.allow("FunctionLogs", ("logs:DescribeLogStreams", "logs:FilterLogEvents"), [arns.log_group(n) for n in units])
    pipes = [t.pipe for _f, t in topology.pipes()]
    if pipes:
        policy.allow("Pipes", OPERATOR_PIPE, [arns.pipe(n) for n in pipes])
    found = arns.distribution()
    if found is not None:
        policy.allow("Distribution", OPERATOR_CLOUDFRONT, [found])
    if topology.site is not None:
        global_ = f"arn:{facts.partition}:cloudfront::{facts.account}"
        function = f"{global_}:function/{arns.name(topology.site.distribution.name)}"
        policy.allow("EdgeFunction", OPERATOR_EDGE_FUNCTION, [function])
        # The distribution and its origin access control get their ids when they are made.
        policy.allow(
            "CreateDistribution",
            ("cloudfront:CreateDistribution",),
            [f"{global_}:distribution/*"],
            why="a distribution's id is given when it is made",
        )
        policy.allow(
            "OriginAccessControl",
            ("cloudfront:GetOriginAccessControl", "cloudfront:UpdateOriginAccessControl"),
            [f"{global_}:origin-access-control/*"],
            why="an origin access control's id is given when it is made",
        )
        policy.allow(
            "ResponseHeadersPolicy",
            (
                "cloudfront:CreateResponseHeadersPolicy",
                "cloudfront:GetResponseHeadersPolicyConfig",
                "cloudfront:UpdateResponseHeadersPolicy",
            ),
            [f"{global_}:response-headers-policy/*"],
            why="the pages' response headers policy gets its id when it is made",
        )
    # The alarms are named after the stage (`fleet provision` makes them), the dashboard after its project.
    policy.allow(
        "Alarms",
        ("cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms"),
        [f"arn:{facts.partition}:cloudwatch:{facts.region}:{facts.account}:alarm:{project_name(facts.stage)}-*"],
    )
    policy.allow(
        "Dashboard",
        ("cloudwatch:PutDashboard", "cloudwatch:GetDashboard"),
        [f"arn:{facts.partition}:cloudwatch::{facts.account}:dashboard/{project_name(facts.stage)}"],
    )
    for grant in OPERATOR_UNSCOPED:
        policy.unscoped(grant)
    return policy


# --- all of a stage --------------------------------------------------------------------------


def role_name(facts: StageFacts, principal: str) -> str:
    """A principal's IAM name in the stage: `fleet-{stage}-{api|workers|pipes|operator}`."""
    return physical_name(facts.stage, principal)


def principals(facts: StageFacts, topology: Topology = TOPOLOGY) -> dict[str, Principal]:
    """Every principal of a stage with its policy, by key (`api`, `workers`, `pipes`, `operator`)."""
    arns = Arns(facts)
    rendered = {
        topology.api.name: (api_policy(topology, arns), LAMBDA_SERVICE),
        topology.workers.name: (workers_policy(topology, arns), LAMBDA_SERVICE),
        topology.pipes_role: (pipes_policy(topology, arns), PIPES_SERVICE),
        OPERATOR: (operator_policy(topology, arns), None),
    }
    return {
        key: Principal(key, role_name(facts, key), service, policy.document(), policy.reasons())
        for key, (policy, service) in rendered.items()
    }


#: What IAM takes in one managed policy, whitespace aside, and how many an identity may hold.
MANAGED_POLICY_LIMIT = 6_144
MANAGED_POLICIES_PER_IDENTITY = 10


def managed_policies(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """A policy split, statement by statement, into documents that each fit a managed policy
    (the operator's is too large for one: attach them all to whoever deploys)."""
    parts: list[list[dict[str, Any]]] = [[]]
    for statement in policy["Statement"]:
        trial = {"Version": policy["Version"], "Statement": [*parts[-1], statement]}
        if parts[-1] and len(policy_json(trial)) > MANAGED_POLICY_LIMIT:
            parts.append([])
        parts[-1].append(statement)
    return [{"Version": policy["Version"], "Statement": part} for part in parts]


def review_document(found: dict[str, Principal]) -> dict[str, Any]:
    """What `fleet iam --json` prints: each principal's role (or policy) name and policy."""
    return {key: {"role": p.name, "service": p.service, "policy": p.policy, "unscoped": p.unscoped} for key, p in found.items()}


def policy_json(policy: dict[str, Any]) -> str:
    """A policy as IAM stores it: compact, keys in order."""
    return json.dumps(policy, separators=(",", ":"), sort_keys=True)


def stage_facts(distribution_id: str | None = None, account: str | None = None) -> StageFacts:
    """The current stage's facts, from the settings and (for the account) the credentials in use."""
    from lambda_platform import aws, settings

    current = settings.current()
    return StageFacts(
        stage=current.stage,
        region=current.region,
        account=account or aws.account_id(),
        sender=current.sender,
        distribution_id=distribution_id,
    )
