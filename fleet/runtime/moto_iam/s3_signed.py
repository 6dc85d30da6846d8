"""S3 requests signed without an `Authorization` header, authorized as S3 authorizes them.

Under enforcement, moto 5.2.5 reads the `Authorization` header of every S3 request
(`moto/iam/access_control.py` `IAMRequestBase.__init__`, :232-234); a browser's form upload
(a presigned POST) and a presigned URL have none, and moto answers 500 (KeyError
'HTTP_AUTHORIZATION'). Without enforcement it takes them without looking at them: no
signature, no expiry, no POST policy condition (the thumbnail worker checks sizes itself).

S3 authorizes a form upload by the access key that signed its policy (SigV4 POST): the
signature is the HMAC of the base64 policy under the key's signing key, the policy must not
have expired, every form field must satisfy its conditions (`eq`, `starts-with`, an exact
match, `content-length-range` on the file) and no field may go uncovered (bar `policy`,
`x-amz-signature`, `file` and `x-ignore-*`); then the key's principal needs `s3:PutObject`
on the object. A presigned URL (SigV4 query) by its signature over the canonical request
and its expiry, then the principal's permission for the request's action on the object.
Anything else without a signature is anonymous, refused unless a bucket policy or ACL makes
the object public.

`install` makes moto's S3 in this process do so, once enforcement is on, with moto's own
principals (an IAM user's key, or an assumed role's with its token; `sessions` refuses an
expired one) and moto's own identity-policy evaluation. Anonymous requests are refused
(AccessDenied): moto evaluates no bucket policy or ACL that could make them public. SigV2
forms and URLs are refused too. With enforcement off, nothing changes.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from moto.iam.access_control import CreateAccessKeyFailure, S3IAMRequest, create_access_key
from moto.s3.exceptions import S3ClientError
from moto.s3.responses import S3Response
from moto.utilities.utils import get_partition

from fleet.runtime.moto_iam.sessions import s3_expired_token
from fleet.runtime.moto_iam.switch import enforcing

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)
#: Form fields that no condition has to cover (S3's rule, and the file itself).
UNCOVERED = frozenset({"policy", "x-amz-signature", "file"})


def install() -> None:
    """Authorize S3 form uploads and presigned URLs under enforcement (again: the same)."""
    moto_authorize = S3Response._authenticate_and_authorize_s3_action
    if getattr(moto_authorize, "_fleet_moto_iam", False):
        return

    def _authenticate_and_authorize_s3_action(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
        if not enforcing() or "Authorization" in self.headers:
            moto_authorize(self, bucket_name=bucket_name, key_name=key_name)
            return
        if self.method == "POST" and "policy" in _lower(self.form_data):
            authorize_form_upload(self, bucket_name)
        elif "X-Amz-Credential" in self.querystring:
            authorize_presigned_url(self, bucket_name, key_name)
        else:
            raise S3ClientError("AccessDenied", "Access Denied")  # anonymous: nothing here makes a bucket public

    # Replacing moto's method is the point: mypy refuses an assignment to a method, and knows
    # no attribute on a function (the mark that makes a second install do nothing).
    _authenticate_and_authorize_s3_action._fleet_moto_iam = True  # type: ignore[attr-defined]
    S3Response._authenticate_and_authorize_s3_action = _authenticate_and_authorize_s3_action  # type: ignore[method-assign]


# --- form uploads (POST policy, SigV4) ------------------------------------------------


def authorize_form_upload(response: Any, bucket: str | None) -> None:
    """A form upload's signature, expiry and conditions, then s3:PutObject for its signer."""
    fields = _lower(response.form_data)
    if fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256" or "x-amz-signature" not in fields or "x-amz-credential" not in fields:
        raise S3ClientError("AccessDenied", "Access Denied")  # a SigV2 form, or an unsigned one
    akid, date, region, service = _scope(fields["x-amz-credential"])
    if service != "s3" or not fields.get("x-amz-date", "").startswith(date):
        raise S3ClientError("AccessDenied", "Invalid according to Policy: Policy Condition failed: x-amz-credential")
    access_key = _access_key(response, akid, region, fields.get("x-amz-security-token"))
    expected = hmac.new(_signing_key(access_key, date, region, "s3"), fields["policy"].encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields["x-amz-signature"]):
        raise S3ClientError("SignatureDoesNotMatch", SIGNATURE_MISMATCH)
    try:
        document = json.loads(base64.b64decode(fields["policy"]))
    except ValueError:
        raise S3ClientError("InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from None
    if _now() >= _timestamp(document.get("expiration", "")):
        raise S3ClientError("AccessDenied", "Invalid according to Policy: Policy expired.")
    check_conditions(document.get("conditions", []), {**fields, "bucket": bucket or ""}, len(response.body or b""))
    key = response.querystring["key"][0]  # `${filename}` already replaced by moto
    _check_permitted(response, access_key, region, "s3:PutObject", f"arn:{get_partition(region)}:s3:::{bucket}/{key}")


def check_conditions(conditions: list[Any], fields: dict[str, str], size: int) -> None:
    """Raise S3's error unless every condition holds and every field is covered by one."""
    covered: set[str] = set()
    for condition in conditions:
        if isinstance(condition, dict):  # {"field": "value"}: an exact match
            for name, value in condition.items():
                _require(fields.get(name.lower()) == value, condition)
                covered.add(name.lower())
        elif isinstance(condition, list) and condition and str(condition[0]).lower() == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if size < low:
                raise S3ClientError("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
            if size > high:
                raise S3ClientError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
        elif isinstance(condition, list) and len(condition) == 3 and str(condition[0]).lower() in ("eq", "starts-with"):
            name = str(condition[1]).lstrip("$").lower()
            actual, value = fields.get(name), str(condition[2])
            if str(condition[0]).lower() == "eq":
                _require(actual == value, condition)
            elif name == "content-type":  # each of a comma-separated list must start with it
                _require(actual is not None and all(part.strip().startswith(value) for part in actual.split(",")), condition)
            else:
                _require(actual is not None and actual.startswith(value), condition)
            covered.add(name)
        else:
            raise S3ClientError("InvalidPolicyDocument", f"Invalid Policy: Invalid Condition: {json.dumps(condition)}")
    extra = sorted(name for name in fields if name not in covered and name not in UNCOVERED and not name.startswith("x-ignore-"))
    if extra:
        raise S3ClientError("AccessDenied", f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")


def _require(holds: bool, condition: Any) -> None:
    if not holds:
        raise S3ClientError("AccessDenied", f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}")


# --- presigned URLs (SigV4 query) -----------------------------------------------------


def authorize_presigned_url(response: Any, bucket: str | None, key: str | None) -> None:
    """A presigned URL's signature and expiry, then its signer's permission for the action."""
    query = {name: values[0] for name, values in response.querystring.items()}
    if query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        raise S3ClientError("AccessDenied", "Access Denied")
    akid, date, region, service = _scope(query["X-Amz-Credential"])
    amz_date = query.get("X-Amz-Date", "")
    try:
        signed = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
        lifetime = datetime.timedelta(seconds=int(query.get("X-Amz-Expires", "0")))
    except ValueError:
        raise S3ClientError("AuthorizationQueryParametersError", "X-Amz-Date or X-Amz-Expires is malformed.") from None
    if _now() > signed + lifetime:
        raise S3ClientError("AccessDenied", "Request has expired")
    access_key = _access_key(response, akid, region, query.get("X-Amz-Security-Token"))
    pairs = sorted(
        (quote(name, safe="-_.~"), quote(value, safe="-_.~"))
        for name, value in parse_qsl(urlsplit(response.uri).query, keep_blank_values=True)
        if name != "X-Amz-Signature"
    )
    signed_headers = query.get("X-Amz-SignedHeaders", "host").split(";")
    canonical = "\n".join(
        [
            response.method,
            urlsplit(response.raw_path).path,
            "&".join(f"{name}={value}" for name, value in pairs),
            "".join(f"{header}:{' '.join(str(response.headers.get(header, '')).split())}\n" for header in signed_headers),
            ";".join(signed_headers),
            "UNSIGNED-PAYLOAD",
        ]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    expected = hmac.new(_signing_key(access_key, date, region, service), to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, query.get("X-Amz-Signature", "")):
        raise S3ClientError("SignatureDoesNotMatch", SIGNATURE_MISMATCH)
    action = response.data["Action"]
    action = action[0] if isinstance(action, list) else action
    target = f"{bucket or '*'}/{key}" if key else (bucket or "*")
    _check_permitted(response, access_key, region, f"s3:{action}", f"arn:{get_partition(region)}:s3:::{target}")


# --- shared ---------------------------------------------------------------------------


def _scope(credential: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise S3ClientError("AccessDenied", "Access Denied")
    return parts[0], parts[1], parts[2], parts[3]


def _access_key(response: Any, akid: str, region: str, token: str | None) -> Any:
    """moto's own principal for `akid` (an IAM user's key, or an assumed role's with its token)."""
    try:
        return create_access_key(
            account_id=response.current_account,
            partition=get_partition(region),
            access_key_id=akid,
            headers={"X-Amz-Security-Token": token} if token else {},
        )
    except CreateAccessKeyFailure as failure:
        if failure.reason == "ExpiredToken":
            raise s3_expired_token() from None
        if failure.reason == "InvalidToken":
            raise S3ClientError("InvalidToken", "The provided token is malformed or otherwise invalid.") from None
        raise S3ClientError("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.") from None


def _signing_key(access_key: Any, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + access_key.create_credentials().secret_key).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _check_permitted(response: Any, access_key: Any, region: str, action: str, resource: str) -> None:
    """moto's own identity-policy evaluation of `action` on `resource` for the key's principal."""
    request = S3IAMRequest.__new__(S3IAMRequest)  # its checks, without an Authorization header to parse
    request.account_id = response.current_account
    request._region = region
    request._data = response.data
    request._action = action
    request._access_key = access_key
    request.check_action_permitted(resource)


def _lower(form: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in form.items()}


def _timestamp(text: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise S3ClientError("InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
