"""`fleet wire`'s API Gateway step against moto, on a REST API shaped as Zappa makes it
(`/` and `/{proxy+}`, ANY through one Lambda proxy integration, a stage `api`)."""

from __future__ import annotations

from events.topology import TOPOLOGY

URI = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:fleet-local-api/invocations"


def _zappa_like_api() -> str:
    from lambda_platform import aws, resources

    apigateway = aws.client("apigateway")
    api = apigateway.create_rest_api(name=resources.function_name(TOPOLOGY.api), endpointConfiguration={"types": ["EDGE"]})
    root = apigateway.get_resources(restApiId=api["id"])["items"][0]["id"]
    proxy = apigateway.create_resource(restApiId=api["id"], parentId=root, pathPart="{proxy+}")["id"]
    for resource in (root, proxy):
        apigateway.put_method(restApiId=api["id"], resourceId=resource, httpMethod="ANY", authorizationType="NONE")
        apigateway.put_integration(
            restApiId=api["id"],
            resourceId=resource,
            httpMethod="ANY",
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=URI,
            credentials="arn:aws:iam::123456789012:role/fleet-local-api-ZappaLambdaExecutionRole",
        )
    apigateway.create_deployment(restApiId=api["id"], stageName=TOPOLOGY.api.name)
    return api["id"]


def test_wire_caches_the_declared_gets_on_their_own_resources_once(provisioned):
    from fleet.provision.api_cache import ensure_api_cache, method_setting_key
    from lambda_platform import aws

    api_id = _zappa_like_api()
    first = ensure_api_cache(api_id)
    assert {c.action for c in first if c.kind == "route"} == {"created"}
    stage = aws.client("apigateway").get_stage(restApiId=api_id, stageName=TOPOLOGY.api.name)
    assert stage["cacheClusterEnabled"] is True
    enabled = {k for k, v in stage["methodSettings"].items() if v.get("cachingEnabled")}
    assert enabled == {method_setting_key(c.resource_path) for c in TOPOLOGY.api_edge.cached_gets}
    # moto drops an integration's cacheKeyParameters: said, never claimed.
    unkept = sorted(c.name for c in first if c.kind == "cachekey" and c.action == "unsupported")
    assert unkept == sorted(c.resource_path for c in TOPOLOGY.api_edge.cached_gets)
    again = ensure_api_cache(api_id)
    assert [str(c) for c in again if c.changed] == []


def test_wire_adds_the_api_to_the_distribution_and_caches_nothing_before_the_api(provisioned):
    from fleet.wire import wire

    before = {(c.kind, c.name): c.action for c in wire()}
    assert before[("cache", f"stage {TOPOLOGY.api.name}")] == "deferred"
    _zappa_like_api()
    after = [c for c in wire() if c.changed]
    assert ("cdn", "updated") in {(c.kind, c.action) for c in after}
    assert [str(c) for c in wire() if c.changed] == []
