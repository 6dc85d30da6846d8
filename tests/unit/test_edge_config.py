"""The distribution's rendering for CloudFront and its generated function, from the declaration."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess

import pytest

from events.edge import PRIVATE_REQUEST_HEADERS, CacheBehaviour
from events.topology import TOPOLOGY
from fleet.provision.edge_config import check, distribution_config, function_code, site_bucket_policy

DISTRIBUTION = TOPOLOGY.site.distribution
ARN = "arn:aws:cloudfront::123456789012:function/fleet-prod-site"


def _render(function_arn=ARN, api=("abc.execute-api.us-east-1.amazonaws.com", "api")):
    return distribution_config(DISTRIBUTION, "fleet-prod-site", "b.s3.us-east-1.amazonaws.com", "OAC1", function_arn, api)


def _behaviours(config):
    return [*config["CacheBehaviors"].get("Items", []), config["DefaultCacheBehavior"]]


def test_every_behaviour_in_order_with_its_ttls_methods_and_query_strings():
    config = _render()
    rendered = _behaviours(config)
    assert [b.get("PathPattern", "*") for b in rendered] == [b.path_pattern for b in DISTRIBUTION.behaviours]
    assert "PathPattern" not in config["DefaultCacheBehavior"]
    for declared, behaviour in zip(DISTRIBUTION.behaviours, rendered, strict=True):
        assert behaviour["TargetOriginId"] == declared.origin
        assert (behaviour["MinTTL"], behaviour["DefaultTTL"], behaviour["MaxTTL"]) == (
            declared.min_ttl,
            declared.default_ttl,
            declared.max_ttl,
        )
        assert behaviour["AllowedMethods"]["Items"] == list(declared.allowed_methods)
        # POST, PUT, PATCH, DELETE are passed, never cached.
        assert behaviour["AllowedMethods"]["CachedMethods"]["Items"] == ["GET", "HEAD"]
        keys = behaviour["ForwardedValues"]["QueryStringCacheKeys"]
        assert keys.get("Items", []) == list(declared.query_strings)


def test_api_answers_are_keyed_on_the_private_headers_and_never_kept_past_private():
    for declared, behaviour in zip(DISTRIBUTION.behaviours, _behaviours(_render()), strict=True):
        headers = behaviour["ForwardedValues"]["Headers"].get("Items", [])
        if declared.origin == "api":
            assert set(PRIVATE_REQUEST_HEADERS) <= set(headers)
            assert behaviour["ForwardedValues"]["QueryString"] is True
            # A minimum TTL above 0 would store `private` and `no-store` answers for that long.
            assert behaviour["MinTTL"] == 0
        else:
            assert headers == [] and behaviour["ForwardedValues"]["Cookies"] == {"Forward": "none"}


def test_a_minimum_ttl_on_an_api_behaviour_is_refused():
    api = next(b for b in DISTRIBUTION.behaviours if b.origin == "api")
    broken = dataclasses.replace(
        DISTRIBUTION, behaviours=tuple(dataclasses.replace(b, min_ttl=10) if b is api else b for b in DISTRIBUTION.behaviours)
    )
    with pytest.raises(ValueError, match="min_ttl"):
        check(broken)
    with pytest.raises(ValueError, match="default"):
        check(dataclasses.replace(DISTRIBUTION, behaviours=DISTRIBUTION.behaviours[:-1]))


def test_origins_the_site_through_the_oac_and_the_api_over_https():
    origins = {o["Id"]: o for o in _render()["Origins"]["Items"]}
    assert origins["site"]["OriginAccessControlId"] == "OAC1"
    assert origins["site"]["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert origins["api"]["OriginPath"] == "/api"
    assert origins["api"]["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


def test_before_the_api_exists_the_site_stands_alone():
    config = _render(api=None)
    assert [o["Id"] for o in config["Origins"]["Items"]] == ["site"]
    assert all(b["TargetOriginId"] == "site" for b in _behaviours(config))


def test_the_function_is_on_site_behaviours_only_and_rewrites_where_declared():
    for declared, behaviour in zip(DISTRIBUTION.behaviours, _behaviours(_render()), strict=True):
        events = sorted(a["EventType"] for a in behaviour["FunctionAssociations"].get("Items", []))
        if declared.origin == "api":
            assert events == []
        elif declared.rewrite:
            assert events == ["viewer-request", "viewer-response"]
        else:
            assert events == ["viewer-response"]
    assert all(b["FunctionAssociations"] == {"Quantity": 0} for b in _behaviours(_render(function_arn=None)))


def test_no_custom_error_response_turns_the_apis_403s_into_pages_and_errors_are_cached_as_locally():
    responses = _render()["CustomErrorResponses"]["Items"]
    assert {r["ErrorCode"] for r in responses} == {400, 403, 404, 405, 412, 414, 415, 500, 501, 502, 503, 504}
    # No page and no status of their own: only the error caching minimum TTL, the local edge's.
    assert all(set(r) == {"ErrorCode", "ErrorCachingMinTTL"} for r in responses)
    assert {r["ErrorCachingMinTTL"] for r in responses} == {DISTRIBUTION.error_caching_min_ttl} == {0}


def test_the_cache_key_of_each_behaviour_is_the_local_edges():
    from fleet.edge import policy

    viewer = {"Origin": "https://shop.example", "Authorization": "Bearer t", "x-api-key": "k", "Accept": "*/*"}
    for declared, behaviour in zip(DISTRIBUTION.behaviours, _behaviours(_render()), strict=True):
        rendered = behaviour["ForwardedValues"]["Headers"].get("Items", [])
        key = policy.cache_key(declared, "/p", "", viewer)
        # What CloudFront forwards and keys on is exactly what the local edge keys on, from one declaration.
        assert [line.split(": ")[0] for line in key.split("\n")[1:]] == [h.lower() for h in rendered]
        assert ("Origin" in rendered) is (declared.origin == "api")


def test_the_bucket_policy_names_the_distribution():
    policy = site_bucket_policy("fleet-prod-site", "arn:aws:cloudfront::1:distribution/D")
    (statement,) = policy["Statement"]
    assert statement["Action"] == "s3:GetObject" and statement["Resource"] == "arn:aws:s3:::fleet-prod-site/*"
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::1:distribution/D"}}


NODE = shutil.which("node")


def _run_function(distribution, events):
    script = function_code(distribution) + f"\nconsole.log(JSON.stringify({json.dumps(events)}.map(handler)));\n"
    done = subprocess.run([NODE, "-e", script], capture_output=True, text=True, timeout=30, check=True)
    return json.loads(done.stdout)


@pytest.mark.skipif(NODE is None, reason="no node to run the CloudFront Function")
def test_the_generated_function_rewrites_as_the_declaration_and_makes_403s_404s():
    paths = ["/c/summer", "/c/", "/blog/", "/blog/a/x1", "/blog/app.js", "/downloads/big.bin", "/web/entry.js", "/"]
    events = [{"context": {"eventType": "viewer-request"}, "request": {"uri": p}} for p in paths]
    events.append({"context": {"eventType": "viewer-response"}, "response": {"statusCode": 403}})
    events.append({"context": {"eventType": "viewer-response"}, "response": {"statusCode": 200}})
    *requests, missing, found = _run_function(DISTRIBUTION, events)
    for path, request in zip(paths, requests, strict=True):
        behaviour = DISTRIBUTION.behaviour_for(path)
        assert request["uri"] == (behaviour.rewrite or path), path
    assert missing["statusCode"] == 404 and found["statusCode"] == 200


@pytest.mark.skipif(NODE is None, reason="no node to run the CloudFront Function")
def test_an_earlier_behaviour_without_rewrite_wins_as_cloudfront_picks_it():
    distribution = dataclasses.replace(
        DISTRIBUTION,
        behaviours=(
            CacheBehaviour("/c/static/*", origin="site", default_ttl=60, max_ttl=60),
            CacheBehaviour("/c/*", origin="site", default_ttl=60, max_ttl=60, rewrite="/web/entry.html"),
            CacheBehaviour("*", origin="site"),
        ),
    )
    out = _run_function(
        distribution,
        [{"context": {"eventType": "viewer-request"}, "request": {"uri": u}} for u in ("/c/static/a.css", "/c/x.y")],
    )
    assert [r["uri"] for r in out] == ["/c/static/a.css", "/web/entry.html"]


def test_one_response_headers_policy_is_rendered_from_the_declaration_and_named_by_every_page_behaviour():
    from fleet.provision.edge_config import response_headers_policy

    declared = DISTRIBUTION.response_headers
    policy = response_headers_policy("fleet-prod-site-headers", declared, ("https://media.s3.amazonaws.com",))
    security = policy["SecurityHeadersConfig"]
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "connect-src 'self' https://media.s3.amazonaws.com" in csp
    assert security["FrameOptions"]["FrameOption"] == "DENY" and security["ContentTypeOptions"] == {"Override": True}
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == declared.hsts_max_age
    assert all(field["Override"] is True for field in security.values())

    config = distribution_config(
        DISTRIBUTION, "fleet-prod-site", "b.s3.amazonaws.com", "OAC1", ARN, ("a.execute-api", "api"), "RHP1"
    )
    for declared_behaviour, behaviour in zip(DISTRIBUTION.behaviours, _behaviours(config), strict=True):
        # Every behaviour of the site (the pages, and any .html under `*`); the API's answers carry the API's own.
        assert behaviour.get("ResponseHeadersPolicyId") == ("RHP1" if declared_behaviour.origin == "site" else None)
    # Where the endpoint has no such policies, no behaviour names one.
    assert all("ResponseHeadersPolicyId" not in b for b in _behaviours(_render()))
