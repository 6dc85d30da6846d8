"""Who may do what: every view is `public`, `api_key(scope)` or `user`, declared by decorator.

- public: browser forms and reads. Writes (`public(limited=True)`) are refused from a
  browser Origin outside the allowlist (403) and counted per client IP and, when the route
  names one, per campaign, in fixed one-minute windows in DynamoDB shared by every API
  process (429 with Retry-After).
- api_key: `x-api-key`, looked up by its sha256; 401 when missing, unknown or revoked,
  403 without the scope. A `campaigns:*` route answers a key not bound to its campaign
  with the 404 of an unknown campaign, so a key learns nothing of campaigns it does not
  reach.
- user: `Authorization: Bearer <JWT>` from the Cognito user pool (locally, the
  development issuer), verified against the pool's JWKS for signature, issuer, client id,
  `token_use` and expiry; `g.user_sub` is the caller.
"""

from __future__ import annotations

import functools
import hmac
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, current_app, g, request

from ingest_api.errors import ApiError
from ingest_api.lookups import campaign_not_found
from ingest_api.rate_counts import WINDOW_SECONDS, Counts, count, count_deferred, defer
from ingest_api.services import services

PUBLIC, API_KEY, USER = "public", "api_key", "user"
#: A subject is one plain id (Cognito's are UUIDs): it names the caller's folder and keys.
_SUB = re.compile(r"[A-Za-z0-9-]{1,128}")
#: Clock skew a token's times are allowed, in seconds.
LEEWAY_SECONDS = 5
_TIME_CLAIMS = ("exp", "iat", "nbf")


def public(limited: bool = False, per_campaign: bool = False, keyed: bool = False) -> Callable:
    """A route anyone may call; `limited` writes are origin-checked and rate-limited. A
    `keyed` write sent with an Idempotency-Key is counted by `queue_once` in the same
    write as its key (see `ingest_api.idempotency`)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not limited:
                return view(*args, **kwargs)
            counts = write_counts(kwargs.get("campaign_id") if per_campaign else None)
            if counts is None:
                return view(*args, **kwargs)
            if not (keyed and "HTTP_IDEMPOTENCY_KEY" in request.environ):
                count(counts)
                return view(*args, **kwargs)
            defer(counts)
            try:
                answer = view(*args, **kwargs)
            except Exception:
                # A request that fails before its key is claimed is counted all the same,
                # and a full counter's 429 wins over its error, as when counted first.
                count_deferred()
                raise
            count_deferred()
            return answer

        # The route's class rides on the view function for the access check and the OpenAPI
        # document to read: mypy knows no attributes on a function.
        wrapper.route_class = PUBLIC  # type: ignore[attr-defined]
        wrapper.rate_limited = limited  # type: ignore[attr-defined]
        return wrapper

    return decorate


def api_key(scope: str, lists_campaigns: bool = False) -> Callable:
    """A route for integrations and admins holding a key with `scope`; a `campaigns:*` route
    (its path names the `campaign_id`) only for the campaigns the key is bound to. A route
    that `lists_campaigns` names none: it shows only `g.api_key_campaigns` (None: every one)."""
    from lambda_platform.access import CAMPAIGN_SCOPES, campaigns_of, reaches_campaign

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            record = _key_record()
            scopes = tuple(record.get("scopes") or ())
            if scope not in scopes:
                raise ApiError(403, "insufficient_scope", f"This key lacks the scope {scope}.")
            if scope in CAMPAIGN_SCOPES and not lists_campaigns and not reaches_campaign(record, kwargs["campaign_id"]):
                # Exactly the unknown campaign's answer: no oracle of which campaigns exist.
                raise campaign_not_found(kwargs["campaign_id"])
            g.api_key_id = record.get("key_id")
            g.api_key_name = record.get("name")
            g.api_key_scopes = scopes
            g.api_key_campaigns = campaigns_of(record)
            return view(*args, **kwargs)

        # The route's class rides on the view function for the access check and the OpenAPI
        # document to read: mypy knows no attributes on a function.
        wrapper.route_class = API_KEY  # type: ignore[attr-defined]
        wrapper.scope = scope  # type: ignore[attr-defined]
        wrapper.lists_campaigns = lists_campaigns  # type: ignore[attr-defined]
        return wrapper

    return decorate


def user(view: Callable) -> Callable:
    """A route for a signed-in end user; `g.user_sub` is who they are."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        claims = verify_bearer()
        g.user_sub = claims["sub"]
        return view(*args, **kwargs)

    # The route's class rides on the view function (see `public`): mypy knows no attributes on a function.
    wrapper.route_class = USER  # type: ignore[attr-defined]
    return wrapper


