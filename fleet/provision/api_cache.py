"""API Gateway at the edge: the REST API's endpoint type and the stage cache, on the
public GETs of `TOPOLOGY.api_edge` only.

Zappa's REST API has `/` and `/{proxy+}` (method ANY), and the stage cache is set per
resource and method: cached on `{proxy+}`, every path would share one key. So each cached
GET gets a resource of its own path, with a GET whose Lambda proxy integration is the one
of `{proxy+}` and whose cache key holds the path parameters, the declared query strings and
the credential headers (API Gateway caches whatever the API answers, `private` or not: an
answer to one key or token is never served to another or to nobody). Every resource made
here also answers ANY through the same integration, and each that has no variable child a
`{proxy+}` child, so every other method and path reaches the API as before. Caching is
off on `*/*` and on only for those GETs.
"""

from __future__ import annotations

import re
from typing import Any

from events.edge import PRIVATE_REQUEST_HEADERS, ApiEdge
from events.topology import TOPOLOGY
from fleet.provision.base import Change
from lambda_platform import aws

PROXY = "{proxy+}"


def cache_key_parameters(resource_path: str, query_strings: tuple[str, ...]) -> list[str]:
    """The method request parameters in a cached GET's key."""
    params = [f"method.request.path.{name}" for name in re.findall(r"\{(\w+)\}", resource_path)]
    params += [f"method.request.querystring.{q}" for q in query_strings]
    params += [f"method.request.header.{h}" for h in PRIVATE_REQUEST_HEADERS]
    return params


def method_setting_key(resource_path: str, method: str = "GET") -> str:
    """A stage's methodSettings key (and patch path, after a `/`) for one resource's method."""
    return f"{resource_path.replace('/', '~1')}/{method}"


def _resources(api_id: str) -> dict[str, dict[str, Any]]:
    apigateway = aws.client("apigateway")
    pages = apigateway.get_paginator("get_resources").paginate(restApiId=api_id)
    return {r["path"]: r for page in pages for r in page.get("items", [])}


def _method(api_id: str, resource_id: str, http_method: str) -> dict[str, Any] | None:
    try:
        return aws.client("apigateway").get_method(restApiId=api_id, resourceId=resource_id, httpMethod=http_method)
    except Exception as exc:
        if getattr(exc, "response", {}).get("Error", {}).get("Code") != "NotFoundException":
            raise
        return None


def _put(
    api_id: str, resource_id: str, http_method: str, template: dict[str, Any], params: dict[str, bool], key: list[str]
) -> None:
    apigateway = aws.client("apigateway")
    if _method(api_id, resource_id, http_method) is not None:
        apigateway.delete_method(restApiId=api_id, resourceId=resource_id, httpMethod=http_method)
    apigateway.put_method(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=http_method,
        authorizationType=template.get("authorizationType", "NONE"),
        apiKeyRequired=bool(template.get("apiKeyRequired", False)),
        requestParameters=params,
    )
    integration = template["methodIntegration"]
    extra = {k: integration[k] for k in ("credentials", "timeoutInMillis", "contentHandling") if integration.get(k)}
    apigateway.put_integration(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=http_method,
        type=integration["type"],
        integrationHttpMethod=integration["httpMethod"],
        uri=integration["uri"],
        cacheKeyParameters=key,
        cacheNamespace=resource_id,
        **extra,
    )


def _same(have: dict[str, Any] | None, template: dict[str, Any], params: dict[str, bool], key: list[str]) -> bool:
    if have is None:
        return False
    integration = have.get("methodIntegration") or {}
    wanted = template["methodIntegration"]
    kept_key = integration.get("cacheKeyParameters") or []
    return (
        (have.get("requestParameters") or {}) == params
        # An empty key where one was put is an endpoint that keeps none (see _key_kept).
        and (sorted(kept_key) == sorted(key) or not kept_key)
        and all(integration.get(k) == wanted.get(k) for k in ("type", "uri", "httpMethod"))
    )


def _key_kept(api_id: str, resource_id: str, key: list[str]) -> bool:
    # AWS keeps an integration's cacheKeyParameters; moto drops them on PutIntegration.
    have = _method(api_id, resource_id, "GET") or {}
    return sorted((have.get("methodIntegration") or {}).get("cacheKeyParameters") or []) == sorted(key)


