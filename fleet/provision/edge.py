"""CloudFront: the Origin Access Control, the distribution's function, its response headers
policy, the distribution (the site bucket and, once Zappa has made it, the API) and the site
bucket's policy.

Each step reads first and changes only what differs, so a second run changes nothing.
The API origin and its behaviours wait for the REST API: `fleet provision` before the
first deploy makes the distribution with the site alone and reports the API `deferred`;
`fleet wire` (after each deploy) adds them. An endpoint that lacks a call reports the
step `unsupported` and never claims it: moto has no PublishFunction, so the function is
never live there, and the distribution is made without its function associations; moto
has no response headers policies either, so no behaviour names one there.
"""

from __future__ import annotations

import json
from typing import Any

from events.edge import Distribution, Site
from events.topology import TOPOLOGY
from fleet.edge.origins import page_upload_origins
from fleet.provision.api_plan import find_rest_api
from fleet.provision.base import Change
from fleet.provision.edge_config import (
    API_ORIGIN,
    FUNCTION_RUNTIME,
    distribution_config,
    function_code,
    response_headers_policy,
    site_bucket_policy,
)
from lambda_platform import aws, resources, settings
from lambda_platform.errors import error_code

#: Keys of an origin that an endpoint may leave out of what it reads back (moto keeps
#: neither); AWS always answers both, so their absence means "not kept", not drift.
_DROPPABLE = ("OriginAccessControlId", "S3OriginConfig")


def _unsupported(exc: Exception) -> bool:
    # An operation the endpoint has no route for answers a bare 404, with no AWS error code.
    return error_code(exc) == "404"


def ensure_origin_access_control() -> tuple[Change, str]:
    """The Origin Access Control (SigV4, always signing, for S3); its change and id."""
    cloudfront = aws.client("cloudfront")
    name = resources.origin_access_control_name()
    wanted = {
        "Name": name,
        "Description": "The site bucket, read only by its distribution",
        "SigningProtocol": "sigv4",
        "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3",
    }
    listed = cloudfront.list_origin_access_controls().get("OriginAccessControlList", {}).get("Items") or []
    have = next((c for c in listed if c.get("Name") == name), None)
    if have is None:
        created = cloudfront.create_origin_access_control(OriginAccessControlConfig=wanted)
        return Change("oac", name, "created"), created["OriginAccessControl"]["Id"]
    if all(have.get(k) == v for k, v in wanted.items()):
        return Change("oac", name, "unchanged"), have["Id"]
    etag = cloudfront.get_origin_access_control(Id=have["Id"])["ETag"]
    cloudfront.update_origin_access_control(Id=have["Id"], IfMatch=etag, OriginAccessControlConfig=wanted)
    return Change("oac", name, "updated"), have["Id"]


