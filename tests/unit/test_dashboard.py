"""The local live view, /_local/dashboard: its JSON over fakes, replays from its page only, unknown queues refused."""

from __future__ import annotations

import json

import pytest

from events.topology import TOPOLOGY
from fleet.runtime.stats import RuntimeStats
from ingest_api import create_app
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.monitor import FakeMonitor

PAGE_ORIGIN = "http://127.0.0.1:8080"
SAME_ORIGIN = {"Host": "127.0.0.1:8080", "Origin": PAGE_ORIGIN}


@pytest.fixture
def monitor() -> FakeMonitor:
    return FakeMonitor()


@pytest.fixture
def local(monitor, monkeypatch, tmp_path):
    from lambda_platform import settings

    monkeypatch.setenv("FLEET_STATE_DIR", str(tmp_path))
    settings.reset()
    app = create_app({"TESTING": True, "SERVICES": Ports(**fake_ports(monitor=monitor)), "LOCAL": True})
    yield app.test_client()
    settings.reset()


def replay(client, body, headers=SAME_ORIGIN, **kwargs):
    return client.post(
        "/_local/dashboard/replay", data=json.dumps(body), headers=headers, content_type="application/json", **kwargs
    )


def test_an_empty_fleet_shows_zeros_every_queue_and_every_trigger(local):
    answer = local.get("/_local/dashboard.json", headers={"Host": "127.0.0.1:8080"})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    state = answer.get_json()
    assert [q["name"] for q in state["queues"]] == [q.name for q in TOPOLOGY.queues]
    assert all(q["visible"] == q["in_flight"] == q["dead_lettered"] == q["replayable"] == 0 for q in state["queues"])
    assert {t["name"] for t in state["triggers"]} >= {"pipe:submissions->submissions", "sqs:uploads->thumbnails"}
    assert all(t["handled"] == 0 and not any(t["per_second"]["handled"]) for t in state["triggers"])
    assert state["failures"] == [] and state["emails_accepted"] == 0
    assert state["workers"] == {"reporting": False, "written_at": None}


def test_the_json_carries_dead_letters_rates_failures_and_the_outbox_count(local, monitor):
    monitor.dead_letter("submissions", "m-9", '{"campaign_id": "winter"}')
    stats = RuntimeStats()
    stats.record("pipe:submissions->submissions", 6, ["m-9"], ["UnknownCampaign: winter"])
    monitor.snapshot = json.loads(json.dumps(stats.snapshot()))
    monitor.emails = 3
    state = local.get("/_local/dashboard.json").get_json()
    row = next(q for q in state["queues"] if q["name"] == "submissions")
    assert (row["dead_lettered"], row["replayable"], row["dead_letter_queue"]) == (1, 1, "submissions-dlq")
    assert row["parks_failures_of"] is None
    trigger = next(t for t in state["triggers"] if t["name"] == "pipe:submissions->submissions")
    assert (trigger["handled"], trigger["failed"]) == (6, 1) and sum(trigger["per_second"]["handled"]) == 6
    assert state["failures"][0]["record_id"] == "m-9" and state["failures"][0]["error"] == "UnknownCampaign: winter"
    assert state["emails_accepted"] == 3 and state["workers"]["reporting"]


def test_an_on_failure_queue_says_whose_stream_records_it_parks(local):
    state = local.get("/_local/dashboard.json").get_json()
    parking = next(q for q in state["queues"] if q["name"] == "confirmations-failures")
    assert parking["parks_failures_of"] == "confirmations"


def test_a_dry_run_lists_and_a_replay_moves_the_dead_letters(local, monitor):
    monitor.dead_letter("submissions", "m-9", '{"campaign_id": "winter"}')
    dry = replay(local, {"queue": "submissions", "dry_run": True})
    assert dry.status_code == 200
    assert dry.get_json() == {
        "queue": "submissions",
        "source": "submissions-dlq",
        "target": "submissions",
        "dry_run": True,
        "items": [{"id": "m-9", "summary": '{"campaign_id": "winter"}'}],
        "moved": 0,
        "still_failing": 0,
    }
    assert monitor.dead["submissions"]  # a dry run moves nothing
    done = replay(local, {"queue": "submissions"})
    assert done.status_code == 200 and done.get_json()["moved"] == 1 and not done.get_json()["dry_run"]
    assert monitor.replayed["submissions"] == [("m-9", '{"campaign_id": "winter"}')]
    assert monitor.calls == [("submissions", True), ("submissions", False)]


