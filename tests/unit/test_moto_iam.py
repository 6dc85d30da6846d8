"""moto's IAM corrections: inert while enforcement is off, and their rules read on their own.

moto's WSGI application is driven in process (werkzeug's test client, no socket), in an
account of its own so that nothing here meets what a moto server of this process holds.
"""

from __future__ import annotations

import io
import math
from types import SimpleNamespace

import pytest
from moto.core.authorization import ActionAuthenticatorMixin
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.s3.exceptions import S3ClientError
from werkzeug.test import Client

from fleet.runtime import moto_iam
from fleet.runtime.moto_iam import actions, resources, s3_signed, statements, trust

ACCOUNT = "000000000045"
SCOPE = "20260101/us-east-1/{service}/aws4_request"


@pytest.fixture(scope="module")
def moto():
    """moto's server application with every correction installed, enforcement off."""
    moto_iam.install()
    moto_iam.enforce(False)
    return Client(DomainDispatcherApplication(create_backend_app))


def signed_as(service: str) -> dict[str, str]:
    """Headers of a request that claims a signature (never checked with enforcement off)."""
    credential = f"fleet-local/{SCOPE.format(service=service)}"
    return {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host;x-amz-date, Signature=00",
        "X-Amz-Date": "20260101T000000Z",
        "x-moto-account-id": ACCOUNT,
    }


def test_install_twice_changes_nothing(moto):
    from moto.iam.access_control import IAMPolicyStatement, IAMRequestBase
    from moto.s3.responses import S3Response

    installed = [
        ActionAuthenticatorMixin._authenticate_and_authorize_normal_action,
        S3Response._authenticate_and_authorize_s3_action,
        IAMRequestBase.__init__,
        IAMRequestBase._create_aws_request,
        IAMPolicyStatement.is_action_permitted,
        IAMPolicyStatement._check_principal,
    ]
    moto_iam.install()
    assert [
        ActionAuthenticatorMixin._authenticate_and_authorize_normal_action,
        S3Response._authenticate_and_authorize_s3_action,
        IAMRequestBase.__init__,
        IAMRequestBase._create_aws_request,
        IAMPolicyStatement.is_action_permitted,
        IAMPolicyStatement._check_principal,
    ] == installed


def test_enforce_switches_moto_and_enforcing_reads_it(moto):
    from moto import settings

    try:
        moto_iam.enforce(True)
        assert moto_iam.enforcing() and settings.INITIAL_NO_AUTH_ACTION_COUNT == 0
    finally:
        moto_iam.enforce(False)
    assert not moto_iam.enforcing()
    assert math.isinf(settings.INITIAL_NO_AUTH_ACTION_COUNT)


def test_with_enforcement_off_moto_counts_and_serves_a_call_it_never_checks(moto):
    before = ActionAuthenticatorMixin.request_count
    headers = {**signed_as("dynamodb"), "X-Amz-Target": "DynamoDB_20120810.ListTables"}
    answer = moto.post("/", data="{}", headers={**headers, "Content-Type": "application/x-amz-json-1.0"})
    assert answer.status_code == 200
    assert ActionAuthenticatorMixin.request_count == before + 1


def test_with_enforcement_off_an_unsigned_form_upload_is_stored_as_moto_stores_it(moto):
    assert moto.put("/unit-forms", headers={"x-moto-account-id": ACCOUNT}).status_code == 200
    form = {"key": "uploads/a.txt", "policy": "forged", "x-amz-signature": "0", "file": (io.BytesIO(b"any size at all"), "a.txt")}
    answer = moto.post("/unit-forms", data=form, headers={"x-moto-account-id": ACCOUNT})
    assert answer.status_code == 204
    query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=nobody%2F20000101%2Fus-east-1%2Fs3%2Faws4_request"
    query += "&X-Amz-Date=20000101T000000Z&X-Amz-Expires=1&X-Amz-SignedHeaders=host&X-Amz-Signature=00"
    answer = moto.get(f"/unit-forms/uploads/a.txt?{query}", headers={"x-moto-account-id": ACCOUNT})
    assert (answer.status_code, answer.data) == (200, b"any size at all")


def test_with_enforcement_off_assume_role_takes_any_role_and_duration(moto):
    form = {
        "Action": "AssumeRole",
        "Version": "2011-06-15",
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/nowhere",
        "RoleSessionName": "unit",
        "DurationSeconds": "100",
    }
    answer = moto.post("/", data=form, headers=signed_as("sts"))
    assert answer.status_code == 200
    assert b"<AccessKeyId>" in answer.data


# --- the rules, read on their own --------------------------------------------------


