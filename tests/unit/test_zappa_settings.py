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


def test_the_checked_in_settings_are_the_rendering_of_the_topology():
    from fleet.zappa_config import render_json

    assert SETTINGS.read_text() == render_json(), "zappa_settings.json is stale: run `fleet zappa-settings`"


def test_the_workers_stage_has_its_own_entry_point_and_room_for_the_largest_worker():
    from events.topology import TOPOLOGY

    workers = json.loads(SETTINGS.read_text())["workers"]
    assert workers["apigateway_enabled"] is False
    assert workers["lambda_handler"] == "lambda_platform.entry.lambda_handler"
    assert resolve(workers["lambda_handler"])
    assert workers["memory_size"] == max(f.memory_mb for f in TOPOLOGY.functions)
    assert workers["timeout_seconds"] == max(f.timeout_seconds for f in TOPOLOGY.functions)
    assert resolve(workers["callbacks"]["post"])


def test_no_stage_declares_zappa_event_sources():
    # Zappa's own SQS and stream sources lack ReportBatchItemFailures and StartingPosition:
    # fleet wire makes every mapping, so Zappa must not make (or later "fix") any.
    for name, stage in json.loads(SETTINGS.read_text()).items():
        assert "events" not in stage, f"the {name} stage declares Zappa events"


def test_botocores_gzipped_models_are_never_excluded():
    for stage in json.loads(SETTINGS.read_text()).values():
        assert not any(pattern in ("*.gz", "*.json.gz", "*gz") for pattern in stage["exclude"])
        assert "moto" in stage["exclude"] and "playwright" in stage["exclude"]


def test_fleet_zappa_settings_check_fails_on_a_stale_file(tmp_path):
    from click.testing import CliRunner

    from fleet.cli import main

    stale = tmp_path / "zappa_settings.json"
    stale.write_text(SETTINGS.read_text().replace('"memory_size": 1024', '"memory_size": 128'))
    result = CliRunner().invoke(main, ["zappa-settings", "--check", "--output", str(stale)])
    assert result.exit_code == 1 and "differs" in result.output
    assert CliRunner().invoke(main, ["zappa-settings", "--output", str(stale)]).exit_code == 0
    assert CliRunner().invoke(main, ["zappa-settings", "--check", "--output", str(stale)]).exit_code == 0


def test_every_name_and_size_in_the_rendering_comes_from_the_topology():
    import dataclasses

    from events.topology import TOPOLOGY, DeployUnit
    from fleet.zappa_config import render

    slow = dataclasses.replace(TOPOLOGY.functions[0], timeout_seconds=600, memory_mb=2048)
    topology = dataclasses.replace(
        TOPOLOGY,
        api=DeployUnit("web", app_function="somewhere.app", memory_mb=256, timeout_seconds=10),
        workers=DeployUnit("jobs", lambda_handler="somewhere.handler"),
        deploy_bucket="zips",
        functions=(slow, *TOPOLOGY.functions[1:]),
    )
    stages = render("qa", topology)
    assert list(stages) == ["web", "jobs"]
    for stage in stages.values():
        assert stage["project_name"] == "fleet-qa"  # Zappa names the functions fleet-qa-web, fleet-qa-jobs
        assert stage["s3_bucket"] == "fleet-qa-zips"
        assert stage["environment_variables"] == {"FLEET_STAGE": "qa"}
    assert (stages["web"]["app_function"], stages["web"]["memory_size"], stages["web"]["timeout_seconds"]) == (
        "somewhere.app",
        256,
        10,
    )
    assert "lambda_handler" not in stages["web"] and "apigateway_enabled" not in stages["web"]
    jobs = stages["jobs"]
    assert (jobs["lambda_handler"], jobs["apigateway_enabled"]) == ("somewhere.handler", False)
    assert (jobs["memory_size"], jobs["timeout_seconds"]) == (2048, 600)  # the most any Function needs
    assert "app_function" not in jobs
