"""`fleet provision` makes the alarms, their topic's email subscription and the dashboard in
moto, and reads them back: names, metrics, dimensions, thresholds, actions, descriptions;
a second run changes nothing; a drifted alarm is put back."""

from __future__ import annotations

import json

from events.topology import TOPOLOGY, PipeTrigger, SqsTrigger, StreamTrigger

STAGE = "local"
TOPIC = f"fleet-{STAGE}-alarms"


def _alarms() -> dict[str, dict]:
    from lambda_platform import aws

    pages = aws.client("cloudwatch").get_paginator("describe_alarms").paginate(AlarmNamePrefix=f"fleet-{STAGE}-")
    return {a["AlarmName"]: a for page in pages for a in page["MetricAlarms"]}


def _dimensions(alarm: dict) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in alarm["Dimensions"]}


def _consumed() -> set[str]:
    return {t.queue for f in TOPOLOGY.functions for t in f.triggers if isinstance(t, (SqsTrigger, PipeTrigger))}


def _parking() -> set[str]:
    return {t.retry.on_failure_queue for f in TOPOLOGY.functions for t in f.triggers if isinstance(t, StreamTrigger)}


def test_every_alarm_the_topology_asks_for_is_made_on_the_alarms_topic(provisioned):
    from lambda_platform import aws

    alarms = _alarms()
    topic_arn = next(t["TopicArn"] for t in aws.client("sns").list_topics()["Topics"] if t["TopicArn"].endswith(f":{TOPIC}"))
    expected = (
        {f"fleet-{STAGE}-{q.name}-dlq-holds-messages" for q in TOPOLOGY.queues}
        | {f"fleet-{STAGE}-{q}-holds-messages" for q in _parking()}
        | {f"fleet-{STAGE}-{q}-oldest-message" for q in _consumed()}
        | {f"fleet-{STAGE}-{unit}-{m}" for unit in ("api", "workers") for m in ("errors", "throttles")}
        | {f"fleet-{STAGE}-api-5xx-rate"}
        | {f"fleet-{STAGE}-workers-{f.name}-records-failed" for f in TOPOLOGY.functions}
        | {f"fleet-{STAGE}-ses-bounce-rate", f"fleet-{STAGE}-ses-complaint-rate"}
    )
    assert set(alarms) == expected
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [topic_arn] and alarm["OKActions"] == [topic_arn], alarm["AlarmName"]
        assert alarm["ActionsEnabled"] is True
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
        assert "fleet status" in alarm["AlarmDescription"]
        # No Lambda function exists in moto: the alarms are made all the same (moto never
        # evaluates them: OK "Unchecked"; AWS says INSUFFICIENT_DATA until data comes).
        assert alarm["StateValue"] in ("OK", "INSUFFICIENT_DATA")


def test_ses_reputation_alarms_fire_at_half_of_the_rates_ses_reviews_an_account_at(provisioned):
    alarms = _alarms()
    bounce, complaint = alarms[f"fleet-{STAGE}-ses-bounce-rate"], alarms[f"fleet-{STAGE}-ses-complaint-rate"]
    assert (bounce["Namespace"], bounce["MetricName"], bounce["Threshold"]) == ("AWS/SES", "Reputation.BounceRate", 0.025)
    assert (complaint["Namespace"], complaint["MetricName"], complaint["Threshold"]) == (
        "AWS/SES",
        "Reputation.ComplaintRate",
        0.0005,
    )
    assert _dimensions(bounce) == {} and "fleet suppression list" in bounce["AlarmDescription"]


