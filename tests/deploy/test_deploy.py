"""`zappa deploy` of both stages against moto's server, then `fleet wire --stage prod`.

The zips are the session's `zappa package` builds (conftest), deployed with
`zappa deploy STAGE --zip ZIP` from a copy of `zappa_settings.json` that only changes
`"touch": false` (nothing to GET on loopback) and `s3_bucket` (a test bucket). Zappa runs
through `tests.deploy.zappa_offline` (no PyPI version check) with `AWS_ENDPOINT_URL` on
moto and dummy keys.

moto needs nothing patched: it takes the function zips, runs Zappa's CloudFormation
stack for the REST API (and the deployment and stage `api`), and its event source
mappings, pipes and notifications read back as created. One thing is Zappa's own doing:
`zappa deploy --zip` skips creating its IAM execution role (cli.py: roles are managed only
when it builds the zip itself), so on a fresh account the deploy fails with NoSuchEntity
on GetRole, on AWS as on moto. The test first runs Zappa's own `create_iam_roles()` for
each stage, which is what a `zappa deploy` without `--zip` does first.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.deploy.conftest import ROOT, STAGE, dummy_aws_env


def _zappa(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tests.deploy.zappa_offline", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done.stdout + done.stderr


def _fleet_wire(env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "fleet"), "wire", "--stage", STAGE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()


@pytest.fixture
def deployed(packages, prod_stage, tmp_path):
    """Both stages deployed to moto with Zappa; the env Zappa and fleet ran with."""
    settings_file = tmp_path / "zappa_settings.json"
    stages = json.loads((ROOT / "zappa_settings.json").read_text())
    for stage in stages.values():
        stage["touch"] = False
        stage["s3_bucket"] = "fleet-test-deploy"
    settings_file.write_text(json.dumps(stages))
    env = dummy_aws_env(prod_stage.endpoint_url)
    logs = {}
    for zappa_stage in ("workers", "api"):
        zip_path, _folder = packages[zappa_stage]
        logs[zappa_stage] = _zappa(env, "deploy", zappa_stage, "-s", str(settings_file), "--zip", str(zip_path))
    return env, logs


def _mappings(function_name: str) -> list[dict]:
    from lambda_platform import aws

    lam = aws.client("lambda")
    return [
        m
        for page in lam.get_paginator("list_event_source_mappings").paginate(FunctionName=function_name)
        for m in page["EventSourceMappings"]
    ]


def test_zappa_deploys_both_stages_and_fleet_wire_leaves_every_trigger_reporting_failures(deployed):
    from events.topology import TOPOLOGY, SqsTrigger, StreamTrigger
    from lambda_platform import aws, resources, settings

    env, logs = deployed
    for zappa_stage, log in logs.items():
        assert "Deployment complete" in log, log[-2000:]
        assert "fleet wire:" in log, f"Zappa did not run the post-deploy callback for {zappa_stage}"
    assert "execute-api" in logs["api"]  # Zappa's CloudFormation stack made the REST API

    lam = aws.client("lambda")
    workers = lam.get_function(FunctionName="fleet-prod-workers")["Configuration"]
    assert workers["Handler"] == "lambda_platform.entry.lambda_handler"
    api = lam.get_function(FunctionName="fleet-prod-api")["Configuration"]
    assert api["Handler"] == "handler.lambda_handler"  # Zappa's WSGI handler; FLEET_STAGE is in the zip's settings
    # Each runs as the role `fleet provision` rendered from the topology, never Zappa's own.
    assert workers["Role"].endswith(":role/fleet-prod-workers") and api["Role"].endswith(":role/fleet-prod-api")
    roles = {r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]}
    assert not {r for r in roles if "ZappaLambdaExecutionRole" in r}, roles

    # Break one mapping the way Zappa's own event sources leave it: fleet wire corrects it.
    broken = next(m for m in _mappings("fleet-prod-workers") if ":sqs:" in m["EventSourceArn"])
    lam.update_event_source_mapping(UUID=broken["UUID"], FunctionResponseTypes=[], BatchSize=10)
    first = _fleet_wire(env)
    assert sum(" updated " in line or line.startswith("updated ") for line in first) == 1, first

    mappings = _mappings("fleet-prod-workers")
    sqs = [m for m in mappings if ":sqs:" in m["EventSourceArn"]]
    streams = [m for m in mappings if ":dynamodb:" in m["EventSourceArn"]]
    triggers = [t for f in TOPOLOGY.functions for t in f.triggers]
    assert len(sqs) == sum(isinstance(t, SqsTrigger) for t in triggers)
    assert len(streams) == sum(isinstance(t, StreamTrigger) for t in triggers) > 0
    for mapping in mappings:
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"], mapping
    settings.reset()
    by_table = {resources.table_name(t.table): t for t in triggers if isinstance(t, StreamTrigger)}
    stream_table = lambda mapping: mapping["EventSourceArn"].partition(":table/")[2].partition("/stream/")[0]  # noqa: E731
    assert sorted(stream_table(m) for m in streams) == sorted(by_table)
    for mapping in streams:
        trigger = by_table[stream_table(mapping)]
        assert mapping["StartingPosition"] == trigger.starting_position, mapping
        assert mapping["MaximumRetryAttempts"] == trigger.retry.maximum_retry_attempts, mapping
        assert mapping["MaximumRecordAgeInSeconds"] == trigger.retry.maximum_record_age_seconds, mapping
        assert mapping["BisectBatchOnFunctionError"] is trigger.retry.bisect_on_error, mapping
        on_failure = resources.queue_arn(trigger.retry.on_failure_queue)
        assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == on_failure, mapping

    pipes = aws.client("pipes")
    for _function, trigger in TOPOLOGY.pipes():
        pipe = pipes.describe_pipe(Name=resources.pipe_name(trigger.pipe))
        assert pipe["Target"] == workers["FunctionArn"] == resources.function_arn(TOPOLOGY.workers)
        assert pipe["Source"] == resources.queue_arn(trigger.queue)

    s3 = aws.client("s3")
    for bucket in TOPOLOGY.buckets:
        if bucket.notify_queue:
            config = s3.get_bucket_notification_configuration(Bucket=resources.bucket_name(bucket))
            queues = [q["QueueArn"] for q in config.get("QueueConfigurations", [])]
            assert queues == [resources.queue_arn(bucket.notify_queue)]

    plans = aws.client("apigateway").get_usage_plans()["items"]
    assert [p["name"] for p in plans] == ["fleet-prod-api"]

    _assert_the_api_is_cached_at_the_edge(first)

    again = _fleet_wire(env)
    assert again[-1].endswith(" 0 changed"), again
    assert _mappings("fleet-prod-workers") == mappings


def _assert_the_api_is_cached_at_the_edge(wired: list[str]) -> None:
    """What Zappa's post-deploy `fleet wire` left: the endpoint type, a resource of its own
    for each cached GET (with `{proxy+}`'s integration), the stage cache on those alone, and
    the distribution's API origin on the stage's domain."""
    from events.topology import TOPOLOGY
    from fleet.provision.api_cache import cache_key_parameters, method_setting_key
    from fleet.provision.edge import find_distribution
    from lambda_platform import aws, resources

    apigateway = aws.client("apigateway")
    rest = next(a for a in apigateway.get_rest_apis()["items"] if a["name"] == "fleet-prod-api")
    assert rest["endpointConfiguration"]["types"] == [TOPOLOGY.api_edge.endpoint_type]
    by_path = {r["path"]: r["id"] for r in apigateway.get_resources(restApiId=rest["id"], limit=500)["items"]}
    method = lambda path, verb: apigateway.get_method(restApiId=rest["id"], resourceId=by_path[path], httpMethod=verb)  # noqa: E731
    proxy = method("/{proxy+}", "ANY")["methodIntegration"]
    assert proxy["type"] == "AWS_PROXY"
    for cached in TOPOLOGY.api_edge.cached_gets:
        get = method(cached.resource_path, "GET")
        assert get["methodIntegration"]["type"] == "AWS_PROXY"
        assert get["methodIntegration"]["uri"] == proxy["uri"]
        wanted_key = cache_key_parameters(cached.resource_path, cached.query_strings)
        assert set(wanted_key) <= set(get["requestParameters"])
        # moto drops an integration's cacheKeyParameters on PutIntegration: fleet wire says so.
        if not get["methodIntegration"].get("cacheKeyParameters"):
            assert f"unsupported cachekey {cached.resource_path}" in wired, wired
        else:
            assert sorted(get["methodIntegration"]["cacheKeyParameters"]) == sorted(wanted_key)
        # Every other method of the path still reaches the API.
        assert method(cached.resource_path, "ANY")["methodIntegration"]["uri"] == proxy["uri"]
    assert method("/v1/{proxy+}", "ANY")["methodIntegration"]["uri"] == proxy["uri"]

    stage = apigateway.get_stage(restApiId=rest["id"], stageName=TOPOLOGY.api.name)
    assert stage["cacheClusterEnabled"] is True
    assert stage["cacheClusterSize"] == TOPOLOGY.api_edge.cache_size_gb
    method_settings = stage["methodSettings"]
    assert method_settings["*/*"]["cachingEnabled"] is False
    cached_keys = {method_setting_key(c.resource_path) for c in TOPOLOGY.api_edge.cached_gets}
    assert {k for k, v in method_settings.items() if v.get("cachingEnabled")} == cached_keys
    for cached in TOPOLOGY.api_edge.cached_gets:
        setting = method_settings[method_setting_key(cached.resource_path)]
        assert setting["cacheTtlInSeconds"] == cached.ttl_seconds
        assert setting["cacheDataEncrypted"] is TOPOLOGY.api_edge.cache_encrypted

    summary = find_distribution(resources.distribution_name())
    config = aws.client("cloudfront").get_distribution_config(Id=summary["Id"])["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]["Items"]}
    assert origins["api"]["DomainName"] == f"{rest['id']}.execute-api.us-east-1.amazonaws.com"
    patterns = [b["PathPattern"] for b in config["CacheBehaviors"]["Items"]]
    assert patterns == [b.path_pattern for b in TOPOLOGY.site.distribution.behaviours[:-1]]
