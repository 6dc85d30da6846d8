"""AWS clients: created on first use, cached, honouring `AWS_ENDPOINT_URL` and the region.

No client is created at import time, so importing a handler costs nothing on a cold start.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from lambda_platform import settings

_lock = threading.Lock()
#: The account a running Lambda function belongs to, read from its context (no STS call).
_known_account: str | None = None
#: botocore event handlers attached to every client made from now on (see `on_every_call`).
_call_hooks: list[Callable[..., Any]] = []


#: A named profile that calls in this context sign with instead of the settings' (see `signing_as`).
_signing_profile: ContextVar[str] = ContextVar("fleet_signing_profile", default="")


def client(service: str) -> Any:
    """The cached boto3 client for `service` under the current settings."""
    current = settings.current()
    return _client(service, current.region, _endpoint(service, current), _signing_profile.get() or current.aws_profile)


def resource(service: str) -> Any:
    """The cached boto3 resource for `service` under the current settings."""
    current = settings.current()
    return _resource(service, current.region, _endpoint(service, current), _signing_profile.get() or current.aws_profile)


def _endpoint(service: str, current: settings.Settings) -> str | None:
    """The service's own endpoint when one is set (`AWS_ENDPOINT_URL_DYNAMODB`), else the settings' one."""
    if not current.service_endpoints:  # the usual case, and Lambda's: no model to read
        return current.endpoint_url
    return current.endpoint_for(_service_id(service))


@functools.cache
def _service_id(service: str) -> str:
    """botocore's service id of a client name (`dynamodbstreams`: `DynamoDB Streams`)."""
    import botocore.session

    return str(botocore.session.get_session().get_service_model(service).service_id)


@contextlib.contextmanager
def signing_as(profile: str) -> Iterator[None]:
    """Sign the calls this thread makes inside the block with a named profile's credentials.

    For the local fleet under IAM enforcement, where one process stands in for more than one
    principal (the workers' process also reads the pipes' queues as the pipes' role).
    """
    token = _signing_profile.set(profile)
    try:
        yield
    finally:
        _signing_profile.reset(token)


@functools.cache
def _session(region: str, profile: str = "") -> Any:
    import boto3  # deferred: boto3 costs ~100 ms to import on a cold start
    import botocore.session

    from lambda_platform import botocore_data

    core = botocore.session.Session()
    botocore_data.install(core)  # before boto3 adds its own data path to the loader
    if profile:
        # A role assumed through its profile (`role_arn`, `source_profile`): botocore renews
        # the credentials before they expire.
        return boto3.session.Session(botocore_session=core, region_name=region, profile_name=profile)
    if settings.current().local:
        # The local stage never reads the developer's real credentials: any key will do.
        return boto3.session.Session(
            botocore_session=core,
            region_name=region,
            aws_access_key_id="fleet-local",
            aws_secret_access_key="fleet-local",
        )
    return boto3.session.Session(botocore_session=core, region_name=region)


@functools.cache
def _client(service: str, region: str, endpoint_url: str | None, profile: str = "") -> Any:
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=32)
    if service == "s3":
        # Presigned posts and URLs signed with SigV4: S3 refuses SigV2 on newer buckets, and
        # botocore still defaults to SigV2 for presigned posts.
        config = config.merge(Config(signature_version="s3v4"))
    with _lock:  # boto3 sessions are not safe to share while creating clients
        made = _session(region, profile).client(service, endpoint_url=endpoint_url, config=config)
    if settings.current().local:
        from lambda_platform import faults  # FLEET_FAULTS: injected throttling, local stage only

        faults.install(made, service)
    for hook in _call_hooks:
        made.meta.events.register("after-call.*.*", hook)
    return made


def on_every_call(hook: Callable[..., Any]) -> None:
    """Call `hook` after every AWS call of every client created from now on (counters, tracing).

    It is a botocore `after-call` handler, called for errors too: it gets `model` (the
    operation) and `parsed` (the response) among its keyword arguments. Cached clients
    are dropped so that none escapes it.
    """
    _call_hooks.append(hook)
    reset()


def off_every_call(hook: Callable[..., Any]) -> None:
    """Stop calling a hook that `on_every_call` added, for every client created from now on."""
    _call_hooks.remove(hook)
    reset()


@functools.cache
def _resource(service: str, region: str, endpoint_url: str | None, profile: str = "") -> Any:
    with _lock:
        made = _session(region, profile).resource(service, endpoint_url=endpoint_url)
    for hook in _call_hooks:
        made.meta.client.meta.events.register("after-call.*.*", hook)
    return made


@functools.cache
def _account_id(region: str, endpoint_url: str | None) -> str:
    account: str = client("sts").get_caller_identity()["Account"]
    return account


def account_id() -> str:
    """The AWS account id of the current credentials (cached; from the context on Lambda)."""
    if _known_account is not None:
        return _known_account
    current = settings.current()
    return _account_id(current.region, current.endpoint_url)


def known_account_id() -> str | None:
    """The account id if it is known without a call (from a Lambda context), else None."""
    return _known_account


def remember_lambda_context(context: Any) -> None:
    """Take the account id from a Lambda context's function ARN, so nothing asks STS for it."""
    global _known_account
    arn_parts = str(getattr(context, "invoked_function_arn", "") or "").split(":")
    if len(arn_parts) > 4 and arn_parts[4].isdigit():
        _known_account = arn_parts[4]


def arn(service: str, resource_path: str) -> str:
    """An ARN in the current account and region."""
    return f"arn:aws:{service}:{settings.current().region}:{account_id()}:{resource_path}"


def reset() -> None:
    """Drop every cached client (tests point Fleet at a new endpoint)."""
    global _known_account
    _known_account = None
    for cached in (_session, _client, _resource, _account_id):
        cached.cache_clear()
