"""Assumed-role sessions found by their key, refused once expired, as long as AWS lets them be.

moto 5.2.5 finds the session behind a temporary access key by reading every session ever
assumed in the account, on every call (`moto/iam/access_control.py`
`AssumedRoleAccessKey.__init__`, :162; `moto/sts/models.py` `get_assumed_role_from_access_key`,
:108-113): the check grows with each AssumeRole, and a fleet whose processes refresh their
credentials every hour never stops assuming. It never looks at a session's expiration,
so a client that fails to refresh keeps working locally and fails only on AWS. And it takes
any `DurationSeconds`: 100, or a day for a role whose maximum is an hour.

AWS refuses a call signed with an expired session's key: `ExpiredToken`, "The security
token included in the request is expired" (`ExpiredTokenException` for the JSON services,
`errors` renders it so; S3's own `ExpiredToken`, "The provided token has expired."). Its
AssumeRole takes 900 seconds up to the role's `MaxSessionDuration` (3600 unless the role
says more, 43200 at most), and one hour at most for a session assuming another role.

`install` makes moto of this process find a session in an index by its access key (built
as sessions are appended, whatever appends them), refuse an expired one under enforcement,
and check `DurationSeconds` as AWS does under enforcement. A wrong token, an unknown key and
every answer of AssumeRole are moto's own; with enforcement off, nothing changes.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.core.exceptions import _RESTError

from fleet.runtime.moto_iam.switch import enforcing
from fleet.runtime.moto_iam.trust import role_by_arn

EXPIRED_MESSAGE = "The security token included in the request is expired"
S3_EXPIRED_MESSAGE = "The provided token has expired."
#: AssumeRole's bounds (seconds): AWS's minimum, its default maximum, its ceiling, and chaining's.
MIN_DURATION = 900
DEFAULT_MAX_DURATION = 3600
MAX_DURATION = 43200
CHAINED_MAX_DURATION = 3600


def install() -> None:
    """Index sessions, refuse expired ones and bound DurationSeconds (again: the same)."""
    from moto.iam.access_control import AssumedRoleAccessKey, IAMRequest, S3IAMRequest
    from moto.sts.models import STSBackend
    from moto.sts.responses import TokenResponse

    if getattr(AssumedRoleAccessKey.__init__, "_fleet_moto_iam", False):
        return
    moto_raise_invalid = IAMRequest._raise_invalid_access_key
    moto_raise_invalid_s3 = S3IAMRequest._raise_invalid_access_key
    moto_assume_role = TokenResponse.assume_role

    def _raise_invalid_access_key(self: Any, reason: str) -> None:
        if reason == "ExpiredToken":
            raise ExpiredTokenError()
        moto_raise_invalid(self, reason)

    def _raise_invalid_access_key_s3(self: Any, reason: str) -> None:
        if reason == "ExpiredToken":
            raise s3_expired_token()
        moto_raise_invalid_s3(self, reason)

    def assume_role(self: Any) -> Any:
        if enforcing():
            check_duration(self)
        return moto_assume_role(self)

    # Replacing moto's methods is the point: mypy refuses each assignment to a method, and
    # sees ours as other types than moto's (an `Any` self, a parameter named otherwise).
    _assumed_role_key_init._fleet_moto_iam = True  # type: ignore[attr-defined]
    AssumedRoleAccessKey.__init__ = _assumed_role_key_init  # type: ignore[method-assign]
    STSBackend.get_assumed_role_from_access_key = _get_assumed_role_from_access_key  # type: ignore[method-assign,assignment]
    IAMRequest._raise_invalid_access_key = _raise_invalid_access_key  # type: ignore[method-assign,assignment]
    S3IAMRequest._raise_invalid_access_key = _raise_invalid_access_key_s3  # type: ignore[method-assign]
    TokenResponse.assume_role = assume_role  # type: ignore[method-assign]


class ExpiredTokenError(_RESTError):
    """AWS's answer to a call signed with an expired session (the query protocol's shape, 403)."""

    code = 403

    def __init__(self) -> None:
        super().__init__("ExpiredToken", EXPIRED_MESSAGE)


def s3_expired_token() -> Exception:
    """S3's answer to a request signed with an expired session."""
    from moto.s3.exceptions import S3ClientError

    return S3ClientError("ExpiredToken", S3_EXPIRED_MESSAGE)


