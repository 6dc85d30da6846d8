"""GET /v1/campaigns/{id} (public fields) and the entry page's files and headers, over fakes."""

from __future__ import annotations

import pytest

from ingest_api import create_app
from tests.fakes import replaced
from tests.fakes.uploads import FakeSigner

S3_ORIGIN = "http://127.0.0.1:4566"


@pytest.fixture
def client(services):
    wired = replaced(services, upload_signer=FakeSigner(S3_ORIGIN))
    return create_app({"TESTING": True, "SERVICES": wired, "LOCAL": False}).test_client()


def test_a_campaign_shows_its_public_fields_only(client):
    body = client.get("/v1/campaigns/summer").get_json()
    assert set(body) == {"campaign_id", "name", "opens_at", "closes_at", "open", "uploads"}
    assert body["open"] is True and body["campaign_id"] == "summer"
    assert body["uploads"] == {"content_types": ["image/jpeg", "image/png", "image/webp"], "max_bytes": 10 * 1024 * 1024}


@pytest.mark.parametrize("campaign_id", ["spring", "autumn"])
def test_a_closed_or_future_campaign_says_it_is_not_open(client, campaign_id):
    assert client.get(f"/v1/campaigns/{campaign_id}").get_json()["open"] is False


@pytest.mark.parametrize("campaign_id", ["winter", "Summer", "a" * 70])
def test_an_unknown_campaign_is_a_json_404(client, campaign_id):
    response = client.get(f"/v1/campaigns/{campaign_id}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "campaign_not_found"


def test_the_upload_limit_shown_is_the_one_the_uploads_route_applies(services):
    config = {"TESTING": True, "SERVICES": services, "LOCAL": False, "UPLOAD_MAX_BYTES": 2048}
    client = create_app(config).test_client()
    assert client.get("/v1/campaigns/summer").get_json()["uploads"]["max_bytes"] == 2048


def test_the_entry_page_is_static_html_with_security_headers(client):
    response = client.get("/c/summer")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<script src="/web/entry.js" defer></script>' in page and "<script>" not in page  # no inline script
    csp = dict(d.strip().split(" ", 1) for d in response.headers["Content-Security-Policy"].split(";"))
    assert csp["default-src"] == "'none'" and csp["script-src"] == "'self'"
    assert csp["connect-src"] == f"'self' {S3_ORIGIN}"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_page_is_the_same_for_any_campaign_and_its_files_are_served(client):
    assert client.get("/c/winter").get_data() == client.get("/c/summer").get_data()
    assert client.get("/web/entry.js").mimetype == "text/javascript"
    assert client.get("/web/entry.css").mimetype == "text/css"
    for path in ("/web/entry.html", "/web/../__init__.py", "/web/nothing.js", "/c/Not_An_Id"):
        assert client.get(path).status_code == 404, path
