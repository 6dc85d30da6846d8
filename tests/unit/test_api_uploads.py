"""POST /v1/campaigns/{id}/uploads and GET /v1/uploads/{id} over in-memory ports."""

from __future__ import annotations

import pytest

from events.uploads import parse_upload_key
from ingest_api import create_app
from tests.fakes import replaced
from tests.fakes.uploads import FakeSigner, FakeUploads

URL = "/v1/campaigns/summer/uploads"


@pytest.fixture
def uploads() -> FakeUploads:
    return FakeUploads()


@pytest.fixture
def signer() -> FakeSigner:
    return FakeSigner()


@pytest.fixture
def client(services, uploads, signer):
    wired = replaced(services, uploads=uploads, upload_signer=signer)
    return create_app({"TESTING": True, "SERVICES": wired, "LOCAL": False}).test_client()


def assert_error(response, status: int, code: str, fields: set[str] | None = None) -> None:
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    if fields is not None:
        assert set(error["fields"]) == fields, error


def test_an_upload_gets_a_presigned_post_for_a_key_we_made(client, uploads, signer):
    response = client.post(URL, json={"content_type": "image/png", "content_length": 123_456})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"upload_id", "key", "url", "fields", "expires_in", "max_bytes"}
    assert body["max_bytes"] == 10 * 1024 * 1024 and body["expires_in"] == 900
    parsed = parse_upload_key(body["key"])
    assert body["key"].startswith("uploads/campaigns/summer/") and body["key"].endswith(".png")
    assert parsed is not None and parsed.upload_id == body["upload_id"]
    # The POST's policy takes exactly the declared size; the record keeps it for the worker.
    assert signer.calls == [(body["key"], "image/png", 123_456, 900)]
    assert uploads.items[body["upload_id"]]["status"] == "pending"
    assert uploads.items[body["upload_id"]]["declared_bytes"] == 123_456
    assert response.headers["Location"] == f"/v1/uploads/{body['upload_id']}"

    status = client.get(f"/v1/uploads/{body['upload_id']}").get_json()
    assert status == {"upload_id": body["upload_id"], "key": body["key"], "status": "pending"}


def test_every_upload_gets_its_own_key(client):
    keys = {client.post(URL, json={"content_type": "image/jpeg", "content_length": 10}).get_json()["key"] for _ in range(20)}
    assert len(keys) == 20


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"content_type": "image/gif", "content_length": 10}, {"content_type"}),
        ({"content_type": "text/html", "content_length": 10}, {"content_type"}),
        ({"content_type": "image/jpeg", "content_length": 10 * 1024 * 1024 + 1}, {"content_length"}),
        ({"content_type": "image/jpeg", "content_length": 0}, {"content_length"}),
        ({"content_type": "image/jpeg", "content_length": "12"}, {"content_length"}),
        ({"content_type": "image/jpeg", "content_length": True}, {"content_length"}),
        ({"content_type": "image/jpeg", "content_length": 1.5}, {"content_length"}),
        ({"content_type": "image/jpeg"}, {"content_length"}),
        ({"content_type": "image/jpeg", "content_length": 10, "filename": "x.jpg"}, {"filename"}),
    ],
)
def test_invalid_bodies_are_422_naming_the_field(client, signer, body, fields):
    assert_error(client.post(URL, json=body), 422, "invalid_fields", fields)
    assert signer.calls == []


def test_unknown_campaign_is_404(client):
    assert_error(
        client.post("/v1/campaigns/nope/uploads", json={"content_type": "image/jpeg", "content_length": 1}),
        404,
        "campaign_not_found",
    )


@pytest.mark.parametrize("campaign_id", ["spring", "autumn"])
def test_a_campaign_that_is_not_open_is_409(client, campaign_id):
    response = client.post(f"/v1/campaigns/{campaign_id}/uploads", json={"content_type": "image/jpeg", "content_length": 1})
    assert_error(response, 409, "campaign_not_open")


def test_malformed_and_non_json_bodies(client):
    assert_error(client.post(URL, data="{", content_type="application/json"), 400, "malformed_json")
    assert_error(client.post(URL, data="x", content_type="text/plain"), 415, "unsupported_media_type")


def test_unknown_upload_is_404(client):
    assert_error(client.get("/v1/uploads/" + "0" * 32), 404, "upload_not_found")


def test_a_submission_shows_its_upload_once_known(client, uploads, submissions):
    created = client.post(URL, json={"content_type": "image/jpeg", "content_length": 10}).get_json()
    submission_id = "0b7e3c2a-1f0e-4a57-9d3c-2f5b8e6a9c10"
    submissions.items[submission_id] = {
        "submission_id": submission_id,
        "campaign_id": "summer",
        "status": "accepted",
        "received_at": "2026-01-01T00:00:00+00:00",
        "stored_at": "2026-01-01T00:00:01+00:00",
        "upload_key": created["key"],
    }
    shown = client.get(f"/v1/submissions/{submission_id}").get_json()
    assert shown["upload"] == {"upload_id": created["upload_id"], "key": created["key"], "status": "pending"}

    thumbs = {"256": "thumbnails/a/256.jpg", "1024": "thumbnails/a/1024.jpg"}
    uploads.record_outcome(created["upload_id"], {"status": "ready", "width": 10, "height": 5, "thumbnails": thumbs})
    shown = client.get(f"/v1/submissions/{submission_id}").get_json()
    assert shown["upload"]["status"] == "ready" and shown["upload"]["thumbnails"] == thumbs
