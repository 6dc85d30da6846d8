"""The edge for CloudFront, rendered from `events.edge`: the distribution's config, its
function's code and the site bucket's policy. Pure functions; `fleet.provision.edge` makes
the calls.

What the rendering holds to:
- the site origin is the bucket's regional domain, read through the Origin Access Control
  (an empty OriginAccessIdentity: OAC replaces it);
- a behaviour forwards, and keys on, its declared `key_headers` (the API's: the
  credentials and `Origin`, so an answer to one credential, or one page's origin, is never
  served to another; the local edge keys on the same); an API behaviour's minimum TTL must
  be 0, or CloudFront would store the API's `private` and `no-store` answers for that long;
- only the declared query strings are in a behaviour's key;
- one response headers policy, the declared `ResponseHeaders` (CSP, nosniff, referrer
  policy, HSTS, frame options, each overriding the origin's), attached to every behaviour
  that serves pages (the site's); the local edge applies the same declaration;
- every error status CloudFront caches gets the declared error caching minimum TTL (a
  custom error response with no page: CloudFront's default is 10 s), so an error is stored
  only for the max-age its origin gives, as the local edge stores it;
- one CloudFront Function per distribution: on viewer-request it rewrites the URI of the
  behaviours that declare `rewrite`, on viewer-response it turns the site origin's 403 into
  a 404. A custom error response cannot do the latter: it is the distribution's, so it
  would turn the API's own 403s (a key without the scope) into 404 pages too.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Sequence
from typing import Any

from events.edge import ERRORS_CACHED, ERRORS_CACHED_WITH_MAX_AGE, CacheBehaviour, Distribution, ResponseHeaders

#: The origins a behaviour may name, as `events.edge` declares them; each is its origin's Id.
SITE_ORIGIN, API_ORIGIN = typing.get_args(typing.get_type_hints(CacheBehaviour)["origin"])
FUNCTION_RUNTIME = "cloudfront-js-2.0"


def _items(values: list[Any] | tuple[Any, ...]) -> dict[str, Any]:
    values = list(values)
    return {"Quantity": len(values), "Items": values} if values else {"Quantity": 0}


def check(distribution: Distribution) -> None:
    """Raise ValueError when a declaration cannot be rendered as it says."""
    if not distribution.behaviours or distribution.behaviours[-1].path_pattern != "*":
        raise ValueError(f"distribution {distribution.name}: the last behaviour must be '*' (the default)")
    for behaviour in distribution.behaviours:
        if behaviour.origin == API_ORIGIN and behaviour.min_ttl:
            raise ValueError(f"{behaviour.path_pattern}: an API behaviour's min_ttl must be 0 (private answers)")
        if behaviour.rewrite and behaviour.origin != SITE_ORIGIN:
            raise ValueError(f"{behaviour.path_pattern}: only a site behaviour may rewrite")
        if not (behaviour.min_ttl <= behaviour.default_ttl <= behaviour.max_ttl or not behaviour.max_ttl):
            raise ValueError(f"{behaviour.path_pattern}: TTLs must be min <= default <= max")


def site_origin(bucket_domain: str, oac_id: str) -> dict[str, Any]:
    """The site bucket as an S3 origin read through the Origin Access Control."""
    return {
        "Id": SITE_ORIGIN,
        "DomainName": bucket_domain,
        "OriginPath": "",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": oac_id,
    }


def api_origin(api_domain: str, stage: str) -> dict[str, Any]:
    """API Gateway's stage as a custom origin, over HTTPS only."""
    return {
        "Id": API_ORIGIN,
        "DomainName": api_domain,
        "OriginPath": f"/{stage}",
        "CustomOriginConfig": {
            "HTTPPort": 80,
            "HTTPSPort": 443,
            "OriginProtocolPolicy": "https-only",
            "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
            "OriginReadTimeout": 30,
            "OriginKeepaliveTimeout": 5,
        },
    }


def response_headers_policy(name: str, headers: ResponseHeaders, upload_origins: Sequence[str]) -> dict[str, Any]:
    """The ResponseHeadersPolicyConfig of the declared security headers, each overriding the origin's."""
    security: dict[str, Any] = {
        "ContentSecurityPolicy": {"Override": True, "ContentSecurityPolicy": headers.csp(upload_origins)},
        "FrameOptions": {"Override": True, "FrameOption": headers.frame_options},
        "ReferrerPolicy": {"Override": True, "ReferrerPolicy": headers.referrer_policy},
        "StrictTransportSecurity": {
            "Override": True,
            "AccessControlMaxAgeSec": headers.hsts_max_age,
            "IncludeSubdomains": headers.hsts_include_subdomains,
            "Preload": False,
        },
    }
    if headers.content_type_options:
        security["ContentTypeOptions"] = {"Override": True}
    return {"Name": name, "Comment": "The security headers of the site's pages", "SecurityHeadersConfig": security}


