"""CloudWatch: the stage's dashboard, derived from the topology.

A row of widgets per queue (visible, in flight, the oldest message's age, dead-lettered),
one per Lambda function (invocations, errors, throttles, duration), and one per metric our
workers emit, summed by worker. Our metrics are found with SEARCH over the dimensions
Powertools writes, so a worker that starts emitting one shows without a new dashboard.
"""

from __future__ import annotations

import json
from typing import Any

from events.topology import TOPOLOGY, Topology
from fleet.provision.base import Change
from lambda_platform import aws, resources, settings, telemetry
from lambda_platform.errors import OutsideContract, error_code

#: Our metrics, in the order the dashboard shows them.
OUR_METRICS = (
    telemetry.SUBMISSIONS_STORED,
    telemetry.EMAILS_SENT,
    telemetry.THUMBNAILS_MADE,
    telemetry.RECORDS_FAILED,
)
_WIDTH, _HEIGHT = 8, 6  # three widgets a row on the dashboard's 24-column grid


def _widget(title: str, metrics: list[list[Any]], *, stat: str, period: int, index: int) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": (index % 3) * _WIDTH,
        "y": (index // 3) * _HEIGHT,
        "width": _WIDTH,
        "height": _HEIGHT,
        "properties": {
            "title": title,
            "view": "timeSeries",
            "region": settings.current().region,
            "stat": stat,
            "period": period,
            "metrics": metrics,
        },
    }


def _queue_metrics(topology: Topology) -> list[tuple[str, list[list[Any]], str, int]]:
    rows = []
    for queue in topology.queues:
        name, dlq = resources.queue_name(queue), resources.queue_name(queue.dlq_name)
        rows.append(
            (
                f"queue {queue.name}",
                [
                    ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", name, {"label": "visible"}],
                    ["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", name, {"label": "in flight"}],
                    [
                        "AWS/SQS",
                        "ApproximateAgeOfOldestMessage",
                        "QueueName",
                        name,
                        {"label": "oldest age (s)", "yAxis": "right"},
                    ],
                    ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", dlq, {"label": "dead-lettered"}],
                ],
                "Maximum",
                60,
            )
        )
    return rows


def _function_metrics(topology: Topology) -> list[tuple[str, list[list[Any]], str, int]]:
    rows = []
    for unit in (topology.api, topology.workers):
        function = resources.function_name(unit)
        lines: list[list[Any]] = [
            ["AWS/Lambda", metric, "FunctionName", function, {"label": metric.lower()}]
            for metric in ("Invocations", "Errors", "Throttles")
        ]
        lines.append(
            ["AWS/Lambda", "Duration", "FunctionName", function, {"label": "duration p99 (ms)", "stat": "p99", "yAxis": "right"}]
        )
        rows.append((f"function {function}", lines, "Sum", 300))
    return rows


def _our_metrics() -> list[tuple[str, list[list[Any]], str, int]]:
    rows = []
    for index, metric in enumerate(OUR_METRICS):
        # The dimensions of the EMF line: `function` (ours) and `service` (Powertools').
        search = (
            f'SEARCH(\'{{{telemetry.NAMESPACE},function,service}} MetricName="{metric}" '
            f"service=\"{telemetry.SERVICE}\"', 'Sum', 300)"
        )
        rows.append((metric, [[{"expression": search, "id": f"m{index}", "label": ""}]], "Sum", 300))
    return rows


def dashboard_body(topology: Topology = TOPOLOGY) -> dict[str, Any]:
    """The dashboard's body (PutDashboard's JSON), one widget per queue, function and metric of ours."""
    rows = [*_queue_metrics(topology), *_function_metrics(topology), *_our_metrics()]
    return {
        "widgets": [
            _widget(title, metrics, stat=stat, period=period, index=i) for i, (title, metrics, stat, period) in enumerate(rows)
        ]
    }


def ensure_dashboard(topology: Topology = TOPOLOGY) -> Change:
    """Put the dashboard when it is missing or differs from the topology's."""
    cloudwatch = aws.client("cloudwatch")
    name = resources.dashboard_name()
    wanted = dashboard_body(topology)
    try:
        have = json.loads(cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"])
    except Exception as exc:
        if error_code(exc) == "InvalidParameterValue":  # LocalEmu 1.3.2, for a dashboard that does not exist
            raise OutsideContract(
                f"CloudWatch GetDashboard answered InvalidParameterValue for {name!r}, a valid name; AWS answers "
                "ResourceNotFound for a missing dashboard: this AWS is outside AWS's contract for CloudWatch dashboards"
            ) from exc
        if error_code(exc) not in ("ResourceNotFound", "ResourceNotFoundException"):
            raise
        have = None
    if have == wanted:
        return Change("dashboard", name, "unchanged")
    answer = cloudwatch.put_dashboard(DashboardName=name, DashboardBody=json.dumps(wanted, separators=(",", ":")))
    problems = answer.get("DashboardValidationMessages") or []
    if problems:  # PutDashboard stores a body with warnings and says so; it is ours to fix
        raise RuntimeError(f"dashboard {name}: {problems}")
    return Change("dashboard", name, "created" if have is None else "updated")