@pytest.mark.parametrize("queue", ["nope", "submissions-dlq", "", None, 3])
def test_a_queue_not_in_the_topology_is_refused_with_the_known_names(local, monitor, queue):
    answer = replay(local, {"queue": queue, "dry_run": True})
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "unknown_queue" and list(error["fields"]) == ["queue"]
    assert all(q.name in error["message"] for q in TOPOLOGY.queues)
    assert monitor.calls == []


@pytest.mark.parametrize("body", [[], "submissions", {"queue": "submissions", "dry_run": "yes"}])
def test_a_body_that_is_not_a_replay_request_is_refused(local, monitor, body):
    answer = replay(local, body)
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "bad_request"
    assert monitor.calls == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "127.0.0.1:8080"},  # no Origin: not from a page
        {"Host": "127.0.0.1:8080", "Origin": "http://127.0.0.1:3000"},  # another local page
        {"Host": "127.0.0.1:8080", "Origin": "http://localhost:8080"},
        {"Host": "127.0.0.1:8080", "Origin": "null"},
        {"Host": "127.0.0.1:8080", "Origin": PAGE_ORIGIN, "Sec-Fetch-Site": "same-site"},
        {"Host": "127.0.0.1:8080", "Origin": PAGE_ORIGIN, "Sec-Fetch-Site": "cross-site"},
    ],
)
def test_a_replay_from_anywhere_but_the_page_itself_is_refused(local, monitor, headers):
    monitor.dead_letter("submissions", "m-9", "{}")
    answer = replay(local, {"queue": "submissions"}, headers=headers)
    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "cross_origin"
    assert monitor.calls == [] and monitor.dead["submissions"]


def test_a_replay_must_be_json(local, monitor):
    answer = local.post("/_local/dashboard/replay", data={"queue": "submissions"}, headers=SAME_ORIGIN)
    assert answer.status_code == 415 and monitor.calls == []


def test_a_non_loopback_host_gets_what_the_outbox_gets(local, monitor):
    rebound = {"Host": "attacker.example:8080", "Origin": "http://attacker.example:8080"}
    for path in ["/_local/dashboard", "/_local/dashboard.json", "/_local/dashboard.js"]:
        answer = local.get(path, headers={"Host": "attacker.example:8080"})
        assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "not_loopback"
    assert replay(local, {"queue": "submissions"}, headers=rebound).status_code == 403
    assert monitor.calls == []


def test_the_page_and_its_files_take_the_entry_pages_policy(local):
    page = local.get("/_local/dashboard")
    entry = local.get("/c/summer")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers.getlist("Content-Security-Policy") == entry.headers.getlist("Content-Security-Policy")
    # No inline script or style: the policy takes neither.
    assert "<style" not in page.text and "style=" not in page.text and "<script>" not in page.text
    assert 'src="/_local/dashboard.js"' in page.text and 'href="/_local/dashboard.css"' in page.text
    script, style = local.get("/_local/dashboard.js"), local.get("/_local/dashboard.css")
    assert script.status_code == 200 and script.mimetype == "text/javascript" and "innerHTML" not in script.text
    assert style.status_code == 200 and style.mimetype == "text/css"


def test_the_replayable_queues_say_where_their_work_goes_back(local):
    rows = {r["queue"]: r for r in local.get("/_local/dashboard/replay").get_json()["queues"]}
    assert rows["submissions"] == {"queue": "submissions", "reads": "submissions-dlq", "puts_back_to": "submissions"}
    assert rows["confirmations-failures"]["puts_back_to"] == "confirmations"


def test_the_view_is_not_served_off_the_local_stage(monitor):
    remote = create_app({"TESTING": True, "SERVICES": Ports(**fake_ports(monitor=monitor)), "LOCAL": False}).test_client()
    assert remote.get("/_local/dashboard").status_code == 404
    assert remote.get("/_local/dashboard.json").status_code == 404
    assert replay(remote, {"queue": "submissions"}).status_code == 404