@pytest.mark.parametrize(
    ("moto_action", "method", "iam_action"),
    [
        ("monitoring:PutMetricData", "POST", "cloudwatch:PutMetricData"),
        ("lambda:Invoke", "POST", "lambda:InvokeFunction"),
        ("sqs:SendMessageBatch", "POST", "sqs:SendMessage"),
        ("sns:PublishBatch", "POST", "sns:Publish"),
        ("apigateway:GetRestApis", "GET", "apigateway:GET"),
        ("dynamodb:PutItem", "POST", "dynamodb:PutItem"),
    ],
)
def test_moto_actions_are_named_as_iam_names_them(moto_action, method, iam_action):
    assert actions.aws_action(moto_action, method) == iam_action


def test_iam_patterns_are_globs():
    assert statements.glob("sqs:sendmessag?", ignore_case=True).match("sqs:SendMessage")
    assert statements.glob("arn:aws:s3:::bucket/uploads/*").match("arn:aws:s3:::bucket/uploads/a/b.jpg")
    assert not statements.glob("arn:aws:s3:::bucket.x/*").match("arn:aws:s3:::bucketyx/a")  # a dot is a dot
    assert not statements.glob("arn:aws:sqs:*:*:Jobs").match("arn:aws:sqs:us-east-1:1:jobs")  # ARNs keep their case


def test_a_principal_is_named_by_its_arn_its_account_and_its_role():
    names = trust.names_of(f"arn:aws:sts::{ACCOUNT}:assumed-role/worker/session")
    assert {ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", f"arn:aws:iam::{ACCOUNT}:role/worker"} <= names


def test_trust_conditions_fail_on_a_missing_key_and_ignore_what_they_cannot_judge():
    condition = {"StringEquals": {"sts:ExternalId": "k1"}, "Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert trust.conditions_hold(condition, {"sts:externalid": "k1"})
    assert not trust.conditions_hold(condition, {"sts:externalid": "k2"})
    assert not trust.conditions_hold(condition, {})


def dynamodb_call(**params) -> SimpleNamespace:
    """A stand-in for moto's response to a DynamoDB call with these parameters."""
    return SimpleNamespace(
        service_name="dynamodb",
        region="us-east-1",
        partition="aws",
        current_account=ACCOUNT,
        _get_param=lambda name, if_none=None: params.get(name, if_none),
    )


def test_dynamodb_calls_are_checked_on_their_tables_and_indexes():
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table"
    query = dynamodb_call(TableName="entries", IndexName="by-email")
    assert resources.checks(query, "Query", "dynamodb:Query") == [("dynamodb:Query", f"{table}/entries/index/by-email")]
    transaction = dynamodb_call(
        TransactItems=[
            {"Put": {"TableName": "entries"}},
            {"Update": {"TableName": "codes"}},
            {"ConditionCheck": {"TableName": "campaigns"}},
            {"Put": {"TableName": "entries"}},
        ],
    )
    assert resources.checks(transaction, "TransactWriteItems", "dynamodb:TransactWriteItems") == [
        ("dynamodb:PutItem", f"{table}/entries"),
        ("dynamodb:UpdateItem", f"{table}/codes"),
        ("dynamodb:ConditionCheckItem", f"{table}/campaigns"),
    ]
    assert resources.checks(dynamodb_call(), "ListTables", "dynamodb:ListTables") == [("dynamodb:ListTables", "*")]


def test_an_unsigned_call_is_missing_its_token():
    with pytest.raises(resources.MissingAuthenticationToken):
        resources.authorize(SimpleNamespace(headers={}))


def test_a_form_field_must_meet_its_condition_and_none_may_go_uncovered():
    conditions = [{"bucket": "media"}, ["starts-with", "$key", "uploads/"], ["content-length-range", 1, 10]]
    s3_signed.check_conditions(conditions, {"bucket": "media", "key": "uploads/a.jpg", "policy": "p"}, 10)
    for fields, size, error in [
        ({"bucket": "media", "key": "other/a.jpg"}, 1, "AccessDenied"),
        ({"bucket": "media", "key": "uploads/a.jpg", "acl": "public-read"}, 1, "AccessDenied"),
        ({"bucket": "media", "key": "uploads/a.jpg"}, 11, "EntityTooLarge"),
        ({"bucket": "media", "key": "uploads/a.jpg"}, 0, "EntityTooSmall"),
    ]:
        with pytest.raises(S3ClientError) as caught:
            s3_signed.check_conditions(conditions, fields, size)
        assert caught.value.code == error


def test_a_pattern_matches_the_whole_value():
    assert not statements.glob("sqs:SendMessage").match("sqs:SendMessage\n")
    assert not statements.glob("arn:aws:sqs:*:*:jobs").match("arn:aws:sqs:us-east-1:1:jobs-dlq")
