"""Settings, read from the environment in this one module."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from events.topology import physical_name
from lambda_platform.origins import normalize_patterns


@dataclass(frozen=True)
class Settings:
    """Where Fleet runs and how."""

    stage: str
    region: str
    endpoint_url: str | None
    #: The `local` stage: an embedded or emulated AWS, dummy credentials, local-only routes.
    local: bool
    #: Overrides every queue's visibility timeout when set (the local runtime and tests
    #: use a short one so that failed messages reappear quickly).
    visibility_timeout: int | None
    campaign_cache_seconds: float
    api_base_url: str
    #: The From address of every email; an SES-verified identity (provisioning asks SES to
    #: verify it on every stage: on AWS, verification is a human clicking a mailed link).
    sender: str = "Fleet <no-reply@example.com>"
    #: Fault injection on the local stage, `SERVICE:RATE,...` (see `lambda_platform.faults`); empty: off.
    faults: str = ""
    #: Seeds the injected faults' random source, for reproducible tests.
    faults_seed: int | None = None
    #: Origins whose pages may post to the API and straight to the media bucket (its CORS
    #: rule), canonical (`lambda_platform.origins`); one `*` in each, for one port or one DNS label,
    #: as in `http://127.0.0.1:*` or `https://*.shop.example`.
    web_origins: tuple[str, ...] = ()
    #: The Cognito user pool's issuer (`https://cognito-idp.{region}.amazonaws.com/{pool}`);
    #: empty on the local stage, where the API's own development issuer stands in.
    cognito_issuer: str = ""
    #: The app client whose tokens the API accepts (`client_id` of access tokens, `aud` of id tokens).
    cognito_client_id: str = ""
    #: Where local state lives (the development issuer's signing key); never committed.
    state_dir: str = ".fleet"
    #: A directory of one `fleet up` run that its processes share (the workers' stats for the
    #: live view); the supervisor makes it. Empty: no such sharing (a fleet run in-process).
    run_dir: str = ""
    #: Public writes a client (an IP) may make a minute, and a campaign may take a minute.
    rate_per_client: int = 60
    rate_per_campaign: int = 6000
    #: Proxies in front of the API that append to X-Forwarded-For (0: the peer is the client,
    #: as with API Gateway, whose source IP Zappa passes as the peer address).
    trusted_proxy_hops: int = 0
    #: Seconds the API's server waits on a silent client (a body or headers that stop
    #: arriving) before it answers 408 and lets the connection go.
    request_timeout: float = 5.0
    #: The local edge's base URL (`fleet up` serves it), which invalidations purge; empty
    #: off the local stage, where CloudFront is the edge.
    edge_url: str = ""
    #: Where CloudWatch alarms are mailed (an email subscription to the alarms topic); empty: none.
    alarm_email: str = ""
    #: The local stage under IAM enforcement: the named profile (of `AWS_CONFIG_FILE`) this
    #: process signs with, its function's role or the local operator (`fleet up --enforce-iam`
    #: sets it); empty: the local stage's dummy keys, or the usual credentials off it.
    aws_profile: str = ""
    #: botocore's per-service endpoints (`AWS_ENDPOINT_URL_DYNAMODB=...`): (the service id's
    #: variable suffix, URL) pairs, ahead of `endpoint_url` for their service.
    service_endpoints: tuple[tuple[str, str], ...] = ()

    #: Also put suppressed addresses on SESv2's account-level suppression list
    #: (PutSuppressedDestination), besides the stage's own list. On by default off the local
    #: stage (`FLEET_SES_ACCOUNT_SUPPRESSION=0` turns it off); moto has no such list.
    ses_account_suppression: bool = False

    def endpoint_for(self, service_id: str) -> str | None:
        """The endpoint of a service by its botocore service id (`DynamoDB Streams`): its own, else `endpoint_url`."""
        suffix = service_id.upper().replace(" ", "_").replace("-", "_")
        return next((url for name, url in self.service_endpoints if name == suffix), self.endpoint_url)

    def name(self, logical: str) -> str:
        """The physical name of a logical resource in this stage, unchecked (`lambda_platform.resources` checks it)."""
        return physical_name(self.stage, logical)


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


#: Where `fleet up` serves the embedded AWS; the `local` stage talks to it by default.
LOCAL_AWS_ENDPOINT = "http://127.0.0.1:4566"
#: Where `fleet up` serves the local edge (`--edge-port` moves it, and says so in FLEET_EDGE_URL).
LOCAL_EDGE_URL = "http://127.0.0.1:8081"
#: The local stage's queue visibility timeout, so that a failed message comes back soon.
LOCAL_VISIBILITY_TIMEOUT = 20


#: botocore's per-service endpoint variables: AWS_ENDPOINT_URL_<service id, upper case, `_` for spaces>.
SERVICE_ENDPOINT_PREFIX = "AWS_ENDPOINT_URL_"


@functools.lru_cache(maxsize=1)
def current() -> Settings:
    """The settings of this process, read once from the environment."""
    stage = os.environ.get("FLEET_STAGE", "local")
    local = stage == "local"
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or (LOCAL_AWS_ENDPOINT if local else None)
    return Settings(
        stage=stage,
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        endpoint_url=endpoint,
        local=local,
        visibility_timeout=_int_or_none(os.environ.get("FLEET_VISIBILITY_TIMEOUT"))
        or (LOCAL_VISIBILITY_TIMEOUT if local else None),
        campaign_cache_seconds=float(os.environ.get("FLEET_CAMPAIGN_CACHE_SECONDS", "5")),
        api_base_url=os.environ.get("FLEET_API_BASE_URL", ""),
        sender=os.environ.get("FLEET_SENDER") or "Fleet <no-reply@example.com>",
        faults=os.environ.get("FLEET_FAULTS", "").strip() if local else "",
        faults_seed=_int_or_none(os.environ.get("FLEET_FAULTS_SEED")),
        web_origins=_origins(os.environ.get("FLEET_WEB_ORIGINS")) or (LOCAL_WEB_ORIGINS if local else ()),
        cognito_issuer=os.environ.get("FLEET_COGNITO_ISSUER", "").rstrip("/"),
        cognito_client_id=os.environ.get("FLEET_COGNITO_CLIENT_ID") or (LOCAL_CLIENT_ID if local else ""),
        state_dir=os.environ.get("FLEET_STATE_DIR") or ".fleet",
        run_dir=os.environ.get("FLEET_RUN_DIR", ""),
        rate_per_client=int(os.environ.get("FLEET_RATE_PER_CLIENT") or 60),
        rate_per_campaign=int(os.environ.get("FLEET_RATE_PER_CAMPAIGN") or 6000),
        trusted_proxy_hops=int(os.environ.get("FLEET_TRUSTED_PROXY_HOPS") or 0),
        request_timeout=float(os.environ.get("FLEET_REQUEST_TIMEOUT") or 5),
        edge_url=(os.environ.get("FLEET_EDGE_URL") or (LOCAL_EDGE_URL if local else "")).rstrip("/"),
        alarm_email=_alarm_email(os.environ.get("FLEET_ALARM_EMAIL")),
        aws_profile=os.environ.get("FLEET_AWS_PROFILE", "") if local else "",
        service_endpoints=tuple(
            sorted(
                (name.removeprefix(SERVICE_ENDPOINT_PREFIX), url)
                for name, url in os.environ.items()
                if name.startswith(SERVICE_ENDPOINT_PREFIX) and url
            )
        ),
        ses_account_suppression=os.environ.get("FLEET_SES_ACCOUNT_SUPPRESSION", "0" if local else "1") not in ("0", ""),
    )


#: The app client id of the local development issuer's tokens.
LOCAL_CLIENT_ID = "fleet-local"


#: The local stage's pages are served from loopback, on whatever port the API has.
LOCAL_WEB_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*")


def _origins(value: str | None) -> tuple[str, ...]:
    try:
        return normalize_patterns((value or "").split(","))
    except ValueError as exc:
        raise ValueError(f"FLEET_WEB_ORIGINS: {exc}") from None


class InvalidSetting(ValueError):
    """An environment variable whose value Fleet cannot take; the message names it."""


def _alarm_email(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    from events.emails import NotAnEmail, email_address  # only when set: marshmallow is not a cold start's

    try:
        return email_address(text)
    except NotAnEmail as exc:
        raise InvalidSetting(f"FLEET_ALARM_EMAIL={text!r}: {exc}") from None


def reset() -> None:
    """Forget the settings read so far (tests change the environment)."""
    current.cache_clear()
