"""Request bodies: JSON as the RFC defines it, nothing more."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize(
    ("url", "template"),
    [
        ("/v1/users", '{"email": "ada@example.com", "first_name": %s, "last_name": "L"}'),
        ("/v1/campaigns/summer/uploads", '{"content_type": "image/jpeg", "content_length": %s}'),
        ("/v1/campaigns/summer/submissions", "[%s]"),
    ],
)
def test_nan_and_infinity_are_malformed_json(client, url, template, constant):
    answer = client.post(url, data=template % constant, content_type="application/json")
    assert answer.status_code == 400, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == "malformed_json" and constant.lstrip("-") in error["message"]


def test_numbers_are_still_numbers(client):
    answer = client.post(
        "/v1/campaigns/summer/uploads",
        data='{"content_type": "image/jpeg", "content_length": 1e2}',
        content_type="application/json",
    )
    assert answer.status_code != 400, answer.get_json()
