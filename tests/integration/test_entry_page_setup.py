"""What the entry page needs from the platform: the media bucket's CORS rule and the demo campaign."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.integration


def preflight(endpoint_url: str, origin: str) -> requests.Response:
    """The browser's preflight of a presigned POST (upload progress listeners force one)."""
    from lambda_platform import settings

    return requests.options(
        f"{endpoint_url}/{settings.current().name('media')}",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )


def test_pages_on_loopback_may_post_uploads_and_other_origins_may_not(provisioned):
    from fleet.provision import provision

    allowed = preflight(provisioned.endpoint_url, "http://127.0.0.1:8080")
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8080"
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert preflight(provisioned.endpoint_url, "http://localhost:51234").status_code == 200
    assert preflight(provisioned.endpoint_url, "https://elsewhere.example").status_code == 403
    assert [str(c) for c in provision() if c.kind == "cors"] == ["unchanged cors   fleet-local-media"]


def test_the_web_origins_come_from_the_settings(provisioned, monkeypatch):
    from fleet.provision import provision
    from lambda_platform import settings

    monkeypatch.setenv("FLEET_WEB_ORIGINS", "https://entries.example, https://www.entries.example/")
    settings.reset()
    assert [c.action for c in provision() if c.kind == "cors"] == ["updated"]
    assert preflight(provisioned.endpoint_url, "https://www.entries.example").status_code == 200
    assert preflight(provisioned.endpoint_url, "http://127.0.0.1:8080").status_code == 403


def test_the_demo_campaign_is_open_for_thirty_days_and_has_a_page(running_fleet):
    from fleet.demo import create_demo_campaign, entry_page_url

    demo = create_demo_campaign()
    assert (demo.closes_at - demo.opens_at).days == 30
    shown = requests.get(f"{running_fleet.api_url}/v1/campaigns/demo", timeout=10).json()
    assert shown["name"] == "Demo receipts" and shown["open"] is True
    page = requests.get(entry_page_url(running_fleet.api_url, "demo"), timeout=10)
    assert page.status_code == 200 and "entry-form" in page.text
