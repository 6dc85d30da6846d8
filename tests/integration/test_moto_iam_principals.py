"""Under enforcement: who may assume a role, which credentials are refused and how, statements as IAM reads them.

One moto server of its own (`moto_iam_lab`), enforcing for the whole module.
"""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import botocore.session
import pytest
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import ClientError
from moto.sts.models import sts_backends

from tests.integration.moto_iam_lab import ACCOUNT, DUMMY, REGION, allow, code_of, enforcing_lab, trusting

SQS = f"arn:aws:sqs:{REGION}:{ACCOUNT}"


@pytest.fixture(scope="module")
def lab():
    with enforcing_lab() as made:
        made.client("sqs").create_queue(QueueName="jobs")
        made.client("dynamodb").create_table(
            TableName="items",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield made


def refused(call, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def test_a_trust_naming_only_a_service_refuses_a_user_with_access_denied(lab):
    lab.client("iam").create_role(RoleName="lambda-only", AssumeRolePolicyDocument=trusting({"Service": "lambda.amazonaws.com"}))
    error = refused(lab.client("sts").assume_role, RoleArn=role_arn("lambda-only"), RoleSessionName="session")
    assert code_of(error) == "AccessDenied"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_statement_naming_someone_else_is_neutral(lab):
    other = f"arn:aws:iam::{ACCOUNT}:user/someone-else"
    trust = trusting({"Service": "lambda.amazonaws.com"}, {"AWS": other}, {"AWS": lab.operator_arn})
    lab.role("lambda-and-operator", allow("sqs:ListQueues"), trust=trust)


@pytest.mark.parametrize("principal", [ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", "*"])
def test_an_account_or_everyone_names_the_accounts_users(lab, principal):
    name = f"trusts-{'root' if principal.endswith('root') else 'star' if principal == '*' else 'account'}"
    lab.role(name, trust=trusting({"AWS": principal}))
    lab.client("iam").create_role(RoleName=f"{name}-str", AssumeRolePolicyDocument=trusting("*"))
    lab.assume(f"{name}-str")


def test_a_role_arn_names_its_sessions(lab):
    first = lab.role("first", allow("sts:AssumeRole", role_arn("second")))
    lab.client("iam").create_role(RoleName="second", AssumeRolePolicyDocument=trusting({"AWS": role_arn("first")}))
    lab.client("sts", first).assume_role(RoleArn=role_arn("second"), RoleSessionName="chained")


def test_assuming_a_role_that_does_not_exist_is_refused(lab):
    assert (
        code_of(refused(lab.client("sts").assume_role, RoleArn=role_arn("nowhere"), RoleSessionName="session")) == "AccessDenied"
    )


def test_a_trust_demanding_an_external_id_refuses_a_caller_without_it(lab):
    trust = trusting({"AWS": lab.operator_arn}).replace(
        '"Action": "sts:AssumeRole"', '"Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "k1"}}'
    )
    lab.client("iam").create_role(RoleName="with-external-id", AssumeRolePolicyDocument=trust)
    sts = lab.client("sts")
    sts.assume_role(RoleArn=role_arn("with-external-id"), RoleSessionName="session", ExternalId="k1")
    for wrong in ({}, {"ExternalId": "k2"}):
        assert (
            code_of(refused(sts.assume_role, RoleArn=role_arn("with-external-id"), RoleSessionName="session", **wrong))
            == "AccessDenied"
        )


@pytest.mark.parametrize(
    ("service", "call", "kwargs", "code"),
    [
        ("sqs", "list_queues", {}, "InvalidClientTokenId"),
        ("dynamodb", "list_tables", {}, "UnrecognizedClientException"),
        ("sns", "list_topics", {}, "InvalidClientTokenId"),
        ("lambda", "list_functions", {}, "UnrecognizedClientException"),
        ("pipes", "list_pipes", {}, "UnrecognizedClientException"),
        ("cloudwatch", "list_metrics", {}, "InvalidClientTokenId"),
        ("cloudfront", "list_distributions", {}, "InvalidClientTokenId"),
        ("s3", "list_buckets", {}, "InvalidAccessKeyId"),
    ],
)
def test_the_dummy_credentials_are_refused_as_each_service_refuses_them(lab, service, call, kwargs, code):
    assert code_of(refused(getattr(lab.client(service, DUMMY), call), **kwargs)) == code


def test_a_wrong_secret_is_refused_as_each_service_refuses_it(lab):
    wrong = {"AccessKeyId": lab.operator["AccessKeyId"], "SecretAccessKey": "wrong"}
    assert code_of(refused(lab.client("dynamodb", wrong).list_tables)) == "InvalidSignatureException"
    assert code_of(refused(lab.client("sqs", wrong).list_queues)) == "SignatureDoesNotMatch"
    assert code_of(refused(lab.client("lambda", wrong).list_functions)) == "InvalidSignatureException"


def expire(credentials: dict[str, str]) -> None:
    """Move a session's expiration into the past, in moto's own process."""
    for session in sts_backends[ACCOUNT]["aws"].assumed_roles:
        if session.access_key_id == credentials["AccessKeyId"]:
            session.expiration = session.expiration.replace(year=2000)


def test_an_expired_session_is_refused_and_a_fresh_one_works(lab):
    statements = (allow("sqs:*", f"{SQS}:jobs"), allow("dynamodb:*"), allow("s3:*"))
    credentials = lab.role("expiring", *statements, DurationSeconds=900)
    lab.client("sqs", credentials).get_queue_url(QueueName="jobs")
    expire(credentials)
    error = refused(lab.client("sqs", credentials).get_queue_url, QueueName="jobs")
    assert code_of(error) == "ExpiredToken"
    assert error.response["Error"]["Message"] == "The security token included in the request is expired"
    assert code_of(refused(lab.client("dynamodb", credentials).list_tables)) == "ExpiredTokenException"
    assert code_of(refused(lab.client("s3", credentials).list_buckets)) == "ExpiredToken"
    fresh = lab.assume("expiring", DurationSeconds=900)
    lab.client("sqs", fresh).get_queue_url(QueueName="jobs")


def test_a_client_that_renews_expired_credentials_keeps_working(lab):
    lab.role("renewed", allow("sqs:GetQueueUrl", f"{SQS}:jobs"))

    def fetch() -> dict[str, str]:
        fresh = lab.assume("renewed", DurationSeconds=900)
        expiration = next(
            s.expiration for s in sts_backends[ACCOUNT]["aws"].assumed_roles if s.access_key_id == fresh["AccessKeyId"]
        )
        return {
            "access_key": fresh["AccessKeyId"],
            "secret_key": fresh["SecretAccessKey"],
            "token": fresh["SessionToken"],
            "expiry_time": expiration.replace(tzinfo=UTC).isoformat(),
        }

    stale = lab.assume("renewed", DurationSeconds=900)
    expire(stale)
    metadata = {"access_key": stale["AccessKeyId"], "secret_key": stale["SecretAccessKey"], "token": stale["SessionToken"]}
    metadata["expiry_time"] = datetime(2000, 1, 1, tzinfo=UTC).isoformat()
    assert code_of(refused(lab.client("sqs", stale).get_queue_url, QueueName="jobs")) == "ExpiredToken"  # never renewed
    session = botocore.session.get_session()
    session._credentials = RefreshableCredentials.create_from_metadata(metadata, fetch, "assume-role")  # as a profile's role
    renewing = boto3.Session(botocore_session=session).client("sqs", endpoint_url=lab.url, region_name=REGION)
    renewing.get_queue_url(QueueName="jobs")


def test_duration_seconds_is_bounded_as_aws_bounds_it(lab):
    lab.role("short", allow("sts:AssumeRole"))
    sts = lab.client("sts")
    unchecked = lab.client("sts", parameter_validation=False)  # botocore refuses 100 before sending it
    error = refused(unchecked.assume_role, RoleArn=role_arn("short"), RoleSessionName="session", DurationSeconds=100)
    assert code_of(error) == "ValidationError"
    error = refused(sts.assume_role, RoleArn=role_arn("short"), RoleSessionName="session", DurationSeconds=7200)
    assert "MaxSessionDuration" in error.response["Error"]["Message"]
    lab.client("iam").update_role(RoleName="short", MaxSessionDuration=7200)
    sts.assume_role(RoleArn=role_arn("short"), RoleSessionName="session", DurationSeconds=7200)
    # A session assuming a role (chaining) gets an hour at most.
    lab.client("iam").create_role(
        RoleName="long", AssumeRolePolicyDocument=trusting({"AWS": role_arn("short")}), MaxSessionDuration=7200
    )
    chained = lab.client("sts", lab.assume("short"))
    chained.assume_role(RoleArn=role_arn("long"), RoleSessionName="chained", DurationSeconds=3600)
    error = refused(chained.assume_role, RoleArn=role_arn("long"), RoleSessionName="chained", DurationSeconds=7200)
    assert "role chaining" in error.response["Error"]["Message"]


def test_an_old_session_is_found_among_many(lab):
    first = lab.role("busy", allow("sqs:GetQueueUrl", f"{SQS}:jobs"))
    for _ in range(30):
        lab.assume("busy")
    lab.client("sqs", first).get_queue_url(QueueName="jobs")
    assert lab.client("sts", first).get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/busy/busy"


def test_bodyless_rest_calls_pass_their_signature(lab):
    lam, pipes, cloudfront = lab.client("lambda"), lab.client("pipes"), lab.client("cloudfront")
    lam.list_functions(MaxItems=5)
    pipes.list_pipes(Limit=5)
    cloudfront.list_distributions()
    lab.client("apigateway").get_rest_apis()
    assert code_of(refused(lam.get_function, FunctionName="nothing")) == "ResourceNotFoundException"
    assert code_of(refused(lam.delete_function, FunctionName="nothing")) == "ResourceNotFoundException"
    assert code_of(refused(pipes.delete_pipe, Name="nothing")) == "NotFoundException"
    wrong = {"AccessKeyId": lab.operator["AccessKeyId"], "SecretAccessKey": "wrong"}
    assert code_of(refused(lab.client("pipes", wrong).list_pipes)) == "InvalidSignatureException"


def test_action_names_match_as_iam_matches_them(lab):
    sqs = lab.client(
        "sqs",
        lab.role(
            "loose",
            allow("SQS:getqueueurl", f"{SQS}:jobs"),
            allow("sqs:GetQueueAttribute?", f"{SQS}:jobs"),
            {"Effect": "Allow", "Action": "sqs:ListQueueTags", "NotResource": f"{SQS}:jobs"},
        ),
    )
    url = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    assert code_of(refused(sqs.list_queue_tags, QueueUrl=url)) == "AccessDenied"  # the one NotResource excludes
