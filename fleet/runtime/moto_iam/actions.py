"""Calls authorized under the action names IAM gives them.

moto 5.2.5 names the action it checks after the request's signing name and operation
(`moto/iam/access_control.py` `IAMRequestBase.__init__`, :236-240): `monitoring:PutMetricData`
where IAM says `cloudwatch:PutMetricData`; `lambda:Invoke` for `lambda:InvokeFunction`;
`sqs:SendMessageBatch`, `sqs:DeleteMessageBatch`, `sqs:ChangeMessageVisibilityBatch` and
`sns:PublishBatch`, which IAM authorizes as `SendMessage`, `DeleteMessage`,
`ChangeMessageVisibility` and `Publish`; `dynamodb:TransactWriteItems` and
`dynamodb:TransactGetItems`, which are no IAM actions at all: IAM authorizes each item by
its own action on its own table (`TRANSACTION_ITEMS`; `resources` makes those checks);
`apigateway:GetRestApis` where API Gateway's management API is authorized by HTTP verb,
`apigateway:GET`, on the resource path (`resources` gives the path). moto's S3 has names of
its own for a few calls (`moto/s3/responses.py` ACTION_MAP, :102-178): `s3:HeadBucket`, which
IAM authorizes as `s3:ListBucket`; `s3:Get/Put/DeletePublicAccessBlock`, IAM's
`s3:GetBucketPublicAccessBlock` and `s3:PutBucketPublicAccessBlock`; `s3:SelectObject`, IAM's
`s3:GetObject`. So a policy written with AWS's names is refused by moto, and one written with
moto's passes locally and fails on AWS.

`install` makes moto check the names IAM uses, for every request it authorizes. What is
checked against them, and every answer, is moto's own; only enforcement names actions.
"""

from __future__ import annotations

from typing import Any

from moto.iam.access_control import IAMRequestBase, S3IAMRequest

#: A signing name that is not the IAM service prefix.
PREFIXES = {"monitoring": "cloudwatch"}

#: moto's action (prefix corrected) -> IAM's.
RENAMED = {
    "lambda:Invoke": "lambda:InvokeFunction",
    "lambda:InvokeWithResponseStream": "lambda:InvokeFunction",
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "sns:PublishBatch": "sns:Publish",
}

#: moto's S3 names (`moto/s3/responses.py` ACTION_MAP) that IAM does not have -> IAM's, for S3's own API.
S3_RENAMED = {
    "s3:HeadBucket": "s3:ListBucket",
    "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "s3:PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "s3:DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "s3:SelectObject": "s3:GetObject",
}

#: A DynamoDB transaction's item kind -> the action IAM authorizes it by, on the item's table.
TRANSACTION_ITEMS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}

#: Services whose management calls IAM authorizes by HTTP verb (`apigateway:GET`...).
VERB_SERVICES = frozenset({"apigateway"})


def install() -> None:
    """Make moto check IAM's action names (again: the same)."""
    if getattr(IAMRequestBase.__init__, "_fleet_moto_iam", False):
        return
    moto_init = IAMRequestBase.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        moto_init(self, *args, **kwargs)
        if isinstance(self, S3IAMRequest):  # S3's API, its names computed by moto's S3
            self._action = S3_RENAMED.get(self._action, self._action)
        else:
            self._action = aws_action(self._action, self._method)

    # Replacing moto's constructor is the point: mypy refuses an assignment to a method, and
    # knows no attribute on a function (the mark that makes a second install do nothing).
    init._fleet_moto_iam = True  # type: ignore[attr-defined]
    IAMRequestBase.__init__ = init  # type: ignore[method-assign]


def aws_action(action: str, method: str = "POST") -> str:
    """IAM's name for moto's `signing-name:Operation` of a request made with HTTP `method`."""
    service, _, operation = action.partition(":")
    service = PREFIXES.get(service, service)
    if service in VERB_SERVICES:
        return f"{service}:{method.upper()}"
    named = f"{service}:{operation}"
    return RENAMED.get(named, named)
