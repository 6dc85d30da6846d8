"""Each call checked against the resources AWS checks it against, under IAM's action for each.

moto 5.2.5 computes the resource of a call for SQS (the queue's ARN, if the queue exists),
IAM (a role's ARN), STS AssumeRole (the role's) and S3, and checks every other call against
the literal "*" (`moto/core/responses.py` `call_action`, :436-442), which no ARN in a
policy matches (`table/*` is not `*`): a least-privilege policy refuses every DynamoDB,
SNS, SES, CloudWatch, CloudFront, Lambda and Pipes call, and the only policy that works
locally grants `Resource: "*"`. A call on several resources is checked once.

IAM checks a call against the ARN of each resource it touches, wherever the service has
resource-level permissions for the action (the Service Authorization Reference), and
against "*" where it has none:
- DynamoDB: the table (`table/T`); Query and Scan with IndexName, the index
  (`table/T/index/I`); BatchGetItem and BatchWriteItem, each table; a transaction, each
  item under its own action (`actions.TRANSACTION_ITEMS`) on its table; a `ResourceArn`.
- DynamoDB Streams: the stream's ARN; GetRecords, the stream its shard iterator reads.
- SQS: the queue's ARN, whether or not it exists (GetQueueUrl and CreateQueue by name).
- SNS: the topic (`TopicArn`, CreateTopic's new one) or a `ResourceArn`.
- SES: a send, the identity it sends as (`SourceArn`, or the address's own identity if
  verified, else its domain's, the nearest verified parent domain included; the address
  when none is verified), the configuration set and the template when it names them.
- CloudWatch: an alarm's ARN (PutMetricAlarm, PutCompositeAlarm, SetAlarmState,
  DescribeAlarmHistory, DeleteAlarms, DescribeAlarms with names, Enable/DisableAlarmActions),
  a dashboard's (PutDashboard, GetDashboard, DeleteDashboards), a `ResourceARN`.
- CloudFront: the distribution (`arn:aws:cloudfront::ACCOUNT:distribution/ID`) of
  CreateInvalidation, GetInvalidation, ListInvalidations, Get/Update/DeleteDistribution
  and GetDistributionConfig; a function (`function/NAME`); an origin access control, a cache,
  origin request or response headers policy (`origin-access-control/ID`...); for a call that
  makes one, the type's wildcard (`distribution/*`); a tagged `Resource`.
- Lambda: the function (`function:NAME`, with `:QUALIFIER` when one is given), an event
  source mapping (`event-source-mapping:UUID`), a tagged resource.
- Pipes: the pipe (`pipe/NAME`), a tagged resource.
- API Gateway: the path of the call (`arn:aws:apigateway:REGION::/restapis/...`), under the
  verb that `actions` names.

`install` makes moto of this process do the same: it checks the signature once, then each
(action, resource) pair in turn; the first refused is the call's AccessDenied, its message
naming the resource as AWS's does. A call not listed above, or one too malformed to read,
keeps moto's resource, and moto's own error once it is allowed. A request with no
signature at all is refused (`MissingAuthenticationToken`), where moto answered a 500.
Only enforcement checks; with it off, moto counts the call as before.
"""

from __future__ import annotations

import email
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError, _RESTError
from moto.iam.access_control import IAMRequest

from fleet.runtime.moto_iam.actions import TRANSACTION_ITEMS
from fleet.runtime.moto_iam.switch import enforcing

#: One check: IAM's action, and the ARN (or "*") it is checked on.
Check = tuple[str, str]


class AccessDenied(_RESTError):
    """moto's AccessDenied (403), its message naming the resource as AWS's does."""

    code = 403

    def __init__(self, principal_arn: str, action: str, resource: str) -> None:
        on = f" on resource: {resource}" if resource != "*" else ""
        super().__init__("AccessDenied", f"User: {principal_arn} is not authorized to perform: {action}{on}")


class MissingAuthenticationToken(_RESTError):
    """AWS's answer to an unsigned call (moto's: a 500, KeyError on Authorization)."""

    code = 403

    def __init__(self) -> None:
        super().__init__("MissingAuthenticationToken", "Request is missing Authentication Token")


