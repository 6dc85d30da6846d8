"""`fleet provision` makes the edge in moto and reads it back: the site bucket (private,
read only by the distribution), the Origin Access Control, the function, the distribution;
a second run changes nothing; what moto cannot hold is `unsupported`, never claimed."""

from __future__ import annotations

import json

import pytest

from events.edge import PRIVATE_REQUEST_HEADERS
from events.topology import TOPOLOGY


def _config():
    from fleet.provision.edge import find_distribution
    from lambda_platform import aws, resources

    summary = find_distribution(resources.distribution_name())
    assert summary is not None
    return summary, aws.client("cloudfront").get_distribution_config(Id=summary["Id"])["DistributionConfig"]


def test_the_site_bucket_is_private_and_read_only_by_the_distribution(provisioned):
    from lambda_platform import aws, resources

    s3 = aws.client("s3")
    bucket = resources.bucket_name("site")
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True)
    summary, _rendered = _config()
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"] == [
        {
            "Sid": "cloudfront-reads",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"StringEquals": {"AWS:SourceArn": summary["ARN"]}},
        }
    ]


def test_the_distribution_reads_back_as_declared(provisioned):
    from lambda_platform import aws, resources

    cloudfront = aws.client("cloudfront")
    name = resources.distribution_name()
    oacs = cloudfront.list_origin_access_controls()["OriginAccessControlList"]["Items"]
    assert [(o["Name"], o["SigningProtocol"], o["SigningBehavior"], o["OriginAccessControlOriginType"]) for o in oacs] == [
        (name, "sigv4", "always", "s3")
    ]
    function = cloudfront.describe_function(Name=resources.edge_function_name())["FunctionSummary"]
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    code = cloudfront.get_function(Name=resources.edge_function_name())["FunctionCode"].read().decode()
    assert '"/web/entry.html"' in code and '"/blog/article.html"' in code

    _summary, config = _config()
    assert config["Comment"] == name and config["Enabled"] is True
    assert config["PriceClass"] == TOPOLOGY.site.distribution.price_class
    origins = config["Origins"]["Items"]
    # No API yet (Zappa has not deployed): the site alone, the API behaviours deferred.
    assert [o["Id"] for o in origins] == ["site"]
    assert origins[0]["DomainName"] == f"{resources.bucket_name('site')}.s3.us-east-1.amazonaws.com"
    site_behaviours = [b for b in TOPOLOGY.site.distribution.behaviours if b.origin == "site"]
    have = [*config["CacheBehaviors"].get("Items", []), config["DefaultCacheBehavior"]]
    assert [b.get("PathPattern", "*") for b in have] == [b.path_pattern for b in site_behaviours]
    for declared, rendered in zip(site_behaviours, have, strict=True):
        assert (rendered["MinTTL"], rendered["DefaultTTL"], rendered["MaxTTL"]) == (
            declared.min_ttl,
            declared.default_ttl,
            declared.max_ttl,
        )
        assert rendered["TargetOriginId"] == "site"
        assert sorted(rendered["AllowedMethods"]["Items"]) == sorted(declared.allowed_methods)
        assert rendered["ForwardedValues"]["QueryString"] is False
        assert rendered["ForwardedValues"]["Headers"]["Quantity"] == 0
    # Only the error caching minimum TTL of each status CloudFront caches: never a page.
    assert config["CustomErrorResponses"]["Quantity"] == 12
    assert all("ResponsePagePath" not in r for r in config["CustomErrorResponses"]["Items"])


def test_a_second_run_changes_nothing_and_moto_gaps_are_unsupported(provisioned):
    from fleet.provision import provision

    again = provision()
    changed = [str(c) for c in again if c.action not in ("unchanged", "deferred", "pending", "unsupported")]
    assert changed == []
    edge = {(c.kind, c.name.split(" ", 1)[-1] if " " in c.name else "", c.action) for c in again}
    # moto has no PublishFunction: the function is never live, so no behaviour names it,
    # and moto keeps neither an origin's OAC id nor its S3OriginConfig.
    assert ("publish", "", "unsupported") in edge
    assert ("assoc", "function", "unsupported") in edge
    assert ("cdn", "OriginAccessControlId", "unsupported") in edge
    # moto has no response headers policies: reported, never claimed, and no behaviour names one.
    assert ("headers", "", "unsupported") in edge
    assert ("origin", "api", "deferred") in edge
    # Replicas are for AWS stages: the local stage asks for none.
    assert not [c for c in again if c.kind == "replica"]


