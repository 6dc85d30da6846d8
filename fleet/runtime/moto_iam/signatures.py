"""A request without a body is signed over an empty payload, as SigV4 says.

moto 5.2.5 recomputes a request's SigV4 signature over `body or data`
(`moto/iam/access_control.py` `IAMRequestBase._create_aws_request`, :344-349); for a
request without a body, `data` is its parsed query string or, with no query string either,
its headers (`moto/core/responses.py` `setup_class`, :246-268). So under enforcement every
GET and DELETE of a REST service (Lambda, Pipes, API Gateway, CloudFront: `ListPipes`,
`GetFunction`, `DeletePipe`...) fails SignatureDoesNotMatch, however well it is signed.
AWS, like botocore, hashes the bytes of the body: none, for these.

`install` makes moto sign over the raw body. A form-encoded POST (the query protocol: IAM,
STS, SNS, SES) keeps moto's `data`: werkzeug has consumed its body into the form, and
moto's form fields, encoded again, are those bytes. The signature's other parts (method,
path and query, signed headers, date, scope) and the errors for a bad one are moto's own.
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    """Make moto check a bodyless request's signature over an empty payload (again: the same)."""
    from moto.iam.access_control import IAMRequestBase

    if getattr(IAMRequestBase._create_aws_request, "_fleet_moto_iam", False):
        return
    # Replacing moto's method is the point: mypy refuses an assignment to a method.
    IAMRequestBase._create_aws_request = _create_aws_request  # type: ignore[method-assign]


def _create_aws_request(self: Any) -> Any:
    """moto's request to sign again, its payload the bytes the client signed."""
    from botocore.awsrequest import AWSRequest

    signed_headers = self._get_string_between("SignedHeaders=", ",", self._headers["Authorization"]).split(";")
    headers = self._create_headers_for_aws_request(signed_headers, self._headers)
    body: Any = self._body
    if not body and "x-www-form-urlencoded" in str(self._headers.get("Content-Type", "")):
        body = self._data  # a query-protocol POST: werkzeug parsed its body into the form
    request = AWSRequest(method=self._method, url=self._path, data=body or b"", headers=headers)
    request.context["timestamp"] = headers["X-Amz-Date"]
    return request


# A mark on the function itself (a second install does nothing): mypy knows no attributes on a function.
_create_aws_request._fleet_moto_iam = True  # type: ignore[attr-defined]