def ensure_cached_resources(api_id: str, edge: ApiEdge) -> list[Change]:
    """The resources, GETs and ANY methods that let the cached GETs be cached on their own."""
    apigateway = aws.client("apigateway")
    resources = _resources(api_id)
    proxy = resources.get(f"/{PROXY}")
    template = _method(api_id, proxy["id"], "ANY") if proxy else None
    if template is None:
        return [Change("cache", "resources", "deferred")]
    cached = {c.resource_path: c for c in edge.cached_gets}
    paths: list[str] = []
    for path in cached:
        parts = path.strip("/").split("/")
        paths += [p for p in ("/" + "/".join(parts[: i + 1]) for i in range(len(parts))) if p not in paths]
    # A `{proxy+}` beside a variable sibling is refused, and not needed: the variable takes the path.
    variable_parents = {p.rsplit("/", 1)[0] or "/" for p in paths if p.rsplit("/", 1)[1].startswith("{")}
    paths += [f"{p}/{PROXY}" for p in list(paths) if p not in variable_parents]

    changes = []
    for path in sorted(paths, key=lambda p: p.count("/")):
        action = "unchanged"
        if path not in resources:
            parent, part = path.rsplit("/", 1)
            resources[path] = apigateway.create_resource(restApiId=api_id, parentId=resources[parent or "/"]["id"], pathPart=part)
            action = "created"
        resource_id = resources[path]["id"]
        path_params = {f"method.request.path.{n}": True for n in re.findall(r"\{(\w+)\+?\}", path)}
        if not _same(_method(api_id, resource_id, "ANY"), template, path_params, []):
            _put(api_id, resource_id, "ANY", template, path_params, [])
            action = "created" if action == "created" else "updated"
        if path in cached:
            key = cache_key_parameters(path, cached[path].query_strings)
            params = {**path_params, **{k: False for k in key if k not in path_params}}
            if not _same(_method(api_id, resource_id, "GET"), template, params, key):
                _put(api_id, resource_id, "GET", template, params, key)
                action = "created" if action == "created" else "updated"
            if not _key_kept(api_id, resource_id, key):
                changes.append(Change("cachekey", path, "unsupported"))
        changes.append(Change("route", path, action))
    return changes


def stage_patch(stage: dict[str, Any], edge: ApiEdge) -> list[dict[str, str]]:
    """The patch operations that bring a stage's cache to the declaration (none: it is)."""
    ops = []
    if not stage.get("cacheClusterEnabled"):
        ops.append({"op": "replace", "path": "/cacheClusterEnabled", "value": "true"})
    if str(stage.get("cacheClusterSize")) != edge.cache_size_gb:
        ops.append({"op": "replace", "path": "/cacheClusterSize", "value": edge.cache_size_gb})
    settings = stage.get("methodSettings") or {}
    wanted: dict[str, dict[str, Any]] = {"*/*": {"cachingEnabled": False}}
    for cached in edge.cached_gets:
        wanted[method_setting_key(cached.resource_path)] = {
            "cachingEnabled": True,
            "cacheTtlInSeconds": cached.ttl_seconds,
            "cacheDataEncrypted": edge.cache_encrypted,
        }
    names = {"cachingEnabled": "enabled", "cacheTtlInSeconds": "ttlInSeconds", "cacheDataEncrypted": "dataEncrypted"}
    for key, values in wanted.items():
        have = settings.get(key) or {}
        for field, value in values.items():
            if have.get(field) != value:
                value_text = str(value).lower() if isinstance(value, bool) else str(value)
                ops.append({"op": "replace", "path": f"/{key}/caching/{names[field]}", "value": value_text})
    return ops


def ensure_api_cache(api_id: str, edge: ApiEdge = TOPOLOGY.api_edge, stage: str = TOPOLOGY.api.name) -> list[Change]:
    """The endpoint type, the cached GETs' resources (deployed when changed) and the stage cache."""
    apigateway = aws.client("apigateway")
    changes = [ensure_endpoint_type(api_id, edge)]
    routes = ensure_cached_resources(api_id, edge)
    changes += routes
    if any(c.changed for c in routes):
        apigateway.create_deployment(restApiId=api_id, stageName=stage, description="fleet wire: cached GETs")
    ops = stage_patch(apigateway.get_stage(restApiId=api_id, stageName=stage), edge)
    if ops:
        apigateway.update_stage(restApiId=api_id, stageName=stage, patchOperations=ops)
    changes.append(Change("cache", f"stage {stage}", "updated" if ops else "unchanged"))
    return changes


def ensure_endpoint_type(api_id: str, edge: ApiEdge) -> Change:
    """The REST API's endpoint type as declared (Zappa sets it when it makes the API)."""
    apigateway = aws.client("apigateway")
    api = apigateway.get_rest_api(restApiId=api_id)
    have = (api.get("endpointConfiguration") or {}).get("types") or []
    if have == [edge.endpoint_type]:
        return Change("endpoint", api["name"], "unchanged")
    path = f"/endpointConfiguration/types/{have[0]}" if have else "/endpointConfiguration/types"
    apigateway.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": path, "value": edge.endpoint_type}])
    return Change("endpoint", api["name"], "updated")