def install() -> None:
    """Make moto check each call against AWS's resources (again: the same)."""
    moto_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action
    if getattr(moto_authorize, "_fleet_moto_iam", False):
        return

    def _authenticate_and_authorize_normal_action(self: Any, resource: str = "*") -> None:
        if not enforcing() or self.headers.get("X-Amz-Target") in ActionAuthenticatorMixin.PUBLIC_OPERATIONS:
            moto_authorize(self, resource)  # moto counts the call, or lets a public one through
            return
        authorize(self, resource)

    # Replacing moto's method is the point: mypy refuses an assignment to a method, and knows
    # no attribute on a function (the mark that makes a second install do nothing).
    _authenticate_and_authorize_normal_action._fleet_moto_iam = True  # type: ignore[attr-defined]
    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = _authenticate_and_authorize_normal_action  # type: ignore[method-assign]


def authorize(response: Any, resource: str = "*") -> None:
    """The signature of the request once, then every check of the call; raise the first refusal."""
    if "Authorization" not in response.headers:
        raise MissingAuthenticationToken()
    operation = response._get_action()
    path = response.raw_path
    query = urlsplit(response.uri).query
    request = IAMRequest(
        account_id=response.current_account,
        method=response.method,
        path=f"{path}?{query}" if query else path,
        data=response.data,
        body=response.raw_body,
        headers=response.headers,
        action=operation,
    )
    request.check_signature()
    for action, arn in checks(response, operation, request._action, resource):
        request._action = action
        try:
            request.check_action_permitted(arn)
        except AccessDeniedError:
            raise AccessDenied(request._access_key.arn, action, arn) from None


def checks(response: Any, operation: str, action: str, resource: str = "*") -> list[Check]:
    """Every (action, resource) IAM checks for this call, each once, in order; moto's own otherwise."""
    found: list[Check] = []
    compute = BY_SERVICE.get(response.service_name)
    if compute is not None:
        try:
            found = compute(Call(response, operation, action))
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            found = []  # too malformed to read: moto's resource, and moto's error once allowed
    return list(dict.fromkeys(found)) or [(action, resource)]


@dataclass(frozen=True)
class Call:
    """One request as the resource functions read it."""

    response: Any
    operation: str
    action: str

    def param(self, name: str) -> Any:
        """A parameter of the request (moto's reading: parsed, from the query, the body or the path)."""
        return self.response._get_param(name)

    def path_param(self, name: str) -> Any:
        """A label of a REST request's path."""
        return (self.response.uri_match or {}).get(name)

    def query_param(self, name: str) -> str | None:
        """A parameter of the query string itself."""
        values = parse_qs(self.response.parsed_url.query).get(name)
        return values[0] if values else None

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        """An ARN of this account (in this region, unless the service's ARNs have none)."""
        where = self.response.region if region else ""
        return f"arn:{self.response.partition}:{service}:{where}:{self.response.current_account}:{resource}"


def _dynamodb(call: Call) -> list[Check]:
    def table(name: str) -> str:
        return name if name.startswith("arn:") else call.arn("dynamodb", f"table/{name}")

    if call.operation in ("TransactWriteItems", "TransactGetItems"):
        return [
            (TRANSACTION_ITEMS[kind], table(operation["TableName"]))
            for item in call.param("TransactItems")
            for kind, operation in item.items()
        ]
    if call.operation in ("BatchGetItem", "BatchWriteItem"):
        return [(call.action, table(name)) for name in call.param("RequestItems")]
    name = call.param("TableName")
    if name:
        index = call.param("IndexName")
        if index and call.operation in ("Query", "Scan"):
            return [(call.action, f"{table(name)}/index/{index}")]
        return [(call.action, table(name))]
    arn = call.param("ResourceArn")
    return [(call.action, arn)] if arn else []


def _dynamodb_streams(call: Call) -> list[Check]:
    arn = call.param("StreamArn")
    if arn:
        return [(call.action, arn)]
    iterator = call.param("ShardIterator")
    if iterator:  # moto's iterators begin with their stream's ARN
        return [(call.action, str(iterator).split("|")[0])]
    return []


