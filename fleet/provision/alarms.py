"""CloudWatch alarms on the alarms topic, and its email subscription, all derived from the topology.

What an operator must notice: a dead-letter or on-failure queue holding anything, a
consumed queue whose oldest message waits longer than its `oldest_age_alarm_seconds`,
errors and throttles of the two Lambda functions, the API's share of 5XX answers,
records our workers report failed, and SES's bounce and complaint rates at half of the
rates SES reviews an account at. Every alarm notifies the alarms topic when it fires
and when it clears, and its description says what to run.

`TreatMissingData` is `notBreaching` for every alarm here, each for its own reason (see
`_MISSING`): none of these metrics is a heartbeat whose silence means trouble. An alarm
on a function not deployed yet is created all the same and waits for data
(INSUFFICIENT_DATA on AWS; moto reports every new alarm OK, "Unchecked").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from events.topology import TOPOLOGY, PipeTrigger, SqsTrigger, StreamTrigger, Topology
from fleet.provision.base import Change
from lambda_platform import aws, resources, settings, telemetry

#: Where every alarm notifies, when it fires and when it clears.
ALARMS_TOPIC = TOPOLOGY.topic("alarms")

#: Why a missing datapoint counts as fine, per kind of alarm.
_MISSING = {
    # SQS stops sending a queue's metrics once it has held nothing and seen no call for
    # six hours; a queue holding messages is active, so silence means empty.
    "queue": "notBreaching",
    # Lambda sends Errors and Throttles only for periods with invocations: no invocation, no error.
    "function": "notBreaching",
    # API Gateway sends 5XXError only for periods with requests: no request, no failed request.
    "gateway": "notBreaching",
    # The workers put records_failed only when a batch reported a failure (a zero is never sent).
    "records": "notBreaching",
    # SES sends its reputation metrics while the account sends: no email, no rate to judge.
    "reputation": "notBreaching",
}

#: A record that fails and then succeeds on retry (a throttled SES) is expected in a burst;
#: records failing for this many five-minute periods in a row are not.
RECORDS_FAILED_PERIODS = 3
#: The share of the API's answers that may be 5XX over five minutes.
API_5XX_RATE = 0.05

_COMPARED = (
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
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
)


def _alarm(
    name: str,
    description: str,
    namespace: str,
    metric: str,
    dimensions: dict[str, str],
    *,
    statistic: str,
    period: int,
    threshold: float,
    missing: str,
    evaluation_periods: int = 1,
    topic_arn: str,
) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "AlarmDescription": description[:1024],
        "ActionsEnabled": True,
        "AlarmActions": [topic_arn],
        "OKActions": [topic_arn],
        "Namespace": namespace,
        "MetricName": metric,
        "Statistic": statistic,
        "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(dimensions.items())],
        "Period": period,
        "EvaluationPeriods": evaluation_periods,
        "DatapointsToAlarm": evaluation_periods,
        "Threshold": float(threshold),
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": _MISSING[missing],
    }


def _consumers(topology: Topology) -> dict[str, str]:
    """Each consumed queue's logical name -> the function that consumes it."""
    return {t.queue: f.name for f in topology.functions for t in f.triggers if isinstance(t, (SqsTrigger, PipeTrigger))}


def _on_failure(topology: Topology) -> dict[str, str]:
    """Each on-failure queue's logical name -> the function whose stream records it parks."""
    return {
        t.retry.on_failure_queue: f.name
        for f in topology.functions
        for t in f.triggers
        if isinstance(t, StreamTrigger) and t.retry.on_failure_queue
    }


def _stage() -> str:
    return f"FLEET_STAGE={settings.current().stage}"


def _holds_messages(queue_name: str, description: str, topic_arn: str) -> dict[str, Any]:
    """The alarm on a queue where failed work waits: any message visible, checked every minute."""
    return _alarm(
        f"{queue_name}-holds-messages",
        description,
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        {"QueueName": queue_name},
        statistic="Maximum",
        period=60,
        threshold=0,
        missing="queue",
        topic_arn=topic_arn,
    )


