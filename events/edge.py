"""The edge, declared with the topology: the static site, the CloudFront distribution in
front of it and of the API, API Gateway's endpoint and stage cache, and table replicas.

One declaration, read by provisioning (the distribution, its Origin Access Control, its
function and the site bucket's policy), by `fleet publish` (what the site bucket holds),
by the Zappa settings and `fleet wire` (the API's endpoint type and stage cache), and by
the local edge, which applies the same behaviours with an RFC 9111 cache on loopback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

#: Headers whose presence means "never from a shared cache": CloudFront forwards them to
#: the origin and a behaviour that caches must not key or store an answer to them.
PRIVATE_REQUEST_HEADERS = ("Authorization", "x-api-key")
#: What an API behaviour forwards to the API and keys on: the credentials, and `Origin`,
#: which the API's CORS answers read, so one page's origin never gets another's answer.
API_KEY_HEADERS = (*PRIVATE_REQUEST_HEADERS, "Origin")
#: Error statuses CloudFront caches whatever the origin says, unless its `Cache-Control`
#: forbids it ("How CloudFront processes and caches HTTP 4xx and 5xx status codes from
#: your origin"), and those it caches only when the origin gives a `max-age` or `s-maxage`.
ERRORS_CACHED = (404, 414, 500, 501, 502, 503, 504)
ERRORS_CACHED_WITH_MAX_AGE = (400, 403, 405, 412, 415)
#: Stands, in a Content-Security-Policy source list, for the origins a page uploads to
#: directly (presigned POSTs to the topology's `browser_uploads` buckets): only the stage
#: knows them, so provisioning and the local edge put them in.
UPLOAD_ORIGINS = "{upload-origins}"


@dataclass(frozen=True)
class StaticFiles:
    """A folder of the repository published under a prefix of the site bucket.

    `hashed` files carry a content hash in their name and are cached for a year,
    immutable; the others (HTML above all) for `max_age_seconds`.
    """

    folder: str
    prefix: str = ""
    max_age_seconds: int = 60
    hashed_pattern: str | None = None
    #: Never stored anywhere (`Cache-Control: no-store`): pages whose calls carry a key.
    no_store: bool = False


@dataclass(frozen=True)
class CacheBehaviour:
    """One CloudFront cache behaviour: which paths, from which origin, cached how.

    The TTLs bound what the origin's `Cache-Control` asks for (CloudFront's minimum,
    default and maximum TTL); `query_strings` are the ones in the cache key (and forwarded);
    a request with one of `PRIVATE_REQUEST_HEADERS` is passed to the origin and its answer
    never stored. `rewrite` names the one object every path of the behaviour is served
    from (a CloudFront Function rewrites the URI on AWS; the local edge does the same).
    """

    path_pattern: str
    origin: Literal["site", "api"]
    min_ttl: int = 0
    default_ttl: int = 0
    max_ttl: int = 0
    query_strings: tuple[str, ...] = ()
    allowed_methods: tuple[str, ...] = ("GET", "HEAD")
    rewrite: str | None = None

    @property
    def cached(self) -> bool:
        """True when answers of this behaviour may be stored at all."""
        return self.max_ttl > 0

    @property
    def key_headers(self) -> tuple[str, ...]:
        """The request headers forwarded to the origin and held in the cache key (the site's S3 reads none)."""
        return API_KEY_HEADERS if self.origin == "api" else ()

    @property
    def serves_pages(self) -> bool:
        """True when the behaviour serves the site's files, HTML among them: the response headers policy applies.

        The API's answers carry the API's own security headers (JSON: nothing may run in them)."""
        return self.origin == "site"


@dataclass(frozen=True)
class ResponseHeaders:
    """The security headers every page of the site carries: a CloudFront response headers policy
    on each behaviour that serves pages, and the same fields from the local edge and the API's
    own pages.

    `content_security_policy` is a list of directives; `UPLOAD_ORIGINS` in one stands for the
    stage's upload origins. `Strict-Transport-Security` is sent over HTTPS only (a browser
    ignores it over plain HTTP, RFC 6797 §8.1): by CloudFront, never by the local edge. Each
    field overrides the origin's own (CloudFront's `Override`).
    """

    content_security_policy: tuple[str, ...] = (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        # The media bucket's thumbnails, presigned, in the review console.
        f"img-src 'self' data: {UPLOAD_ORIGINS}",
        f"connect-src 'self' {UPLOAD_ORIGINS}",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
    frame_options: Literal["DENY", "SAMEORIGIN"] = "DENY"
    referrer_policy: str = "no-referrer"
    #: `X-Content-Type-Options: nosniff`.
    content_type_options: bool = True
    hsts_max_age: int = 31536000
    hsts_include_subdomains: bool = True

    def csp(self, upload_origins: Sequence[str]) -> str:
        """The Content-Security-Policy value, with the stage's upload origins in place."""
        filled = (d.replace(UPLOAD_ORIGINS, " ".join(upload_origins)).strip() for d in self.content_security_policy)
        return "; ".join(" ".join(d.split()) for d in filled)

    def hsts(self) -> str:
        """The Strict-Transport-Security value."""
        return f"max-age={self.hsts_max_age}" + ("; includeSubDomains" if self.hsts_include_subdomains else "")

    def fields(self, upload_origins: Sequence[str], secure: bool) -> dict[str, str]:
        """The fields, by name, as a response carries them; HSTS only when `secure` (HTTPS)."""
        fields = {
            "Content-Security-Policy": self.csp(upload_origins),
            "X-Frame-Options": self.frame_options,
            "Referrer-Policy": self.referrer_policy,
        }
        if self.content_type_options:
            fields["X-Content-Type-Options"] = "nosniff"
        if secure:
            fields["Strict-Transport-Security"] = self.hsts()
        return fields


@dataclass(frozen=True)
class Distribution:
    """A CloudFront distribution: the site bucket through an Origin Access Control, the API
    as a custom origin, and behaviours tried in order (the last, `*`, is the default)."""

    name: str
    site_bucket: str
    behaviours: tuple[CacheBehaviour, ...]
    price_class: str = "PriceClass_100"
    #: The security headers of the behaviours that serve pages.
    response_headers: ResponseHeaders = field(default_factory=ResponseHeaders)
    #: Seconds an error is cached at least (CloudFront's error caching minimum TTL, 10 by
    #: default: set here for every status CloudFront caches, so an API error is not stored
    #: unless its `Cache-Control` asks for it, locally and on AWS alike).
    error_caching_min_ttl: int = 0

    def behaviour_for(self, path: str) -> CacheBehaviour | None:
        """The first behaviour whose pattern matches `path`, as CloudFront picks it."""
        for behaviour in self.behaviours:
            if path_matches(behaviour.path_pattern, path):
                return behaviour
        return None


@dataclass(frozen=True)
class MethodCache:
    """API Gateway's stage cache for one public GET: its TTL and the query strings in its key."""

    resource_path: str
    ttl_seconds: int
    query_strings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApiEdge:
    """How API Gateway serves the API: its endpoint type and the stage cache.

    The cache is on only for the public GETs listed; the proxy path is always in the cache
    key, since API Gateway's `{proxy+}` resource otherwise caches every path under one key.
    """

    endpoint_type: Literal["EDGE", "REGIONAL"] = "EDGE"
    cache_size_gb: str = "0.5"
    cache_encrypted: bool = True
    cached_gets: tuple[MethodCache, ...] = ()


@dataclass(frozen=True)
class Site:
    """The static site: the private bucket, what is published to it, the distribution."""

    files: tuple[StaticFiles, ...]
    distribution: Distribution


def path_matches(pattern: str, path: str) -> bool:
    """CloudFront's path pattern match: `*` is any run of characters, `?` one; case-sensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, path, re.DOTALL) is not None