def _sqs(call: Call) -> list[Check]:
    url = call.param("QueueUrl")
    if url:
        parts = urlsplit(url).path.strip("/").split("/") if "://" in url else [url]
        account = parts[-2] if len(parts) >= 2 and parts[-2].isdigit() else call.response.current_account
        return [(call.action, f"arn:{call.response.partition}:sqs:{call.response.region}:{account}:{parts[-1]}")]
    name = call.param("QueueName")
    if name and call.operation in ("GetQueueUrl", "CreateQueue"):
        account = call.param("QueueOwnerAWSAccountId") or call.response.current_account
        return [(call.action, f"arn:{call.response.partition}:sqs:{call.response.region}:{account}:{name}")]
    return []


def _sns(call: Call) -> list[Check]:
    arn = call.param("TopicArn") or call.param("ResourceArn")
    if arn:
        return [(call.action, arn)]
    if call.operation == "CreateTopic":
        return [(call.action, call.arn("sns", call.param("Name")))]
    return []


#: SES's sends (v1 and v2): the calls authorized against the identity they send as.
SES_SENDS = frozenset({"SendEmail", "SendRawEmail", "SendTemplatedEmail", "SendBulkTemplatedEmail", "SendBulkEmail"})


def _ses(call: Call) -> list[Check]:
    if call.operation not in SES_SENDS:
        return []
    raw = call.param("RawMessage.Data") or call.param("Content.Raw.Data")
    headers = email.message_from_bytes(raw if isinstance(raw, bytes) else str(raw).encode()) if raw else None
    identity = call.param("SourceArn") or call.param("FromEmailAddressIdentityArn")
    if not identity:
        sender = call.param("Source") or call.param("FromEmailAddress") or (headers["From"] if headers else None)
        identity = call.arn("ses", f"identity/{sending_identity(call, str(sender or ''))}")
    found = [(call.action, identity)]
    configuration_set = call.param("ConfigurationSetName") or (headers["X-SES-CONFIGURATION-SET"] if headers else None)
    if configuration_set:
        found.append((call.action, call.arn("ses", f"configuration-set/{configuration_set}")))
    template = call.param("TemplateArn") or call.param("Content.Template.TemplateArn")
    name = call.param("Template") or call.param("Content.Template.TemplateName")
    if template or name:
        found.append((call.action, template or call.arn("ses", f"template/{name}")))
    return found


def sending_identity(call: Call, sender: str) -> str:
    """The identity SES sends `sender` as: the address if verified, else its nearest verified domain."""
    from moto.ses.models import ses_backends

    _, address = parseaddr(sender)
    verified = ses_backends[call.response.current_account][call.response.region].email_identities
    if address in verified:
        return address
    domain = address.rpartition("@")[2].lower()
    while domain:
        if domain in verified:
            return domain
        domain = domain.partition(".")[2] if "." in domain.partition(".")[2] else ""
    return address  # none verified: SES refuses it once IAM allows it


#: CloudWatch calls on one alarm (AlarmName), on several (AlarmNames), on dashboards.
ALARM = frozenset({"PutMetricAlarm", "PutCompositeAlarm", "SetAlarmState", "DescribeAlarmHistory"})
ALARMS = frozenset({"DeleteAlarms", "DescribeAlarms", "EnableAlarmActions", "DisableAlarmActions"})
DASHBOARD = frozenset({"PutDashboard", "GetDashboard"})
DASHBOARDS = frozenset({"DeleteDashboards"})


def _cloudwatch(call: Call) -> list[Check]:
    names: list[str] = []
    if call.operation in ALARM or call.operation in ALARMS:
        names = [call.param("AlarmName")] if call.operation in ALARM else list(call.param("AlarmNames") or [])
        return [(call.action, call.arn("cloudwatch", f"alarm:{name}")) for name in names if name]
    if call.operation in DASHBOARD or call.operation in DASHBOARDS:
        names = [call.param("DashboardName")] if call.operation in DASHBOARD else list(call.param("DashboardNames") or [])
        return [(call.action, call.arn("cloudwatch", f"dashboard/{name}", region=False)) for name in names if name]
    arn = call.param("ResourceARN")
    return [(call.action, arn)] if arn else []