def cache_behaviour(behaviour: CacheBehaviour, function_arn: str | None, headers_policy_id: str | None = None) -> dict[str, Any]:
    """One behaviour in CloudFront's legacy cache settings (ForwardedValues and TTLs).

    Legacy settings rather than a cache policy: they say the same (headers and query strings
    in the key, TTL bounds) in the distribution itself, which every endpoint keeps. A
    behaviour that serves pages names the response headers policy, when there is one."""
    api = behaviour.origin == API_ORIGIN
    forwarded: dict[str, Any] = {
        # The API sees every query string (a POST's may matter); the key holds the declared ones.
        "QueryString": api or bool(behaviour.query_strings),
        "Cookies": {"Forward": "none"},
        "Headers": _items(behaviour.key_headers),
        "QueryStringCacheKeys": _items(behaviour.query_strings),
    }
    associations = []
    if function_arn and behaviour.origin == SITE_ORIGIN:
        if behaviour.rewrite:
            associations.append({"FunctionARN": function_arn, "EventType": "viewer-request"})
        associations.append({"FunctionARN": function_arn, "EventType": "viewer-response"})
    rendered: dict[str, Any] = {
        "TargetOriginId": behaviour.origin,
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {**_items(behaviour.allowed_methods), "CachedMethods": _items(["GET", "HEAD"])},
        "Compress": True,
        "ForwardedValues": forwarded,
        "MinTTL": behaviour.min_ttl,
        "DefaultTTL": behaviour.default_ttl,
        "MaxTTL": behaviour.max_ttl,
        "FunctionAssociations": _items(associations),
    }
    if headers_policy_id and behaviour.serves_pages:
        rendered["ResponseHeadersPolicyId"] = headers_policy_id
    if behaviour.path_pattern != "*":
        rendered = {"PathPattern": behaviour.path_pattern, **rendered}
    return rendered


def distribution_config(
    distribution: Distribution,
    name: str,
    bucket_domain: str,
    oac_id: str,
    function_arn: str | None,
    api: tuple[str, str] | None,
    headers_policy_id: str | None = None,
) -> dict[str, Any]:
    """The DistributionConfig of the declaration; without `api` (domain, stage) the API's
    behaviours are left out until the API exists; without `headers_policy_id` (an endpoint
    without response headers policies) no behaviour names one."""
    check(distribution)
    origins = [site_origin(bucket_domain, oac_id)]
    if api is not None:
        origins.append(api_origin(*api))
    behaviours = [b for b in distribution.behaviours if api is not None or b.origin != API_ORIGIN]
    rendered = [cache_behaviour(b, function_arn, headers_policy_id) for b in behaviours]
    return {
        "CallerReference": name,
        "Comment": name,
        "Enabled": True,
        "PriceClass": distribution.price_class,
        "HttpVersion": "http2and3",
        "IsIPV6Enabled": True,
        # Empty: "/" is an object request that S3 refuses (403, then 404), never a listing.
        "DefaultRootObject": "",
        "Origins": _items(origins),
        "DefaultCacheBehavior": rendered[-1],
        "CacheBehaviors": _items(rendered[:-1]),
        "CustomErrorResponses": _items(error_caching(distribution)),
    }


def error_caching(distribution: Distribution) -> list[dict[str, Any]]:
    """A custom error response for each status CloudFront caches: its error caching minimum TTL
    only (no page, no status of its own: the origin's answer is passed on as it is)."""
    return [
        {"ErrorCode": status, "ErrorCachingMinTTL": distribution.error_caching_min_ttl}
        for status in sorted((*ERRORS_CACHED, *ERRORS_CACHED_WITH_MAX_AGE))
    ]


def _js_regex(pattern: str) -> str:
    # CloudFront's path pattern, as events.edge.path_matches reads it.
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c).replace("/", "\\/") for c in pattern)
    return f"^{body}$"


def function_code(distribution: Distribution) -> str:
    """The CloudFront Function of the distribution, generated from its behaviours.

    The behaviours are tried in order, as CloudFront picks them, so a URI is rewritten only
    when the behaviour it falls under declares `rewrite`."""
    table = ",\n".join(f"  [/{_js_regex(b.path_pattern)}/, {json.dumps(b.rewrite)}]" for b in distribution.behaviours)
    return f"""// Generated by fleet provision from the topology's distribution {distribution.name!r}.
var BEHAVIOURS = [
{table}
];

function handler(event) {{
  if (event.context.eventType === 'viewer-response') {{
    // The site bucket refuses a missing object with a 403 (the OAC may not list it).
    if (event.response.statusCode === 403) {{
      event.response.statusCode = 404;
      event.response.statusDescription = 'Not Found';
    }}
    return event.response;
  }}
  var request = event.request;
  for (var i = 0; i < BEHAVIOURS.length; i++) {{
    if (BEHAVIOURS[i][0].test(request.uri)) {{
      if (BEHAVIOURS[i][1] !== null) {{
        request.uri = BEHAVIOURS[i][1];
      }}
      return request;
    }}
  }}
  return request;
}}
"""


def site_bucket_policy(bucket: str, distribution_arn: str) -> dict[str, Any]:
    """The site bucket's policy: only this distribution may read its objects."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "cloudfront-reads",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
            }
        ],
    }