def route_class(view: Callable) -> str | None:
    """The class a view was declared with, or None."""
    return getattr(view, "route_class", None)


# --- API keys ---------------------------------------------------------------------------


def _key_record() -> dict[str, Any]:
    from lambda_platform.access import hash_key

    key = request.headers.get("x-api-key")
    if not key:
        raise _unauthorized("missing_api_key", "Send an API key in the x-api-key header.", "ApiKey")
    digest = hash_key(key[:256])
    record = services().api_keys.get(digest)
    # The lookup is by digest; the comparison is constant-time all the same.
    if record is None or not hmac.compare_digest(record.get("key_hash", ""), digest) or record.get("revoked"):
        raise _unauthorized("invalid_api_key", "The API key is unknown or revoked.", "ApiKey")
    return record


def _unauthorized(code: str, message: str, scheme: str) -> ApiError:
    error = ApiError(401, code, message)
    error.headers = {"WWW-Authenticate": scheme if scheme != "Bearer" else f'Bearer error="{code}"'}
    return error


# --- Bearer tokens ----------------------------------------------------------------------


class TokenVerifier:
    """Verifies Cognito JWTs against the pool's JWKS (fetched once, cached by PyJWKClient)."""

    def __init__(self, issuer: str, client_id: str, jwks_client: Any = None) -> None:
        import jwt

        self.issuer = issuer
        self.client_id = client_id
        self.jwks = jwks_client or jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json", cache_keys=True, lifespan=600, timeout=5)

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; jwt.InvalidTokenError (or PyJWKClientError) when it is not good."""
        import jwt

        signing = self.jwks.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing.key,
            algorithms=["RS256"],
            issuer=self.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
        )
        check_times(claims)
        use = claims.get("token_use")
        if use == "access":
            ok = claims.get("client_id") == self.client_id
        elif use == "id":
            ok = claims.get("aud") == self.client_id
        else:
            raise jwt.InvalidTokenError("token_use must be access or id")
        if not ok:
            raise jwt.InvalidTokenError("issued to another client")
        if not isinstance(claims["sub"], str) or not _SUB.fullmatch(claims["sub"]):
            raise jwt.InvalidTokenError("unusable subject")
        return claims


def check_times(claims: Mapping[str, Any]) -> None:
    """jwt.InvalidTokenError unless `exp`, `iat` and `nbf` (when present) are numbers and
    the token is good for at most `MAX_TOKEN_SECONDS`."""
    import math

    import jwt

    from lambda_platform.access import MAX_TOKEN_SECONDS

    for name in _TIME_CLAIMS:
        value = claims.get(name)
        # PyJWT takes a string of digits for `exp` and any string for `nbf` and `iat`; a bool is an int.
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if name in claims and not number:
            raise jwt.InvalidTokenError(f"the {name} claim must be a number")
    if claims["exp"] - claims["iat"] > MAX_TOKEN_SECONDS:
        raise jwt.InvalidTokenError("the token is good for longer than a day")


_verifiers: dict[tuple[str, str], TokenVerifier] = {}
_verifiers_lock = threading.Lock()


def token_verifier() -> TokenVerifier:
    """The app's verifier (`TOKEN_VERIFIER` in the config for tests), one per issuer and client."""
    configured = current_app.config.get("TOKEN_VERIFIER")
    if configured is not None:
        return configured
    from lambda_platform import settings

    current = settings.current()
    issuer = current.cognito_issuer or current_app.config.get("LOCAL_ISSUER", "")
    if not issuer or not current.cognito_client_id:
        raise ApiError(503, "unavailable", "User sign-in is not configured.")
    with _verifiers_lock:
        found = _verifiers.get((issuer, current.cognito_client_id))
        if found is None:
            found = _verifiers[(issuer, current.cognito_client_id)] = TokenVerifier(issuer, current.cognito_client_id)
    return found