def test_a_bucket_made_public_by_hand_is_made_private_again(provisioned):
    from fleet.provision import provision
    from lambda_platform import aws, resources

    s3 = aws.client("s3")
    bucket = resources.bucket_name("site")
    s3.delete_public_access_block(Bucket=bucket)
    s3.delete_bucket_policy(Bucket=bucket)
    changes = {(c.kind, c.name): c.action for c in provision()}
    assert changes[("bucket", bucket)] == "updated"
    assert changes[("policy", bucket)] == "created"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())


@pytest.mark.slow
def test_a_behaviour_changed_by_hand_is_corrected(provisioned):
    from fleet.provision import provision
    from lambda_platform import aws, resources

    cloudfront = aws.client("cloudfront")
    summary, config = _config()
    etag = cloudfront.get_distribution_config(Id=summary["Id"])["ETag"]
    config["DefaultCacheBehavior"]["MaxTTL"] = 5
    config["DefaultCacheBehavior"]["ForwardedValues"]["QueryString"] = True
    cloudfront.update_distribution(Id=summary["Id"], IfMatch=etag, DistributionConfig=config)
    changes = {(c.kind, c.name): c.action for c in provision()}
    assert changes[("cdn", resources.distribution_name())] == "updated"
    _summary, fixed = _config()
    assert fixed["DefaultCacheBehavior"]["MaxTTL"] == TOPOLOGY.site.distribution.behaviours[-1].max_ttl
    assert fixed["DefaultCacheBehavior"]["ForwardedValues"]["QueryString"] is False


@pytest.fixture
def prod_stage_in_moto(local_aws, monkeypatch):
    """The `prod` stage against moto: an AWS stage as far as provisioning can tell."""
    from lambda_platform import aws, settings

    monkeypatch.setenv("FLEET_STAGE", "prod")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "fleet-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fleet-test")
    settings.reset()
    aws.reset()
    return local_aws


@pytest.mark.slow
def test_replicas_off_the_local_stage_are_asked_for_and_unsupported_in_moto(prod_stage_in_moto):
    from fleet.provision import provision
    from lambda_platform import aws, resources

    changes = provision()
    replicated = [t for t in TOPOLOGY.tables if t.replica_regions]
    assert replicated
    replicas = sorted((c.name, c.action) for c in changes if c.kind == "replica")
    assert replicas == sorted(
        (f"{resources.table_name(t)} {region}", "unsupported") for t in replicated for region in t.replica_regions
    )
    for table in replicated:
        described = aws.client("dynamodb").describe_table(TableName=resources.table_name(table))["Table"]
        # What a global table needs, even where the replica cannot be made.
        assert described["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        assert not described.get("Replicas")
    again = provision()
    assert [c for c in again if c.kind == "table" and c.action != "unchanged"] == []


@pytest.mark.slow
def test_api_behaviours_key_on_the_private_headers_once_the_api_exists(provisioned):
    from fleet.provision import provision
    from lambda_platform import aws, resources

    # A REST API of the stage's name is what Zappa's deploy leaves behind.
    api = aws.client("apigateway").create_rest_api(name=resources.function_name(TOPOLOGY.api))
    changes = {(c.kind, c.name): c.action for c in provision()}
    assert changes[("cdn", resources.distribution_name())] == "updated"
    _summary, config = _config()
    origins = {o["Id"]: o for o in config["Origins"]["Items"]}
    assert origins["api"]["DomainName"] == f"{api['id']}.execute-api.us-east-1.amazonaws.com"
    assert origins["api"]["OriginPath"] == f"/{TOPOLOGY.api.name}"
    assert origins["api"]["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    behaviours = config["CacheBehaviors"]["Items"] + [config["DefaultCacheBehavior"]]
    assert [b.get("PathPattern", "*") for b in behaviours] == [b.path_pattern for b in TOPOLOGY.site.distribution.behaviours]
    for declared, rendered in zip(TOPOLOGY.site.distribution.behaviours, behaviours, strict=True):
        if declared.origin != "api":
            continue
        forwarded = rendered["ForwardedValues"]
        assert set(PRIVATE_REQUEST_HEADERS) <= set(forwarded["Headers"]["Items"])
        assert forwarded["QueryStringCacheKeys"]["Items"] == list(declared.query_strings)
        assert rendered["MinTTL"] == 0 and rendered["MaxTTL"] == declared.max_ttl
        assert sorted(rendered["AllowedMethods"]["CachedMethods"]["Items"]) == ["GET", "HEAD"]
    assert not [c for c in provision() if c.action in ("created", "updated")]
