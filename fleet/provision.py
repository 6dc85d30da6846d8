"""Create the topology's resources against whatever `AWS_ENDPOINT_URL` points to.

Every step reads what exists first and creates or corrects only what differs, so a
second run changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from events.topology import TOPOLOGY, ApiPlan, Bucket, Queue, Table, Topic, Topology
from fleet import aws, resources, settings
from fleet.errors import error_code


@dataclass(frozen=True)
class Change:
    """What provisioning did to one resource."""

    kind: str
    name: str
    action: str  # created | updated | unchanged | deferred | pending

    def __str__(self) -> str:
        return f"{self.action:<9} {self.kind:<6} {self.name}"


def provision(topology: Topology = TOPOLOGY, report: Callable[[Change], None] | None = None) -> list[Change]:
    """Create or correct every resource of the topology; return what changed."""
    topology.validate()
    changes: list[Change] = []

    def note(change: Change) -> None:
        changes.append(change)
        if report:
            report(change)

    for queue in topology.queues:
        for change in ensure_queue(queue):
            note(change)
    for table in topology.tables:
        note(ensure_table(table))
    for bucket in topology.buckets:
        note(ensure_bucket(bucket))
        if bucket.notify_queue:
            note(ensure_bucket_notification(bucket))
        if bucket.browser_uploads:
            note(ensure_bucket_cors(bucket))
    for topic in topology.topics:
        note(ensure_topic(topic))
    for _function, trigger in topology.pipes():
        note(ensure_pipe(trigger.pipe, trigger.queue, trigger.batch_size, trigger.batching_window_seconds))
    note(ensure_sender_identity())
    note(ensure_api_plan(topology.api_plan))
    return changes


# --- SQS ---------------------------------------------------------------------------


def queue_attributes(queue: Queue, dlq_arn: str | None) -> dict[str, str]:
    """The attributes a queue must have."""
    visibility = settings.current().visibility_timeout or queue.visibility_timeout
    attributes = {
        "VisibilityTimeout": str(visibility),
        "MessageRetentionPeriod": str(queue.retention_seconds if dlq_arn else queue.dlq_retention_seconds),
    }
    if dlq_arn:
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.max_receive_count}, separators=(",", ":")
        )
    return attributes


def ensure_queue(queue: Queue) -> list[Change]:
    """The dead-letter queue first, then the queue with its redrive policy."""
    dlq_name = resources.queue_name(queue.dlq_name)
    dlq_change, dlq_url = _ensure_one_queue(dlq_name, queue_attributes(queue, None))
    dlq_arn = aws.client("sqs").get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    change, _ = _ensure_one_queue(resources.queue_name(queue), queue_attributes(queue, dlq_arn))
    return [dlq_change, change]


def _ensure_one_queue(name: str, wanted: dict[str, str]) -> tuple[Change, str]:
    sqs = aws.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except Exception as exc:
        if error_code(exc) not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            raise
        url = sqs.create_queue(QueueName=name, Attributes=wanted)["QueueUrl"]
        return Change("queue", name, "created"), url
    have = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(wanted))["Attributes"]
    differs = {k: v for k, v in wanted.items() if not _same_attribute(k, have.get(k), v)}
    if not differs:
        return Change("queue", name, "unchanged"), url
    sqs.set_queue_attributes(QueueUrl=url, Attributes=differs)
    return Change("queue", name, "updated"), url


def _same_attribute(key: str, have: str | None, want: str) -> bool:
    if have is None:
        return False
    if key == "RedrivePolicy":
        return {k: str(v) for k, v in json.loads(have).items()} == {k: str(v) for k, v in json.loads(want).items()}
    return have == want


# --- DynamoDB ------------------------------------------------------------------------


def table_definition(table: Table) -> dict[str, Any]:
    """The CreateTable request of a table."""
    attributes = {table.partition_key}
    keys = [{"AttributeName": table.partition_key, "KeyType": "HASH"}]
    if table.sort_key:
        attributes.add(table.sort_key)
        keys.append({"AttributeName": table.sort_key, "KeyType": "RANGE"})
    definition: dict[str, Any] = {
        "TableName": resources.table_name(table),
        "KeySchema": keys,
        "BillingMode": "PAY_PER_REQUEST",
    }
    indexes = []
    for index in table.indexes:
        index_keys = [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
        attributes.add(index.partition_key)
        if index.sort_key:
            index_keys.append({"AttributeName": index.sort_key, "KeyType": "RANGE"})
            attributes.add(index.sort_key)
        indexes.append({"IndexName": index.name, "KeySchema": index_keys, "Projection": {"ProjectionType": "ALL"}})
    if indexes:
        definition["GlobalSecondaryIndexes"] = indexes
    definition["AttributeDefinitions"] = [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)]
    if table.stream:
        definition["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    return definition


def ensure_table(table: Table) -> Change:
    """Create a table (with indexes, stream and TTL), or correct its stream and TTL."""
    dynamodb = aws.client("dynamodb")
    definition = table_definition(table)
    name = definition["TableName"]
    try:
        described = dynamodb.describe_table(TableName=name)["Table"]
    except Exception as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        dynamodb.create_table(**definition)
        dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        _ensure_ttl(table, name)
        return Change("table", name, "created")
    action = "unchanged"
    stream = described.get("StreamSpecification") or {}
    wanted_stream = definition.get("StreamSpecification") or {"StreamEnabled": False}
    if bool(stream.get("StreamEnabled")) != wanted_stream["StreamEnabled"] or (
        wanted_stream["StreamEnabled"] and stream.get("StreamViewType") != wanted_stream["StreamViewType"]
    ):
        if stream.get("StreamEnabled"):
            dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
        if wanted_stream["StreamEnabled"]:
            dynamodb.update_table(TableName=name, StreamSpecification=wanted_stream)
        action = "updated"
    if _ensure_ttl(table, name):
        action = "updated"
    return Change("table", name, action)


def _ensure_ttl(table: Table, name: str) -> bool:
    if not table.ttl_attribute:
        return False
    dynamodb = aws.client("dynamodb")
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and ttl.get("AttributeName") == table.ttl_attribute:
        return False
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute}
    )
    return True


# --- S3 and SNS ------------------------------------------------------------------------


def ensure_bucket(bucket: Bucket) -> Change:
    """Create the bucket, private, in the current region."""
    s3 = aws.client("s3")
    name = resources.bucket_name(bucket)
    try:
        s3.head_bucket(Bucket=name)
        return Change("bucket", name, "unchanged")
    except Exception as exc:
        if error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    region = settings.current().region
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    return Change("bucket", name, "created")


def notification_queue_policy(bucket_name: str, queue_arn: str) -> dict[str, Any]:
    """The queue policy that lets S3 send this bucket's notifications, and nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": f"{bucket_name}-notifications",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": f"arn:aws:s3:::{bucket_name}"},
                    "StringEquals": {"aws:SourceAccount": aws.account_id()},
                },
            }
        ],
    }


