"""On Lambda the account comes from the context, so queue URLs need no GetQueueUrl."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lambda_platform import aws, resources, settings


@pytest.fixture
def stage(monkeypatch):
    monkeypatch.setenv("FLEET_STAGE", "prod")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    settings.reset()
    aws.reset()
    yield
    aws.reset()
    settings.reset()


def context(arn: str) -> SimpleNamespace:
    return SimpleNamespace(invoked_function_arn=arn)


def test_a_request_through_the_lambda_entry_point_makes_the_queue_urls_known_without_a_call(stage):
    from werkzeug.test import EnvironBuilder

    from ingest_api.wsgi import app

    environ = EnvironBuilder(path="/health").get_environ()
    environ["lambda.context"] = context("arn:aws:lambda:eu-west-1:210987654321:function:fleet-prod-api")
    answered = []
    b"".join(app.wsgi_app(environ, lambda status, headers, exc_info=None: answered.append(status)))

    assert answered == ["200 OK"]
    assert aws.known_account_id() == "210987654321"
    assert resources.queue_url("submissions") == ("https://sqs.eu-west-1.amazonaws.com/210987654321/fleet-prod-submissions")
    assert aws._client.cache_info().currsize == 0  # no STS, no GetQueueUrl: no client at all


def test_an_endpoint_url_is_kept_and_a_context_without_an_account_changes_nothing(stage, monkeypatch):
    aws.remember_lambda_context(context("not-an-arn"))
    assert aws.known_account_id() is None
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    settings.reset()
    aws.remember_lambda_context(context("arn:aws:lambda:eu-west-1:123456789012:function:fleet-prod-api"))
    assert resources.queue_url("users-dlq") == "http://127.0.0.1:4566/123456789012/fleet-prod-users-dlq"