def _queue_alarms(topology: Topology, topic_arn: str) -> Iterator[dict[str, Any]]:
    consumers, parking = _consumers(topology), _on_failure(topology)
    stage = _stage()
    for queue in topology.queues:
        dlq = resources.queue_name(queue.dlq_name)
        yield _holds_messages(
            dlq,
            f"{dlq} holds messages that failed {queue.max_receive_count} receives of {queue.name}. "
            f"Read them: {stage} fleet dlq dump {queue.name}. After the fix: {stage} fleet replay {queue.name} "
            f"--dry-run, then {stage} fleet replay {queue.name}. Overview: {stage} fleet status.",
            topic_arn,
        )
        name = resources.queue_name(queue)
        if queue.name in parking:
            function = parking[queue.name]
            yield _holds_messages(
                name,
                f"{name} holds stream records that {function} failed after its retries. "
                f"After the fix: {stage} fleet replay {queue.name} --dry-run, then {stage} fleet replay {queue.name} "
                f"(invokes {function} again). Overview: {stage} fleet status.",
                topic_arn,
            )
        if queue.name in consumers:
            function = consumers[queue.name]
            yield _alarm(
                f"{name}-oldest-message",
                f"The oldest message of {name} has waited over {queue.oldest_age_alarm_seconds} s: {function} "
                f"is behind or failing. See: {stage} fleet status; its dead letters: {stage} fleet dlq dump "
                f"{queue.name}; the logs of {resources.function_name(topology.workers)}.",
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                {"QueueName": name},
                statistic="Maximum",
                period=60,
                threshold=queue.oldest_age_alarm_seconds,
                missing="queue",
                topic_arn=topic_arn,
            )


def _function_alarms(topology: Topology, topic_arn: str) -> Iterator[dict[str, Any]]:
    stage = _stage()
    for unit in (topology.api, topology.workers):
        function = resources.function_name(unit)
        for metric, what in (("Errors", "failed invocations"), ("Throttles", "throttled invocations")):
            yield _alarm(
                f"{function}-{metric.lower()}",
                f"{function} had {what} in five minutes. Its logs: /aws/lambda/{function}. "
                f"Queues and dead letters: {stage} fleet status.",
                "AWS/Lambda",
                metric,
                {"FunctionName": function},
                statistic="Sum",
                period=300,
                threshold=0,
                missing="function",
                topic_arn=topic_arn,
            )
    # Zappa names the REST API after the API's function and its stage after the unit.
    api = resources.function_name(topology.api)
    yield _alarm(
        f"{api}-5xx-rate",
        f"Over {API_5XX_RATE:.0%} of the API's answers were 5XX in five minutes. Its logs: /aws/lambda/{api}. "
        f"Queues: {stage} fleet status.",
        "AWS/ApiGateway",
        "5XXError",
        {"ApiName": api, "Stage": topology.api.name},
        statistic="Average",  # 5XXError is 1 or 0 per request: its average is the rate
        period=300,
        threshold=API_5XX_RATE,
        missing="gateway",
        topic_arn=topic_arn,
    )


def _records_alarms(topology: Topology, topic_arn: str) -> Iterator[dict[str, Any]]:
    stage = _stage()
    workers = resources.function_name(topology.workers)
    consumers, parking = _consumers(topology), _on_failure(topology)
    for function in topology.functions:
        queues = [q for q, f in consumers.items() if f == function.name] + [q for q, f in parking.items() if f == function.name]
        see = "; ".join(
            f"{stage} fleet dlq dump {q}" if q in consumers else f"{stage} fleet replay {q} --dry-run" for q in queues
        )
        yield _alarm(
            f"{workers}-{function.name}-records-failed",
            f"{function.name} has reported failed records for {RECORDS_FAILED_PERIODS * 5} minutes "
            f"(each is retried, then dead-lettered). See: {stage} fleet status; {see}; "
            f"the logs of {workers} (function={function.name}).",
            telemetry.NAMESPACE,
            telemetry.RECORDS_FAILED,
            # The dimensions Powertools writes in the EMF line: the service and ours.
            {"service": telemetry.SERVICE, "function": function.name},
            statistic="Sum",
            period=300,
            threshold=0,
            evaluation_periods=RECORDS_FAILED_PERIODS,
            missing="records",
            topic_arn=topic_arn,
        )