def _same_queue_notification(have: dict[str, Any], want: dict[str, Any]) -> bool:
    def shape(config: dict[str, Any]) -> tuple:
        rules = config.get("Filter", {}).get("Key", {}).get("FilterRules", [])
        # S3 answers "Prefix" where it was sent "prefix": compare rule names without case.
        return (
            config.get("QueueArn"),
            tuple(sorted(config.get("Events", []))),
            tuple(sorted((r["Name"].lower(), r["Value"]) for r in rules)),
        )

    return shape(have) == shape(want)


def ensure_bucket_notification(bucket: Bucket) -> Change:
    """Let S3 send to the bucket's queue, then announce ObjectCreated under its prefix there.

    Other notification configurations of the bucket are kept; ours is known by its id.
    """
    name = resources.bucket_name(bucket)
    queue_arn = resources.queue_arn(bucket.notify_queue)
    sqs = aws.client("sqs")
    s3 = aws.client("s3")
    action = "unchanged"

    url = sqs.get_queue_url(QueueName=resources.queue_name(bucket.notify_queue))["QueueUrl"]
    policy = notification_queue_policy(name, queue_arn)
    # A queue without a policy answers with no "Attributes" at all.
    have_policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {}).get("Policy")
    if have_policy is None or json.loads(have_policy) != policy:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
        action = "updated"

    wanted: dict[str, Any] = {
        "Id": f"{name}-{bucket.notify_queue}",
        "QueueArn": queue_arn,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": bucket.notify_prefix or ""}]}},
    }
    config = s3.get_bucket_notification_configuration(Bucket=name)
    config.pop("ResponseMetadata", None)
    queues = config.get("QueueConfigurations", [])
    ours = [q for q in queues if q.get("Id") == wanted["Id"]]
    if len(ours) != 1 or not _same_queue_notification(ours[0], wanted):
        config["QueueConfigurations"] = [q for q in queues if q.get("Id") != wanted["Id"]] + [wanted]
        # S3 sends an s3:TestEvent to the queue now; the worker skips it.
        s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration=config)
        action = "updated"
    return Change("notify", name, action)


