"""S3: each topology bucket, private (Block Public Access on), with its S3 -> SQS
notification and its CORS rule."""

from __future__ import annotations

import json
from typing import Any

from events.topology import Bucket
from fleet.provision.base import Change
from lambda_platform import aws, resources, settings
from lambda_platform.errors import error_code
from lambda_platform.origins import s3_allowed_origins

#: S3 Block Public Access, all four settings: no ACL or policy can make a bucket public.
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def ensure_bucket(bucket: Bucket) -> Change:
    """Create the bucket, private, in the current region, or correct its public access block."""
    s3 = aws.client("s3")
    name = resources.bucket_name(bucket)
    try:
        s3.head_bucket(Bucket=name)
    except Exception as exc:
        if error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    else:
        return Change("bucket", name, "unchanged" if _public_access_blocked(name) else "updated")
    region = settings.current().region
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)
    return Change("bucket", name, "created")


def _public_access_blocked(name: str) -> bool:
    """True when all four settings were on already; else turns them on and returns False."""
    s3 = aws.client("s3")
    try:
        have = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    except Exception as exc:
        if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
            raise
        have = {}
    if all(have.get(k) is True for k in PUBLIC_ACCESS_BLOCK):
        return True
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)
    return False


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
    if bucket.notify_queue is None:
        raise ValueError(f"bucket {bucket.name} declares no queue to notify")
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
    """The CORS rule that lets pages from `origins` send presigned POSTs to the bucket
    (S3 reads our one `*` more widely: `lambda_platform.origins.s3_allowed_origins` says why that is safe)."""
    allowed = s3_allowed_origins(origins)
    if not allowed:
        return []
    # A POST with upload progress listeners is preflighted; S3 answers 204 with the ETag.
    return [
        {
            "ID": "browser-uploads",
            "AllowedOrigins": allowed,
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
    return (*(tuple(sorted(rule.get(k) or [])) for k in lists), rule.get("MaxAgeSeconds"))