#: CloudFront calls on one resource: its type in the ARN, and the parameter that names it (None:
#: the call makes it, and its id is given then, so IAM checks the type's wildcard, `distribution/*`).
CLOUDFRONT: dict[str, tuple[str, str | None]] = {
    "CreateInvalidation": ("distribution", "DistributionId"),
    "GetInvalidation": ("distribution", "DistributionId"),
    "ListInvalidations": ("distribution", "DistributionId"),
    "CreateDistribution": ("distribution", None),
    "CreateDistributionWithTags": ("distribution", None),
    "GetDistribution": ("distribution", "Id"),
    "GetDistributionConfig": ("distribution", "Id"),
    "UpdateDistribution": ("distribution", "Id"),
    "DeleteDistribution": ("distribution", "Id"),
    **{f"{verb}Function": ("function", "Name") for verb in ("Create", "Describe", "Get", "Update", "Publish", "Delete", "Test")},
    **{
        f"{verb}{kind}{suffix}": (arn_type, "Id")
        for kind, arn_type in (
            ("OriginAccessControl", "origin-access-control"),
            ("CachePolicy", "cache-policy"),
            ("OriginRequestPolicy", "origin-request-policy"),
            ("ResponseHeadersPolicy", "response-headers-policy"),
        )
        for verb, suffix in (("Get", ""), ("Get", "Config"), ("Update", ""), ("Delete", ""))
    },
    "CreateCachePolicy": ("cache-policy", None),
    "CreateOriginRequestPolicy": ("origin-request-policy", None),
    "CreateResponseHeadersPolicy": ("response-headers-policy", None),
}


def _cloudfront(call: Call) -> list[Check]:
    if call.operation in CLOUDFRONT:
        kind, by = CLOUDFRONT[call.operation]
        name = call.param(by) if by else "*"
        return [(call.action, call.arn("cloudfront", f"{kind}/{name}", region=False))]
    if call.operation in ("TagResource", "UntagResource", "ListTagsForResource"):
        return [(call.action, call.param("Resource"))]
    return []


def _lambda(call: Call) -> list[Check]:
    name = call.path_param("FunctionName") or (call.param("FunctionName") if call.operation == "CreateFunction" else None)
    if name:
        return [(call.action, function_arn(call, unquote(name), call.query_param("Qualifier")))]
    uuid = call.path_param("UUID")
    if uuid:
        return [(call.action, call.arn("lambda", f"event-source-mapping:{uuid}"))]
    tagged = call.path_param("Resource") or call.path_param("ARN")
    return [(call.action, unquote(tagged))] if tagged else []


def function_arn(call: Call, name: str, qualifier: str | None = None) -> str:
    """A function's ARN from its name, partial ARN or ARN, with a qualifier if one is given."""
    if name.startswith("arn:"):
        return name
    parts = name.split(":")
    if len(parts) >= 3 and parts[1] == "function":  # ACCOUNT:function:NAME[:QUALIFIER]
        account, rest = parts[0], ":".join(parts[2:])
        return f"arn:{call.response.partition}:lambda:{call.response.region}:{account}:function:{rest}"
    if len(parts) == 1 and qualifier:
        name = f"{name}:{qualifier}"
    return call.arn("lambda", f"function:{name}")


def _pipes(call: Call) -> list[Check]:
    name = call.path_param("Name")
    if name:
        return [(call.action, call.arn("pipes", f"pipe/{unquote(name)}"))]
    tagged = call.path_param("resourceArn")
    return [(call.action, unquote(tagged))] if tagged else []


def _apigateway(call: Call) -> list[Check]:
    path = unquote(call.response.path)
    if call.response.service_name == "apigatewayv2" and path.startswith("/v2/"):
        path = path[len("/v2") :]
    return [(call.action, f"arn:{call.response.partition}:apigateway:{call.response.region}::{path}")]


#: moto's service name -> the checks of its calls.
BY_SERVICE: dict[str, Callable[[Call], list[Check]]] = {
    "dynamodb": _dynamodb,
    "dynamodbstreams": _dynamodb_streams,
    "sqs": _sqs,
    "sns": _sns,
    "ses": _ses,
    "sesv2": _ses,
    "cloudwatch": _cloudwatch,
    "cloudfront": _cloudfront,
    "awslambda": _lambda,
    "pipes": _pipes,
    "apigateway": _apigateway,
    "apigatewayv2": _apigateway,
}