def bucket_cors_rules(origins: tuple[str, ...]) -> list[dict[str, Any]]:
    """The CORS rule that lets pages from `origins` send presigned POSTs to the bucket."""
    if not origins:
        return []
    # A POST with upload progress listeners is preflighted; S3 answers 204 with the ETag.
    return [
        {
            "ID": "browser-uploads",
            "AllowedOrigins": sorted(origins),
            "AllowedMethods": ["POST"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 3000,
        }
    ]


def ensure_bucket_cors(bucket: Bucket) -> Change:
    """The bucket's CORS rule for the web origins of the settings (none: no rule, deferred)."""
    s3 = aws.client("s3")
    name = resources.bucket_name(bucket)
    wanted = bucket_cors_rules(settings.current().web_origins)
    try:
        have = s3.get_bucket_cors(Bucket=name)["CORSRules"]
    except Exception as exc:
        if error_code(exc) != "NoSuchCORSConfiguration":
            raise
        have = []
    if not wanted:
        # No FLEET_WEB_ORIGINS on this stage: no page may post uploads until one is set.
        return Change("cors", name, "deferred")
    if [_cors_shape(r) for r in have] == [_cors_shape(r) for r in wanted]:
        return Change("cors", name, "unchanged")
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": wanted})
    return Change("cors", name, "created" if not have else "updated")


def _cors_shape(rule: dict[str, Any]) -> tuple:
    lists = ("AllowedOrigins", "AllowedMethods", "AllowedHeaders", "ExposeHeaders")
    return tuple(tuple(sorted(rule.get(k) or [])) for k in lists) + (rule.get("MaxAgeSeconds"),)


def ensure_topic(topic: Topic) -> Change:
    """Create the topic (CreateTopic is idempotent; look first to report honestly)."""
    sns = aws.client("sns")
    name = resources.topic_name(topic)
    arn = resources.topic_arn(topic)
    try:
        sns.get_topic_attributes(TopicArn=arn)
        return Change("topic", name, "unchanged")
    except Exception as exc:
        if error_code(exc) not in ("NotFound", "NotFoundException"):
            raise
    sns.create_topic(Name=name)
    return Change("topic", name, "created")


# --- EventBridge Pipes ------------------------------------------------------------------


def ensure_pipe_role() -> str:
    """The IAM role that pipes assume: read the source queue, invoke the workers function."""
    iam = aws.client("iam")
    name = resources.pipes_role_name()
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "pipes.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                "Resource": resources.stage_queue_arns(),
            },
            {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": resources.function_arn(TOPOLOGY.workers)},
        ],
    }
    iam.put_role_policy(RoleName=name, PolicyName="pipe", PolicyDocument=json.dumps(policy))
    return role["Arn"]


def ensure_pipe(pipe: str, queue: str, batch_size: int, window: int) -> Change:
    """The pipe from a queue to the workers function, which routes by the records' source."""
    pipes = aws.client("pipes")
    name = resources.pipe_name(pipe)
    source = resources.queue_arn(queue)
    wanted: dict[str, Any] = {
        "Source": source,
        "SourceParameters": {
            "SqsQueueParameters": {"BatchSize": batch_size, "MaximumBatchingWindowInSeconds": window}
        },
        "Target": resources.function_arn(TOPOLOGY.workers),
        "TargetParameters": {"LambdaFunctionParameters": {"InvocationType": "REQUEST_RESPONSE"}},
        "RoleArn": ensure_pipe_role(),
        "DesiredState": "RUNNING",
    }
    try:
        have = pipes.describe_pipe(Name=name)
    except Exception as exc:
        if error_code(exc) not in ("NotFoundException", "ResourceNotFoundException"):
            raise
        pipes.create_pipe(Name=name, **wanted)
        return Change("pipe", name, "created")
    if all(have.get(k) == v for k, v in wanted.items()):
        return Change("pipe", name, "unchanged")
    update = {k: v for k, v in wanted.items() if k != "Source"}
    update["SourceParameters"] = {"SqsQueueParameters": wanted["SourceParameters"]["SqsQueueParameters"]}
    pipes.update_pipe(Name=name, **update)
    return Change("pipe", name, "updated")


