"""Schemathesis against the running local API, from its own OpenAPI document: no 5xx, and
every error in the one format. Bounded: a few dozen cases per operation."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

pytestmark = pytest.mark.fuzz

#: Cases generated per operation.
MAX_EXAMPLES = 30


@pytest.fixture(scope="module")
def fuzzed_fleet(aws_server, tmp_path_factory):
    """One fleet for every operation of the run, with a key of every scope and a user token."""
    import requests

    from fleet.provision import provision
    from fleet.runtime.local import ApiServer, LocalRuntime
    from lambda_platform import access, aws, settings
    from lambda_platform.adapters.access import DynamoApiKeys

    with pytest.MonkeyPatch.context() as patch:
        requests.post(f"{aws_server.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()
        patch.setenv("AWS_ENDPOINT_URL", aws_server.endpoint_url)
        patch.setenv("FLEET_STAGE", "local")
        patch.setenv("FLEET_VISIBILITY_TIMEOUT", "1")
        patch.setenv("FLEET_RATE_PER_CLIENT", "100000")
        patch.setenv("FLEET_STATE_DIR", str(tmp_path_factory.mktemp("fuzz-state")))
        settings.reset()
        aws.reset()
        provision()
        api = ApiServer(port=0)
        api.start()
        runtime = LocalRuntime()
        runtime.start()
        key = access.new_key("fuzz", list(access.SCOPES), DynamoApiKeys(), all_campaigns=True)[0]
        signing = access.signing_key(settings.current().state_dir)
        token = access.issue_token(signing, access.local_issuer(api.url), settings.current().cognito_client_id, "fuzz", 3600)
        yield {"url": api.url, "headers": {"x-api-key": key, "Authorization": f"Bearer {token}"}}
        runtime.stop()
        api.stop()
        settings.reset()
        aws.reset()


@pytest.fixture(scope="module")
def api_schema(fuzzed_fleet):
    return schemathesis.openapi.from_url(f"{fuzzed_fleet['url']}/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


def one_error_format(response, case) -> None:
    """Every 4xx and 5xx is `{"error": {"code", "message", "fields"?}}`."""
    if response.status_code < 400:
        return
    document = response.json()
    assert isinstance(document, dict) and set(document) == {"error"}, document
    error = document["error"]
    assert isinstance(error.get("code"), str) and isinstance(error.get("message"), str), document
    assert set(error) <= {"code", "message", "fields"}, document
    if "fields" in error:
        assert all(isinstance(v, list) for v in error["fields"].values()), document


@schema.parametrize()
@hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_never_fails_and_always_answers_errors_in_one_format(case, fuzzed_fleet):
    headers = dict(fuzzed_fleet["headers"])
    headers.update(case.headers or {})
    response = case.call(base_url=fuzzed_fleet["url"], headers=headers, timeout=10)
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
    one_error_format(response, case)
