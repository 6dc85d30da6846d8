"""Fleet's own exceptions; adapters translate botocore's `ClientError` codes into these."""

from __future__ import annotations


class FleetError(Exception):
    """Base of every Fleet error."""


class RetryLater(FleetError):
    """A downstream is throttled or briefly unavailable: fail the record, retry it later."""


class NotFound(FleetError):
    """The resource or item does not exist."""


class ConditionFailed(FleetError):
    """A conditional write found the item in another state."""


class OutsideContract(FleetError):
    """The AWS at the endpoint (an emulator) answered an operation as AWS never does: the message names both."""


#: botocore error codes that mean "try again later", never "this record is bad".
RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "MaxSendingRateExceeded",
        "ServiceUnavailable",
        "InternalError",
        "InternalServerError",
        "InternalFailure",
        "RequestThrottled",
        "SlowDown",
        "TransactionConflictException",
    }
)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, or None for anything else."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code: str | None = response.get("Error", {}).get("Code")
        return code
    return None


def translate(exc: BaseException) -> BaseException:
    """Map a ClientError onto our exceptions; anything unknown is returned unchanged."""
    code = error_code(exc)
    if code is None and _is_transport_error(exc):
        return RetryLater(f"{type(exc).__name__}: {exc}")
    if code in RETRYABLE_CODES:
        return RetryLater(f"{code}: {exc}")
    if code == "ConditionalCheckFailedException":
        return ConditionFailed(str(exc))
    if code in ("ResourceNotFoundException", "NoSuchKey", "NoSuchBucket", "AWS.SimpleQueueService.NonExistentQueue"):
        return NotFound(f"{code}: {exc}")
    return exc


def _is_transport_error(exc: BaseException) -> bool:
    """True for botocore's connection and timeout errors: the request may go through later."""
    from botocore.exceptions import ConnectionError as BotocoreConnectionError
    from botocore.exceptions import HTTPClientError

    return isinstance(exc, (BotocoreConnectionError, HTTPClientError))