def test_queue_alarms_watch_dead_letters_parked_records_and_the_oldest_message(provisioned):
    alarms = _alarms()
    dead = alarms[f"fleet-{STAGE}-submissions-dlq-holds-messages"]
    assert (dead["Namespace"], dead["MetricName"], dead["Statistic"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
    )
    assert _dimensions(dead) == {"QueueName": f"fleet-{STAGE}-submissions-dlq"}
    assert dead["Threshold"] == 0 and dead["Period"] == 60 and dead["EvaluationPeriods"] == 1
    assert "fleet dlq dump submissions" in dead["AlarmDescription"]
    assert "fleet replay submissions" in dead["AlarmDescription"]

    parked = alarms[f"fleet-{STAGE}-confirmations-failures-holds-messages"]
    assert _dimensions(parked) == {"QueueName": f"fleet-{STAGE}-confirmations-failures"}
    assert parked["MetricName"] == "ApproximateNumberOfMessagesVisible" and parked["Threshold"] == 0
    assert "fleet replay confirmations-failures" in parked["AlarmDescription"]
    assert "confirmations" in parked["AlarmDescription"]

    for queue in (TOPOLOGY.queue(name) for name in _consumed()):
        oldest = alarms[f"fleet-{STAGE}-{queue.name}-oldest-message"]
        assert oldest["MetricName"] == "ApproximateAgeOfOldestMessage" and oldest["Statistic"] == "Maximum"
        assert _dimensions(oldest) == {"QueueName": f"fleet-{STAGE}-{queue.name}"}
        assert oldest["Threshold"] == queue.oldest_age_alarm_seconds
    # An on-failure queue has no consumer: its messages alarm at once instead.
    assert not _parking() & _consumed()
    assert not {n for n in alarms if n.endswith("-oldest-message")} & {f"fleet-{STAGE}-{q}-oldest-message" for q in _parking()}


def test_function_api_and_records_alarms_use_the_names_lambda_api_gateway_and_emf_give(provisioned):
    alarms = _alarms()
    for unit in ("api", "workers"):
        for metric in ("Errors", "Throttles"):
            alarm = alarms[f"fleet-{STAGE}-{unit}-{metric.lower()}"]
            assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", metric, "Sum")
            assert _dimensions(alarm) == {"FunctionName": f"fleet-{STAGE}-{unit}"}
            assert alarm["Threshold"] == 0 and alarm["Period"] == 300
            assert f"/aws/lambda/fleet-{STAGE}-{unit}" in alarm["AlarmDescription"]

    rate = alarms[f"fleet-{STAGE}-api-5xx-rate"]
    assert (rate["Namespace"], rate["MetricName"], rate["Statistic"]) == ("AWS/ApiGateway", "5XXError", "Average")
    assert _dimensions(rate) == {"ApiName": f"fleet-{STAGE}-api", "Stage": "api"}
    assert 0 < rate["Threshold"] < 1

    failed = alarms[f"fleet-{STAGE}-workers-thumbnails-records-failed"]
    assert (failed["Namespace"], failed["MetricName"], failed["Statistic"]) == ("Fleet", "records_failed", "Sum")
    assert _dimensions(failed) == {"function": "thumbnails", "service": "fleet"}
    assert failed["EvaluationPeriods"] == failed["DatapointsToAlarm"] == 3
    assert "fleet dlq dump uploads" in failed["AlarmDescription"]
    welcome = alarms[f"fleet-{STAGE}-workers-welcome-records-failed"]
    assert "fleet replay welcome-failures --dry-run" in welcome["AlarmDescription"]


def test_a_second_run_changes_no_alarm_and_a_drifted_one_is_put_back(provisioned):
    from fleet.provision import provision
    from lambda_platform import aws

    again = [c for c in provision() if c.kind in ("alarm", "dashboard", "email")]
    assert again and {c.action for c in again} == {"unchanged"}

    cloudwatch = aws.client("cloudwatch")
    name = f"fleet-{STAGE}-users-oldest-message"
    drifted = {
        k: v
        for k, v in _alarms()[name].items()
        if k
        in (
            "AlarmName",
            "AlarmDescription",
            "ActionsEnabled",
            "AlarmActions",
            "OKActions",
            "Namespace",
            "MetricName",
            "Statistic",
            "Dimensions",
            "Period",
            "EvaluationPeriods",
            "ComparisonOperator",
        )
    }
    cloudwatch.put_metric_alarm(**drifted, Threshold=99999.0, TreatMissingData="breaching")
    changes = {(c.kind, c.name): c.action for c in provision()}
    assert changes[("alarm", name)] == "updated"
    assert [k for k, v in changes.items() if v != "unchanged" and k[0] == "alarm"] == [("alarm", name)]
    fixed = _alarms()[name]
    assert fixed["Threshold"] == TOPOLOGY.queue("users").oldest_age_alarm_seconds
    assert fixed["TreatMissingData"] == "notBreaching"


def test_alarm_email_is_subscribed_to_the_alarms_topic_once(local_aws, monkeypatch):
    from fleet.provision import provision
    from fleet.provision.alarms import ensure_alarm_email
    from lambda_platform import aws, resources, settings

    monkeypatch.setenv("FLEET_ALARM_EMAIL", "Oncall@Example.com")
    settings.reset()
    first = {(c.kind, c.name): c.action for c in provision()}
    assert first[("email", f"Oncall@Example.com -> {TOPIC}")] in ("created", "pending")
    assert ensure_alarm_email().action in ("unchanged", "pending")
    subscriptions = aws.client("sns").list_subscriptions_by_topic(TopicArn=resources.topic_arn("alarms"))
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions["Subscriptions"]] == [("email", "Oncall@Example.com")]


def test_no_alarm_email_no_subscription(provisioned):
    from lambda_platform import aws, resources

    subscriptions = aws.client("sns").list_subscriptions_by_topic(TopicArn=resources.topic_arn("alarms"))
    assert subscriptions["Subscriptions"] == []


def test_the_dashboard_has_a_widget_per_queue_function_and_metric_of_ours(provisioned):
    from lambda_platform import aws

    body = json.loads(aws.client("cloudwatch").get_dashboard(DashboardName=f"fleet-{STAGE}")["DashboardBody"])
    widgets = {w["properties"]["title"]: w for w in body["widgets"]}
    for queue in TOPOLOGY.queues:
        lines = widgets[f"queue {queue.name}"]["properties"]["metrics"]
        assert [(m[1], m[3], m[4]["label"]) for m in lines] == [
            ("ApproximateNumberOfMessagesVisible", f"fleet-{STAGE}-{queue.name}", "visible"),
            ("ApproximateNumberOfMessagesNotVisible", f"fleet-{STAGE}-{queue.name}", "in flight"),
            ("ApproximateAgeOfOldestMessage", f"fleet-{STAGE}-{queue.name}", "oldest age (s)"),
            ("ApproximateNumberOfMessagesVisible", f"fleet-{STAGE}-{queue.name}-dlq", "dead-lettered"),
        ]
    for unit in ("api", "workers"):
        lines = widgets[f"function fleet-{STAGE}-{unit}"]["properties"]["metrics"]
        assert [(m[0], m[1], m[3]) for m in lines] == [
            ("AWS/Lambda", metric, f"fleet-{STAGE}-{unit}") for metric in ("Invocations", "Errors", "Throttles", "Duration")
        ]
    for metric in ("submissions_stored", "emails_sent", "thumbnails_made", "records_failed"):
        (line,) = widgets[metric]["properties"]["metrics"]
        assert f'MetricName="{metric}"' in line[0]["expression"] and "{Fleet,function,service}" in line[0]["expression"]
    assert len(widgets) == len(body["widgets"]) == len(TOPOLOGY.queues) + 2 + 4
    # No two widgets on the same spot of the grid.
    assert len({(w["x"], w["y"]) for w in body["widgets"]}) == len(body["widgets"])
