"""API Gateway at the edge from the topology: the Zappa settings and the stage cache's patch."""

from __future__ import annotations

import dataclasses

from events.edge import ApiEdge, MethodCache
from events.topology import TOPOLOGY
from fleet.provision.api_cache import cache_key_parameters, method_setting_key, stage_patch
from fleet.zappa_config import render


def test_the_endpoint_type_and_the_stage_cache_go_into_the_api_stage_only():
    stages = render()
    api = stages["api"]
    assert api["endpoint_configuration"] == [TOPOLOGY.api_edge.endpoint_type]
    assert api["cache_cluster_enabled"] is True
    assert str(api["cache_cluster_size"]) == TOPOLOGY.api_edge.cache_size_gb
    assert api["cache_cluster_encrypted"] is TOPOLOGY.api_edge.cache_encrypted
    # Zappa puts this TTL on every method: 0, so nothing but the named GETs is cached.
    assert api["cache_cluster_ttl"] == 0
    assert not any(k.startswith(("cache_", "endpoint_")) for k in stages["workers"])

    regional = dataclasses.replace(TOPOLOGY, api_edge=dataclasses.replace(TOPOLOGY.api_edge, endpoint_type="REGIONAL"))
    assert render(topology=regional)["api"]["endpoint_configuration"] == ["REGIONAL"]


def test_a_cached_gets_key_holds_its_path_its_query_strings_and_the_credentials():
    assert cache_key_parameters("/v1/articles/{article_id}/comments", ("limit", "cursor")) == [
        "method.request.path.article_id",
        "method.request.querystring.limit",
        "method.request.querystring.cursor",
        "method.request.header.Authorization",
        "method.request.header.x-api-key",
    ]
    assert method_setting_key("/v1/articles/{article_id}") == "~1v1~1articles~1{article_id}/GET"


def test_the_stage_patch_turns_the_cache_on_for_the_declared_gets_only_then_is_empty():
    edge = ApiEdge(cache_size_gb="1.6", cache_encrypted=True, cached_gets=(MethodCache("/v1/articles", 5, ("limit",)),))
    ops = stage_patch({"cacheClusterEnabled": False, "methodSettings": {}}, edge)
    by_path = {op["path"]: op["value"] for op in ops}
    assert by_path == {
        "/cacheClusterEnabled": "true",
        "/cacheClusterSize": "1.6",
        "/*/*/caching/enabled": "false",
        "/~1v1~1articles/GET/caching/enabled": "true",
        "/~1v1~1articles/GET/caching/ttlInSeconds": "5",
        "/~1v1~1articles/GET/caching/dataEncrypted": "true",
    }
    applied = {
        "cacheClusterEnabled": True,
        "cacheClusterSize": "1.6",
        "methodSettings": {
            "*/*": {"cachingEnabled": False, "cacheTtlInSeconds": 0},
            "~1v1~1articles/GET": {"cachingEnabled": True, "cacheTtlInSeconds": 5, "cacheDataEncrypted": True},
        },
    }
    assert stage_patch(applied, edge) == []