class SessionIndex:
    """An account's assumed-role sessions by access key id, kept up with moto's list of them."""

    def __init__(self) -> None:
        self._by_key: dict[str, Any] = {}
        self._indexed = 0
        self._lock = threading.Lock()

    def find(self, sessions: list[Any], access_key_id: str) -> Any | None:
        """The first session in `sessions` with this access key, or None."""
        found = self._by_key.get(access_key_id)
        if found is None and len(sessions) > self._indexed:
            with self._lock:  # moto only ever appends: index what came since
                for session in sessions[self._indexed :]:
                    self._by_key.setdefault(session.access_key_id, session)
                self._indexed = len(sessions)
            found = self._by_key.get(access_key_id)
        return found


def find_session(backend: Any, access_key_id: str) -> Any | None:
    """The session behind `access_key_id` in an account's STS backend, or None."""
    index = backend.__dict__.get("_fleet_sessions")
    if index is None:
        index = backend.__dict__.setdefault("_fleet_sessions", SessionIndex())
    return index.find(backend.assumed_roles, access_key_id)


def expired(session: Any) -> bool:
    """True once the session's expiration has passed (moto keeps it naive, in UTC)."""
    from moto.core.utils import utcnow

    return bool(session.expiration <= utcnow())


def _assumed_role_key_init(self: Any, account_id: str, partition: str, access_key_id: str, headers: Any) -> None:
    """moto's AssumedRoleAccessKey, found in the index; refused once expired under enforcement."""
    from moto.iam.access_control import CreateAccessKeyFailure
    from moto.sts.models import sts_backends

    self.account_id = account_id
    self.partition = partition
    session = find_session(sts_backends[account_id][partition], access_key_id)
    if session is None:
        raise CreateAccessKeyFailure(reason="InvalidId")
    self._access_key_id = access_key_id
    self._secret_access_key = session.secret_access_key
    self._session_token = session.session_token
    self._owner_role_name = session.role_arn.split("/")[-1]
    self._session_name = session.session_name
    if headers["X-Amz-Security-Token"] != self._session_token:
        raise CreateAccessKeyFailure(reason="InvalidToken")
    if enforcing() and expired(session):
        raise CreateAccessKeyFailure(reason="ExpiredToken")


def _get_assumed_role_from_access_key(backend: Any, access_key_id: str) -> Any | None:
    """moto's lookup (GetCallerIdentity's), from the index."""
    return find_session(backend, access_key_id)


def check_duration(response: Any) -> None:
    """AWS's bounds on AssumeRole's DurationSeconds; moto's ValidationError when one is passed."""
    from moto.sts.exceptions import STSValidationError

    duration = response._get_int_param("DurationSeconds")
    if duration is None:
        return  # AWS's default, an hour, fits every role
    if duration < MIN_DURATION or duration > MAX_DURATION:
        bound = "greater than or equal to 900" if duration < MIN_DURATION else "less than or equal to 43200"
        raise STSValidationError(
            f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: "
            f"Member must have value {bound}"
        )
    role = role_by_arn(response._get_param("RoleArn") or "")
    maximum = int(getattr(role, "max_session_duration", None) or DEFAULT_MAX_DURATION)
    if duration > maximum:
        raise STSValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    if duration > CHAINED_MAX_DURATION and _caller_is_session(response):
        raise STSValidationError(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
        )


def _caller_is_session(response: Any) -> bool:
    from moto.sts.models import sts_backends

    return find_session(sts_backends[response.current_account][response.partition], response.get_access_key()) is not None