# --- SES ------------------------------------------------------------------------------


def ensure_sender_identity() -> Change:
    """Ask SES to verify the sender's email identity, on every stage, unless it is verified.

    On AWS, VerifyEmailIdentity mails a link that a person must click: until then the
    identity is reported `pending`, and no second mail is asked for. moto (the local
    stage) marks it verified at once.
    """
    from email.utils import parseaddr

    ses = aws.client("ses")
    address = parseaddr(settings.current().sender)[1]

    def status() -> str | None:
        attributes = ses.get_identity_verification_attributes(Identities=[address])
        return attributes.get("VerificationAttributes", {}).get(address, {}).get("VerificationStatus")

    found = status()
    if found == "Success":
        return Change("sender", address, "unchanged")
    if found == "Pending":
        return Change("sender", address, "pending")
    ses.verify_email_identity(EmailAddress=address)
    return Change("sender", address, "created" if status() == "Success" else "pending")


# --- API Gateway usage plan ------------------------------------------------------------------


def find_rest_api(name: str) -> dict[str, Any] | None:
    """The REST API named `name` (Zappa names it after its function), or None."""
    apigateway = aws.client("apigateway")
    for page in apigateway.get_paginator("get_rest_apis").paginate():
        for api in page.get("items", []):
            if api.get("name") == name:
                return api
    return None


def ensure_api_plan(plan: ApiPlan) -> Change:
    """The API's usage plan (throttle and quota) with one API key; deferred until the API exists.

    Zappa's `api` stage creates the REST API `fleet-{stage}-api` (the API unit's function
    name) with a stage named `api` (the unit's name); `fleet wire`, run after the deploy,
    finishes what `fleet provision` had to defer.
    """
    apigateway = aws.client("apigateway")
    name = resources.usage_plan_name(plan)
    api = find_rest_api(resources.function_name(TOPOLOGY.api))
    if api is None:
        return Change("plan", name, "deferred")
    stage = TOPOLOGY.api.name
    wanted = {
        "throttle": {"rateLimit": float(plan.rate_limit), "burstLimit": plan.burst_limit},
        "quota": {"limit": plan.quota_limit, "period": plan.quota_period, "offset": 0},
        "apiStages": [{"apiId": api["id"], "stage": stage}],
    }
    plans = [p for page in apigateway.get_paginator("get_usage_plans").paginate() for p in page.get("items", [])]
    have = next((p for p in plans if p.get("name") == name), None)
    action = "unchanged"
    if have is None:
        have = apigateway.create_usage_plan(name=name, description="Fleet API clients", **wanted)
        action = "created"
    else:
        operations = []
        if have.get("throttle") != wanted["throttle"]:
            operations += [
                {"op": "replace", "path": "/throttle/rateLimit", "value": str(plan.rate_limit)},
                {"op": "replace", "path": "/throttle/burstLimit", "value": str(plan.burst_limit)},
            ]
        if {k: have.get("quota", {}).get(k) for k in ("limit", "period")} != {
            "limit": plan.quota_limit,
            "period": plan.quota_period,
        }:
            operations += [
                {"op": "replace", "path": "/quota/limit", "value": str(plan.quota_limit)},
                {"op": "replace", "path": "/quota/period", "value": plan.quota_period},
            ]
        if not any(s.get("apiId") == api["id"] for s in have.get("apiStages", [])):
            operations.append({"op": "add", "path": "/apiStages", "value": f"{api['id']}:{stage}"})
        if operations:
            apigateway.update_usage_plan(usagePlanId=have["id"], patchOperations=operations)
            action = "updated"
    # The key's value is generated by API Gateway and never stored here: read it with
    # `aws apigateway get-api-keys --name-query NAME --include-values`.
    keys = apigateway.get_api_keys(nameQuery=name).get("items", [])
    key = next((k for k in keys if k.get("name") == name), None)
    if key is None:
        key = apigateway.create_api_key(name=name, enabled=True)
        action = "created" if action == "created" else "updated"
    plan_keys = apigateway.get_usage_plan_keys(usagePlanId=have["id"]).get("items", [])
    if not any(k.get("id") == key["id"] for k in plan_keys):
        apigateway.create_usage_plan_key(usagePlanId=have["id"], keyId=key["id"], keyType="API_KEY")
        action = "created" if action == "created" else "updated"
    return Change("plan", name, action)