def ensure_edge_function(distribution: Distribution) -> tuple[list[Change], str | None]:
    """The distribution's CloudFront Function, created or updated, then published.

    Returns the changes and the function's ARN when it is live (None: not publishable
    here, so no behaviour may name it)."""
    cloudfront = aws.client("cloudfront")
    name = resources.edge_function_name()
    code = function_code(distribution).encode()
    config = {"Comment": f"URI rewrites and 404s of {resources.distribution_name()}", "Runtime": FUNCTION_RUNTIME}
    try:
        described = cloudfront.describe_function(Name=name, Stage="DEVELOPMENT")
    except Exception as exc:
        if error_code(exc) != "NoSuchFunctionExists":
            raise
        described = cloudfront.create_function(Name=name, FunctionConfig=config, FunctionCode=code)
        action = "created"
    else:
        have = cloudfront.get_function(Name=name, Stage="DEVELOPMENT")["FunctionCode"].read()
        action = "unchanged"
        if have != code or described["FunctionSummary"]["FunctionConfig"].get("Runtime") != FUNCTION_RUNTIME:
            described = cloudfront.update_function(Name=name, IfMatch=described["ETag"], FunctionConfig=config, FunctionCode=code)
            action = "updated"
    changes = [Change("cff", name, action)]
    arn = described["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]

    if _live_code(name) == code:
        changes.append(Change("publish", name, "unchanged"))
        return changes, arn
    try:
        cloudfront.publish_function(Name=name, IfMatch=described["ETag"])
    except Exception as exc:
        if not _unsupported(exc):
            raise
        changes.append(Change("publish", name, "unsupported"))
        return changes, None
    changes.append(Change("publish", name, "updated" if action == "unchanged" else "created"))
    return changes, arn


def _live_code(name: str) -> bytes | None:
    cloudfront = aws.client("cloudfront")
    try:
        live = cloudfront.describe_function(Name=name, Stage="LIVE")
    except Exception as exc:
        if error_code(exc) != "NoSuchFunctionExists":
            raise
        return None
    # An endpoint that ignores the stage answers the development copy: not live.
    if live["FunctionSummary"]["FunctionMetadata"].get("Stage") != "LIVE":
        return None
    return aws.client("cloudfront").get_function(Name=name, Stage="LIVE")["FunctionCode"].read()


def ensure_response_headers_policy(distribution: Distribution) -> tuple[Change, str | None]:
    """The response headers policy of the site's pages, created or corrected; its change and id
    (None where the endpoint has no such policies: then no behaviour may name one)."""
    cloudfront = aws.client("cloudfront")
    name = f"{resources.distribution_name()}-headers"
    wanted = response_headers_policy(name, distribution.response_headers, page_upload_origins())
    try:
        listed = cloudfront.list_response_headers_policies(Type="custom")
    except Exception as exc:
        if not _unsupported(exc):
            raise
        return Change("headers", name, "unsupported"), None
    items = (listed.get("ResponseHeadersPolicyList") or {}).get("Items") or []
    policies = [item["ResponseHeadersPolicy"] for item in items]
    have = next((p for p in policies if p["ResponseHeadersPolicyConfig"].get("Name") == name), None)
    if have is None:
        created = cloudfront.create_response_headers_policy(ResponseHeadersPolicyConfig=wanted)
        return Change("headers", name, "created"), created["ResponseHeadersPolicy"]["Id"]
    if not _differs(wanted, have["ResponseHeadersPolicyConfig"]):
        return Change("headers", name, "unchanged"), have["Id"]
    etag = cloudfront.get_response_headers_policy_config(Id=have["Id"])["ETag"]
    cloudfront.update_response_headers_policy(Id=have["Id"], IfMatch=etag, ResponseHeadersPolicyConfig=wanted)
    return Change("headers", name, "updated"), have["Id"]


def api_origin_target() -> tuple[str, str] | None:
    """The API's stage domain and stage name once Zappa has made the REST API, else None."""
    api = find_rest_api(resources.function_name(TOPOLOGY.api))
    if api is None:
        return None
    return f"{api['id']}.execute-api.{settings.current().region}.amazonaws.com", TOPOLOGY.api.name


def find_distribution(name: str) -> dict[str, Any] | None:
    """The summary of the distribution whose Comment is `name`, or None."""
    cloudfront = aws.client("cloudfront")
    for page in cloudfront.get_paginator("list_distributions").paginate():
        for summary in page.get("DistributionList", {}).get("Items") or []:
            if summary.get("Comment") == name:
                return summary
    return None


def ensure_distribution(
    site: Site, oac_id: str, function_arn: str | None, headers_policy_id: str | None = None
) -> tuple[list[Change], str]:
    """The distribution of the declaration, created or corrected; its changes and ARN."""
    cloudfront = aws.client("cloudfront")
    name = resources.distribution_name()
    bucket = resources.bucket_name(site.distribution.site_bucket)
    bucket_domain = f"{bucket}.s3.{settings.current().region}.amazonaws.com"
    api = api_origin_target()
    wanted = distribution_config(site.distribution, name, bucket_domain, oac_id, function_arn, api, headers_policy_id)
    changes: list[Change] = []
    if api is None:
        changes.append(Change("origin", f"{name} {API_ORIGIN}", "deferred"))
    if function_arn is None and any(b.origin != API_ORIGIN for b in site.distribution.behaviours):
        changes.append(Change("assoc", f"{name} function", "unsupported"))

    summary = find_distribution(name)
    if summary is None:
        created = cloudfront.create_distribution(DistributionConfig=wanted)["Distribution"]
        have = created["DistributionConfig"]
        return [Change("cdn", name, "created"), *changes, *_unkept(name, wanted, have)], created["ARN"]
    got = cloudfront.get_distribution_config(Id=summary["Id"])
    have = got["DistributionConfig"]
    unkept = _unkept(name, wanted, have)
    if _differs(wanted, have):
        config = {**have, **{k: v for k, v in wanted.items() if k != "CallerReference"}}
        cloudfront.update_distribution(Id=summary["Id"], IfMatch=got["ETag"], DistributionConfig=config)
        return [Change("cdn", name, "updated"), *changes, *unkept], summary["ARN"]
    return [Change("cdn", name, "unchanged"), *changes, *unkept], summary["ARN"]


def _differs(wanted: Any, have: Any) -> bool:
    """Whether `have` differs from `wanted` in anything `wanted` says (extra keys are the endpoint's)."""
    if isinstance(wanted, dict):
        if not isinstance(have, dict):
            return True
        for key, value in wanted.items():
            if key not in have:
                if key in _DROPPABLE or value in ({"Quantity": 0}, "", [], None):
                    continue
                return True
            if _differs(value, have[key]):
                return True
        return False
    if isinstance(wanted, list):
        if not isinstance(have, list) or len(wanted) != len(have):
            return True
        if all(not isinstance(v, dict) for v in wanted):
            # Methods, headers, query strings: sets, whatever order the endpoint answers.
            return sorted(map(str, wanted)) != sorted(map(str, have))
        return any(_differs(w, h) for w, h in zip(_ordered(wanted), _ordered(have), strict=True))
    return wanted != have


def _ordered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Origins by id, function associations by event type; behaviours keep their order.
    key = "Id" if "Id" in items[0] else "EventType" if "EventType" in items[0] else None
    return sorted(items, key=lambda item: str(item.get(key))) if key else items


def _unkept(name: str, wanted: dict[str, Any], have: dict[str, Any]) -> list[Change]:
    have_origins = {o.get("Id"): o for o in (have.get("Origins") or {}).get("Items") or []}
    dropped = sorted(
        {
            key
            for origin in wanted["Origins"]["Items"]
            for key in _DROPPABLE
            if key in origin and key not in have_origins.get(origin["Id"], {})
        }
    )
    return [Change("cdn", f"{name} {key}", "unsupported") for key in dropped]


def ensure_site_bucket_policy(site: Site, distribution_arn: str) -> Change:
    """The site bucket's policy: `s3:GetObject` for this distribution alone (`AWS:SourceArn`)."""
    s3 = aws.client("s3")
    bucket = resources.bucket_name(site.distribution.site_bucket)
    wanted = site_bucket_policy(bucket, distribution_arn)
    try:
        have = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except Exception as exc:
        if error_code(exc) != "NoSuchBucketPolicy":
            raise
        have = None
    if have == wanted:
        return Change("policy", bucket, "unchanged")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(wanted))
    return Change("policy", bucket, "created" if have is None else "updated")


def ensure_edge(site: Site | None) -> list[Change]:
    """Every CloudFront resource of the site, in the order each needs the one before."""
    if site is None:
        return []
    oac_change, oac_id = ensure_origin_access_control()
    function_changes, function_arn = ensure_edge_function(site.distribution)
    headers_change, headers_policy_id = ensure_response_headers_policy(site.distribution)
    distribution_changes, arn = ensure_distribution(site, oac_id, function_arn, headers_policy_id)
    return [oac_change, *function_changes, headers_change, *distribution_changes, ensure_site_bucket_policy(site, arn)]
