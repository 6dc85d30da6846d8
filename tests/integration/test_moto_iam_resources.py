"""Under enforcement, each call is checked on the resources AWS checks, under IAM's action names.

One moto server of its own (`moto_iam_lab`), enforcing for the whole module; each test
makes the resources and the role it needs, and reads the error code botocore sees.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.integration.moto_iam_lab import ACCOUNT, REGION, allow, code_of, enforcing_lab

DDB = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"
SQS = f"arn:aws:sqs:{REGION}:{ACCOUNT}"


@pytest.fixture(scope="module")
def lab():
    with enforcing_lab() as made:
        ddb = made.client("dynamodb")
        for name in ("alpha", "beta"):
            ddb.create_table(
                TableName=name,
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "g", "AttributeType": "S"},
                ],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
                GlobalSecondaryIndexes=[
                    {
                        "IndexName": "by-g",
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
            )
        yield made


def refused(call, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value


def item(key: str) -> dict:
    return {"pk": {"S": key}, "g": {"S": "x"}}


def test_put_item_is_checked_on_its_table(lab):
    ddb = lab.client("dynamodb", lab.role("put-alpha", allow("dynamodb:PutItem", f"{DDB}/alpha")))
    ddb.put_item(TableName="alpha", Item=item("1"))
    error = refused(ddb.put_item, TableName="beta", Item=item("1"))
    assert code_of(error) == "AccessDeniedException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert f"dynamodb:PutItem on resource: {DDB}/beta" in error.response["Error"]["Message"]


def test_query_on_an_index_is_checked_on_the_index(lab):
    on_index = lab.client("dynamodb", lab.role("query-index", allow("dynamodb:Query", f"{DDB}/alpha/index/by-g")))
    on_table = lab.client("dynamodb", lab.role("query-table", allow("dynamodb:Query", f"{DDB}/alpha")))
    by_g = {"KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"S": "x"}}}
    by_pk = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "1"}}}
    on_index.query(TableName="alpha", IndexName="by-g", **by_g)
    on_table.query(TableName="alpha", **by_pk)
    assert code_of(refused(on_index.query, TableName="alpha", **by_pk)) == "AccessDeniedException"
    assert code_of(refused(on_table.query, TableName="alpha", IndexName="by-g", **by_g)) == "AccessDeniedException"


def test_batch_get_is_checked_on_every_table(lab):
    ddb = lab.client("dynamodb", lab.role("batch-alpha", allow("dynamodb:BatchGetItem", f"{DDB}/alpha")))
    keys = {"Keys": [{"pk": {"S": "1"}}]}
    ddb.batch_get_item(RequestItems={"alpha": keys})
    assert code_of(refused(ddb.batch_get_item, RequestItems={"alpha": keys, "beta": keys})) == "AccessDeniedException"


def test_a_transaction_needs_each_items_own_action_on_its_table(lab):
    allowed = lab.client(
        "dynamodb",
        lab.role("tx-items", allow("dynamodb:PutItem", f"{DDB}/alpha"), allow("dynamodb:UpdateItem", f"{DDB}/beta")),
    )
    put_alpha = {"Put": {"TableName": "alpha", "Item": item("t1")}}
    update_beta = {"Update": {"TableName": "beta", "Key": {"pk": {"S": "t1"}}, "UpdateExpression": "SET n = :n"}}
    update_beta["Update"]["ExpressionAttributeValues"] = {":n": {"N": "1"}}
    allowed.transact_write_items(TransactItems=[put_alpha, update_beta])
    put_beta = {"Put": {"TableName": "beta", "Item": item("t2")}}
    assert code_of(refused(allowed.transact_write_items, TransactItems=[put_alpha, put_beta])) == "AccessDeniedException"
    # moto's name is no IAM action: a policy granting it alone grants nothing.
    moto_named = lab.client("dynamodb", lab.role("tx-moto", allow("dynamodb:TransactWriteItems")))
    assert code_of(refused(moto_named.transact_write_items, TransactItems=[put_alpha])) == "AccessDeniedException"


def test_a_read_transaction_needs_get_item_on_each_table(lab):
    ddb = lab.client("dynamodb", lab.role("tx-get", allow("dynamodb:GetItem", f"{DDB}/alpha")))
    get = {"Get": {"TableName": "alpha", "Key": {"pk": {"S": "1"}}}}
    ddb.transact_get_items(TransactItems=[get])
    other = {"Get": {"TableName": "beta", "Key": {"pk": {"S": "1"}}}}
    assert code_of(refused(ddb.transact_get_items, TransactItems=[get, other])) == "AccessDeniedException"


def test_stream_calls_are_checked_on_the_stream(lab):
    ddb = lab.client("dynamodb")
    alpha, beta = (ddb.describe_table(TableName=t)["Table"]["LatestStreamArn"] for t in ("alpha", "beta"))
    operator_streams = lab.client("dynamodbstreams")
    shard = operator_streams.describe_stream(StreamArn=beta)["StreamDescription"]["Shards"][0]["ShardId"]
    beta_iterator = operator_streams.get_shard_iterator(StreamArn=beta, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    actions = ["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"]
    streams = lab.client("dynamodbstreams", lab.role("streams-alpha", allow(actions, f"{DDB}/alpha/stream/*")))
    shard = streams.describe_stream(StreamArn=alpha)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=alpha, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    streams.get_records(ShardIterator=iterator)
    assert code_of(refused(streams.describe_stream, StreamArn=beta)) == "AccessDeniedException"
    assert code_of(refused(streams.get_records, ShardIterator=beta_iterator["ShardIterator"])) == "AccessDeniedException"


def test_sqs_checks_the_queue_and_reports_access_denied_as_sqs_does(lab):
    operator = lab.client("sqs")
    mine, other = (operator.create_queue(QueueName=name)["QueueUrl"] for name in ("mine", "other"))
    sqs = lab.client("sqs", lab.role("send-mine", allow(["sqs:SendMessage", "sqs:GetQueueUrl"], f"{SQS}:mine")))
    assert sqs.get_queue_url(QueueName="mine")["QueueUrl"] == mine
    sqs.send_message(QueueUrl=mine, MessageBody="m")
    sqs.send_message_batch(QueueUrl=mine, Entries=[{"Id": "1", "MessageBody": "m"}])  # IAM's sqs:SendMessage
    error = refused(sqs.send_message, QueueUrl=other, MessageBody="m")
    assert code_of(error) == "AccessDenied"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert code_of(refused(sqs.get_queue_url, QueueName="other")) == "AccessDenied"
    assert code_of(refused(sqs.receive_message, QueueUrl=mine)) == "AccessDenied"


def test_sns_publish_is_checked_on_the_topic(lab):
    operator = lab.client("sns")
    mine, other = (operator.create_topic(Name=name)["TopicArn"] for name in ("mine", "other"))
    sns = lab.client("sns", lab.role("publish-mine", allow("sns:Publish", mine)))
    sns.publish(TopicArn=mine, Message="m")
    sns.publish_batch(TopicArn=mine, PublishBatchRequestEntries=[{"Id": "1", "Message": "m"}])  # IAM's sns:Publish
    assert code_of(refused(sns.publish, TopicArn=other, Message="m")) == "AccessDenied"


def send_email(ses, source: str, **extra) -> str:
    message = {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}
    return ses.send_email(Source=source, Destination={"ToAddresses": ["to@example.net"]}, Message=message, **extra)["MessageId"]


def test_ses_send_is_checked_on_the_identity_it_sends_as_and_its_configuration_set(lab):
    operator = lab.client("ses")
    operator.verify_domain_identity(Domain="example.com")
    operator.verify_email_identity(EmailAddress="owner@example.org")
    operator.verify_email_identity(EmailAddress="to@example.net")
    operator.create_configuration_set(ConfigurationSet={"Name": "tracked"})
    identity = f"arn:aws:ses:{REGION}:{ACCOUNT}:identity"
    domain = lab.client("ses", lab.role("ses-domain", allow("ses:SendEmail", [f"{identity}/example.com"])))
    send_email(domain, "news@example.com")
    # A subdomain sends as its verified parent: IAM lets it through, then moto (unlike SES) refuses
    # an address whose own domain is not verified.
    assert code_of(refused(send_email, domain, "Shop <news@mail.example.com>")) == "MessageRejected"
    assert code_of(refused(send_email, domain, "owner@example.org")) == "AccessDenied"
    assert code_of(refused(send_email, domain, "news@example.com", ConfigurationSetName="tracked")) == "AccessDenied"
    # The address of a verified domain sends as the domain: its own ARN grants nothing.
    address = lab.client("ses", lab.role("ses-address", allow("ses:SendEmail", f"{identity}/news@example.com")))
    assert code_of(refused(send_email, address, "news@example.com")) == "AccessDenied"
    tracked = [f"{identity}/example.com", f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/tracked"]
    with_set = lab.client("ses", lab.role("ses-tracked", allow("ses:SendEmail", tracked)))
    send_email(with_set, "news@example.com", ConfigurationSetName="tracked")


def distribution(cloudfront, name: str) -> str:
    origin = {"Id": "o", "DomainName": f"{name}.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}
    behaviour = {
        "TargetOriginId": "o",
        "ViewerProtocolPolicy": "allow-all",
        "MinTTL": 0,
        "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
        "TrustedSigners": {"Enabled": False, "Quantity": 0},
    }
    config = {"CallerReference": name, "Origins": {"Quantity": 1, "Items": [origin]}, "DefaultCacheBehavior": behaviour}
    return cloudfront.create_distribution(DistributionConfig={**config, "Comment": "", "Enabled": True})["Distribution"]["Id"]


def test_cloudfront_invalidation_is_checked_on_the_distribution(lab):
    operator = lab.client("cloudfront")
    mine, other = distribution(operator, "mine"), distribution(operator, "other")
    arn = f"arn:aws:cloudfront::{ACCOUNT}:distribution/{mine}"
    cloudfront = lab.client("cloudfront", lab.role("invalidate-mine", allow(["cloudfront:CreateInvalidation"], arn)))
    batch = {"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": "r1"}
    cloudfront.create_invalidation(DistributionId=mine, InvalidationBatch=batch)
    error = refused(cloudfront.create_invalidation, DistributionId=other, InvalidationBatch=batch)
    assert code_of(error) == "AccessDenied"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_cloudfront_checks_functions_by_name_and_a_new_distribution_on_the_wildcard(lab):
    prefix = f"arn:aws:cloudfront::{ACCOUNT}"
    cloudfront = lab.client(
        "cloudfront",
        lab.role(
            "edge-deployer",
            allow("cloudfront:DescribeFunction", f"{prefix}:function/edge"),
            allow("cloudfront:CreateDistribution", f"{prefix}:distribution/*"),
        ),
    )
    assert code_of(refused(cloudfront.describe_function, Name="edge")) == "NoSuchFunctionExists"  # allowed: moto's answer
    assert code_of(refused(cloudfront.describe_function, Name="other")) == "AccessDenied"
    assert distribution(cloudfront, "new")


def test_cloudwatch_checks_alarms_and_dashboards_and_its_own_action_names(lab):
    alarms = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:fleet-*"
    dashboard = f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/fleet"
    cloudwatch = lab.client(
        "cloudwatch",
        lab.role(
            "watch",
            allow("cloudwatch:PutMetricAlarm", alarms),
            allow(["cloudwatch:PutDashboard", "cloudwatch:GetDashboard"], dashboard),
            allow("cloudwatch:PutMetricData"),
        ),
    )
    alarm = {"MetricName": "m", "Namespace": "n", "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0}
    alarm["ComparisonOperator"] = "GreaterThanThreshold"
    cloudwatch.put_metric_alarm(AlarmName="fleet-dlq", **alarm)
    assert code_of(refused(cloudwatch.put_metric_alarm, AlarmName="other-dlq", **alarm)) == "AccessDenied"
    cloudwatch.put_dashboard(DashboardName="fleet", DashboardBody='{"widgets": []}')
    cloudwatch.get_dashboard(DashboardName="fleet")
    assert code_of(refused(cloudwatch.put_dashboard, DashboardName="other", DashboardBody="{}")) == "AccessDenied"
    cloudwatch.put_metric_data(Namespace="n", MetricData=[{"MetricName": "m", "Value": 1.0}])
    # moto's name for it (the signing name, `monitoring`) is no IAM action.
    moto_named = lab.client("cloudwatch", lab.role("watch-moto", allow("monitoring:PutMetricData")))
    assert (
        code_of(refused(moto_named.put_metric_data, Namespace="n", MetricData=[{"MetricName": "m", "Value": 1.0}]))
        == "AccessDenied"
    )


def test_lambda_and_pipes_are_checked_on_the_function_and_the_pipe(lab):
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:workers"
    pipe = f"arn:aws:pipes:{REGION}:{ACCOUNT}:pipe/submissions"
    credentials = lab.role(
        "deployer",
        allow(["lambda:GetFunction", "lambda:InvokeFunction", "lambda:DeleteFunction"], function),
        allow(["pipes:DescribePipe", "pipes:DeletePipe"], pipe),
    )
    lam, pipes = lab.client("lambda", credentials), lab.client("pipes", credentials)
    # Allowed: moto's own answer about a function or pipe that is not there.
    for call in (lam.get_function, lam.delete_function):
        assert code_of(refused(call, FunctionName="workers")) == "ResourceNotFoundException"
    assert code_of(refused(lam.invoke, FunctionName="workers", Payload=b"{}")) == "ResourceNotFoundException"
    assert code_of(refused(lam.get_function, FunctionName=function)) == "ResourceNotFoundException"
    for call in (pipes.describe_pipe, pipes.delete_pipe):
        assert code_of(refused(call, Name="submissions")) == "NotFoundException"
    # Refused: another function, another pipe, a version the policy does not name.
    for call in (lam.get_function, lam.delete_function):
        assert code_of(refused(call, FunctionName="api")) == "AccessDeniedException"
    assert code_of(refused(lam.get_function, FunctionName="workers", Qualifier="7")) == "AccessDeniedException"
    assert code_of(refused(pipes.describe_pipe, Name="other")) == "AccessDeniedException"
    moto_named = lab.client("lambda", lab.role("invoker-moto", allow("lambda:Invoke", function)))
    assert code_of(refused(moto_named.invoke, FunctionName="workers", Payload=b"{}")) == "AccessDeniedException"


def test_api_gateway_is_checked_by_verb_on_the_path(lab):
    apis = f"arn:aws:apigateway:{REGION}::/restapis"
    reader = lab.client("apigateway", lab.role("api-reader", allow("apigateway:GET", [apis, f"{apis}/*"])))
    reader.get_rest_apis()
    assert code_of(refused(reader.create_rest_api, name="x")) == "AccessDeniedException"