def _reputation_alarms(topology: Topology, topic_arn: str) -> Iterator[dict[str, Any]]:
    """SES's account-wide bounce and complaint rates, at half of the rates SES reviews an account at."""
    from events.email_feedback import (
        BOUNCE_ALARM_RATE,
        COMPLAINT_ALARM_RATE,
        SES_REVIEW_BOUNCE_RATE,
        SES_REVIEW_COMPLAINT_RATE,
    )

    if topology.email_feedback is None:
        return
    stage = _stage()
    prefix = resources.function_name(topology.workers).removesuffix(f"-{topology.workers.name}")
    for what, metric, rate, review in (
        ("bounce", "Reputation.BounceRate", BOUNCE_ALARM_RATE, SES_REVIEW_BOUNCE_RATE),
        ("complaint", "Reputation.ComplaintRate", COMPLAINT_ALARM_RATE, SES_REVIEW_COMPLAINT_RATE),
    ):
        yield _alarm(
            f"{prefix}-ses-{what}-rate",
            f"The account's SES {what} rate is over {rate:.2%}, half of the {review:.1%} at which SES puts the "
            f"account under review (and may pause all its sending). The addresses are suppressed already: "
            f"{stage} fleet suppression list; this stage's own rates: {stage} fleet status. Find where the bad "
            f"addresses come from (a form without checks, an old list) before sending more.",
            "AWS/SES",
            metric,
            {},
            statistic="Maximum",
            period=3600,
            threshold=rate,
            missing="reputation",
            topic_arn=topic_arn,
        )


def alarm_definitions(topology: Topology = TOPOLOGY) -> list[dict[str, Any]]:
    """Every alarm of the topology, as PutMetricAlarm's arguments."""
    topic_arn = resources.topic_arn(ALARMS_TOPIC)
    return [
        *_queue_alarms(topology, topic_arn),
        *_function_alarms(topology, topic_arn),
        *_records_alarms(topology, topic_arn),
        *_reputation_alarms(topology, topic_arn),
    ]


def _same(key: str, have: Any, want: Any) -> bool:
    if key == "Dimensions":
        return sorted((d["Name"], d["Value"]) for d in have or []) == sorted((d["Name"], d["Value"]) for d in want)
    if key == "Threshold":
        return have is not None and float(have) == want
    return have == want


def _described(names: list[str]) -> dict[str, dict[str, Any]]:
    cloudwatch = aws.client("cloudwatch")
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(names), 100):  # DescribeAlarms takes at most 100 names
        pages = cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNames=names[start : start + 100], AlarmTypes=["MetricAlarm"]
        )
        for page in pages:
            found.update({a["AlarmName"]: a for a in page.get("MetricAlarms", [])})
    return found


def ensure_alarms(topology: Topology = TOPOLOGY) -> list[Change]:
    """Create every alarm that is missing and put back any that drifted (PutMetricAlarm overwrites)."""
    cloudwatch = aws.client("cloudwatch")
    wanted = alarm_definitions(topology)
    have = _described([a["AlarmName"] for a in wanted])
    changes = []
    for alarm in wanted:
        found = have.get(alarm["AlarmName"])
        if found is not None and all(_same(k, found.get(k), alarm[k]) for k in _COMPARED):
            changes.append(Change("alarm", alarm["AlarmName"], "unchanged"))
            continue
        cloudwatch.put_metric_alarm(**alarm)
        changes.append(Change("alarm", alarm["AlarmName"], "created" if found is None else "updated"))
    return changes


def _subscriptions(topic_arn: str) -> Iterable[dict[str, Any]]:
    pages = aws.client("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
    return [s for page in pages for s in page.get("Subscriptions", [])]


def ensure_alarm_email(address: str | None = None) -> Change | None:
    """Subscribe FLEET_ALARM_EMAIL to the alarms topic, once; None when no address is set.

    On AWS the address gets a link to confirm: until then the subscription is `pending`,
    and it is not asked for again (a second Subscribe would mail again). Other
    subscriptions of the topic are left alone.
    """
    address = settings.current().alarm_email if address is None else address
    if not address:
        return None
    topic_arn = resources.topic_arn(ALARMS_TOPIC)
    label = f"{address} -> {resources.topic_name(ALARMS_TOPIC)}"

    def found() -> dict[str, Any] | None:
        return next(
            (
                s
                for s in _subscriptions(topic_arn)
                if s.get("Protocol") == "email" and s.get("Endpoint", "").lower() == address.lower()
            ),
            None,
        )

    def pending(subscription: dict[str, Any]) -> bool:
        return subscription.get("SubscriptionArn", "").lower().replace(" ", "") == "pendingconfirmation"

    existing = found()
    if existing is not None:
        return Change("email", label, "pending" if pending(existing) else "unchanged")
    aws.client("sns").subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=address)
    made = found()
    return Change("email", label, "pending" if made is None or pending(made) else "created")