def verify_bearer() -> dict[str, Any]:
    """The caller's verified claims; 401 when the bearer token is missing or not good."""
    import jwt

    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("missing_token", "Send a bearer token in the Authorization header.", "Bearer")
    try:
        return token_verifier().verify(token.strip())
    except jwt.PyJWKClientConnectionError:
        raise ApiError(503, "unavailable", "The token keys cannot be fetched; try again shortly.") from None
    except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
        raise _unauthorized("invalid_token", f"The token is not accepted: {exc}"[:200], "Bearer") from None


# --- Origins, clients and limits --------------------------------------------------------


@dataclass(frozen=True)
class AccessRules:
    """The public-write rules of an app: its config (`RATE_PER_CLIENT`, ...) over the settings."""

    rate_per_client: int
    rate_per_campaign: int
    trusted_proxy_hops: int
    web_origins: tuple[str, ...]
    #: The origin patterns as one regular expression, matched whole (None: no origin is allowed).
    origin_pattern: re.Pattern[str] | None

    @classmethod
    def read(cls, config: Mapping[str, Any], current: Any) -> AccessRules:
        """The rules of an app's `config` over the settings `current`."""

        def pick(name: str) -> Any:
            return config.get(name.upper(), getattr(current, name))

        from lambda_platform.origins import allowlist, normalize_patterns

        # The settings' patterns are canonical already; an app's config may not be.
        origins = normalize_patterns(pick("web_origins"))
        pattern = allowlist(origins)
        return cls(
            rate_per_client=int(pick("rate_per_client")),
            rate_per_campaign=int(pick("rate_per_campaign")),
            trusted_proxy_hops=int(pick("trusted_proxy_hops")),
            web_origins=origins,
            origin_pattern=pattern,
        )

    def origin_allowed(self, origin: str) -> bool:
        """True when a browser Origin is a serialized origin that one of the patterns admits."""
        return self.origin_pattern is not None and self.origin_pattern.fullmatch(origin) is not None


def access_rules() -> AccessRules:
    """The rules of the current app."""
    return rules_of(current_app)


def rules_of(app: Flask) -> AccessRules:
    """An app's rules, read once per app and again only after the settings are re-read."""
    from lambda_platform import settings

    current = settings.current()
    cached = app.extensions.get("fleet_access_rules")
    if cached is None or cached[0] is not current:
        cached = app.extensions["fleet_access_rules"] = (current, AccessRules.read(app.config, current))
    return cached[1]


def origin_allowed(origin: str) -> bool:
    """True when a browser Origin is in the allowlist (`FLEET_WEB_ORIGINS`, see `lambda_platform.origins`)."""
    return access_rules().origin_allowed(origin)


def write_counts(campaign_id: str | None = None) -> Counts | None:
    """403 for a refused origin; else the counters this write is counted in (None: no limits)."""
    # The proxy resolves the context on every attribute read: resolve it once. (Flask types
    # `request` as the Request it stands for, so mypy does not know the proxy's method.)
    current = request._get_current_object()  # type: ignore[attr-defined]
    rules = access_rules()
    check_origin(current.environ, rules)
    limits = [(f"{current.endpoint}:client:{client_ip(current, rules)}", "client", rules.rate_per_client)]
    if campaign_id is not None:
        limits.append((f"campaign:{campaign_id[:64]}", "campaign", rules.rate_per_campaign))
    active = tuple(limit for limit in limits if limit[2] > 0)
    return Counts(active, time.time(), WINDOW_SECONDS) if active else None


def check_origin(environ: Mapping[str, Any], rules: AccessRules) -> None:
    """403 when a browser sent an Origin outside the allowlist (no Origin: not a browser's cross-site call)."""
    # `request.headers.get("Origin")`, without the KeyError it raises and catches when absent.
    origin = environ.get("HTTP_ORIGIN")
    if origin is not None and not rules.origin_allowed(origin):
        raise ApiError(403, "origin_not_allowed", "Requests from this origin are not allowed.")


def client_ip(current: Request, rules: AccessRules) -> str:
    """The caller's IP: the peer (API Gateway's sourceIp, as Zappa passes it), or the
    X-Forwarded-For hop that the last trusted proxy appended."""
    hops = rules.trusted_proxy_hops
    if hops > 0:
        forwarded = [h.strip() for h in current.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops][:64]
    return (current.remote_addr or "unknown")[:64]
