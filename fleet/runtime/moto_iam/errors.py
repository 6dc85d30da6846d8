"""Authentication and authorization errors in the shape and with the codes each service sends.

moto 5.2.5 renders every such error (`moto/core/exceptions.py`: AccessDenied,
InvalidClientTokenId, SignatureDoesNotMatch; and `sessions`' ExpiredToken) as the query
protocol's XML, whatever the request's protocol (`moto/core/responses.py` `call_action`,
:441-448). botocore reads that XML from a JSON service (SQS, DynamoDB and its streams,
CloudWatch, Logs, EventBridge) or a REST-JSON one (Lambda, Pipes, API Gateway) as no code
at all: `Code` is '403'. It reads none from CloudFront's REST-XML either, whose errors have
no `Errors` wrapper.

AWS answers in the request's protocol:
- JSON and REST-JSON services: `AccessDeniedException`, `UnrecognizedClientException` (an
  unknown access key), `InvalidSignatureException`, `ExpiredTokenException`,
  `MissingAuthenticationTokenException`; HTTP 400 from the JSON 1.0/1.1 services
  (DynamoDB's documented codes), 403 from the REST ones;
- JSON services that were query services (SQS, CloudWatch: `awsQueryCompatible`) send the
  same body with an `x-amzn-query-error: <query code>;Sender` header, from which botocore
  takes the code the query protocol had: `AccessDenied`, `InvalidClientTokenId`,
  `SignatureDoesNotMatch`, `ExpiredToken`; 403, as before;
- CloudFront: its own XML, `<ErrorResponse><Error><Type>Sender</Type><Code>...`.

`install` makes moto of this process answer so; query services (IAM, STS, SNS, SES) keep
moto's XML, which is theirs, and S3 its own errors. The message is moto's. Only
enforcement raises these errors.
"""

from __future__ import annotations

import functools
from typing import Any
from xml.sax.saxutils import escape

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import JsonRESTError, _RESTError

#: The query protocol's code -> the JSON protocols'.
JSON_CODES = {
    "AccessDenied": "AccessDeniedException",
    "InvalidClientTokenId": "UnrecognizedClientException",
    "SignatureDoesNotMatch": "InvalidSignatureException",
    "ExpiredToken": "ExpiredTokenException",
    "MissingAuthenticationToken": "MissingAuthenticationTokenException",
}


def install() -> None:
    """Make moto answer auth errors in the request's protocol (again: the same)."""
    moto_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action
    if getattr(moto_authorize, "_fleet_moto_iam_errors", False):
        return

    @functools.wraps(moto_authorize)  # keeps the marks of what it wraps: `resources` stays installed once
    def _authenticate_and_authorize_normal_action(self: Any, resource: str = "*") -> None:
        try:
            moto_authorize(self, resource)
        except _RESTError as error:
            if error.error_type not in JSON_CODES or isinstance(error, JsonRESTError):
                raise
            raise in_protocol(self, error) from None

    # Wrapping moto's method (as `resources` made it) is the point: mypy refuses an assignment
    # to a method, and knows no attribute on a function (the mark of a second install).
    _authenticate_and_authorize_normal_action._fleet_moto_iam_errors = True  # type: ignore[attr-defined]
    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = _authenticate_and_authorize_normal_action  # type: ignore[method-assign]


def in_protocol(response: Any, error: _RESTError) -> Exception:
    """`error` (moto's XML auth error) as the service of `response` sends it."""
    try:
        protocol, query_compatible = protocol_of(response)
    except NotImplementedError:  # moto cannot tell the protocol (an odd Content-Type): its own error, then
        return error
    if protocol in ("json", "rest-json"):
        as_json = JsonRESTError(JSON_CODES[error.error_type], error.message)
        as_json.code = 400 if protocol == "json" and not query_compatible else 403
        if query_compatible:
            # call_action sends the response's own headers with an auth error, not the error's.
            response.response_headers["x-amzn-query-error"] = f"{error.error_type};Sender"
        return as_json
    if protocol == "rest-xml":
        as_xml = _RESTError(error.error_type, error.message)
        as_xml.code = error.code
        as_xml.description = (
            '<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type>'
            f"<Code>{escape(error.error_type)}</Code><Message>{escape(error.message)}</Message>"
            "</Error><RequestId></RequestId></ErrorResponse>"
        )
        return as_xml
    return error


def protocol_of(response: Any) -> tuple[str, bool]:
    """The protocol the request speaks (moto's reading of it) and whether its service was a query one."""
    from moto.core.utils import get_service_model

    model = get_service_model(response.boto3_service_name)
    return response.determine_response_protocol(model), "awsQueryCompatible" in model.metadata
