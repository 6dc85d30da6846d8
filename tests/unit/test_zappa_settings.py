"""zappa_settings.json is valid and names an app that exists."""

from __future__ import annotations

import json
from pathlib import Path

from fleet.runtime.invoke import resolve

SETTINGS = Path(__file__).resolve().parents[2] / "zappa_settings.json"


def test_api_stage_serves_the_flask_app_on_our_python():
    stages = json.loads(SETTINGS.read_text())
    api = stages["api"]
    assert api["runtime"] == "python3.11"
    assert api["keep_warm"] is False
    app = resolve(api["app_function"])
    assert "/v1/campaigns/<campaign_id>/submissions" in {rule.rule for rule in app.url_map.iter_rules()}


def test_no_secrets_in_settings():
    text = SETTINGS.read_text().lower()
    for word in ("aws_secret_access_key", "aws_access_key_id", "password", "secret"):
        assert word not in text
