"""SES's feedback out of order, twice over and at once: each event changes the tables once, against moto.

SES promises neither order nor once-only delivery, and SNS redelivers: the worker is fed a
complaint before the delivery it follows, every notification again, the same batch by two
invocations at the same time, and an old bounce after the operator lifted its address.
"""

from __future__ import annotations

import copy
import json
from concurrent.futures import ThreadPoolExecutor

from events.email_feedback import parse_feedback
from events.models import user_id_for
from events.sample_payloads import load_sample
from fleet.runtime.invoke import LocalContext
from tests.tables import scan

COMPLAINT = "complaint@simulator.amazonses.com"
BOUNCE = "bounce@simulator.amazonses.com"


def batch(*documents: dict, first: int = 0) -> dict:
    """The feedback queue's SQS batch, one SES event record (raw delivery) a message."""
    template = load_sample("sqs_email_feedback")["Records"][0]
    records = []
    for n, document in enumerate(documents, start=first):
        record = copy.deepcopy(template)
        record["messageId"] = f"feedback-{n}"
        record["body"] = json.dumps(document)
        records.append(record)
    return {"Records": records}


def context() -> LocalContext:
    return LocalContext("email_feedback", 512, "arn:aws:lambda:us-east-1:123456789012:function:fleet-local-workers", 30)


def store_people() -> None:
    from lambda_platform import aws, settings

    dynamodb = aws.client("dynamodb")
    for n, address in enumerate((COMPLAINT, COMPLAINT, BOUNCE)):
        item = {"submission_id": {"S": f"e-{n}"}, "campaign_id": {"S": "summer"}, "email": {"S": address}}
        item["email_lower"] = {"S": address}
        dynamodb.put_item(TableName=settings.current().name("submissions"), Item=item)
    user = {"user_id": {"S": user_id_for(COMPLAINT)}, "email": {"S": COMPLAINT}}
    dynamodb.put_item(TableName=settings.current().name("users"), Item=user)


def test_reordered_repeated_and_concurrent_feedback_changes_each_item_once(provisioned):
    from lambda_platform.adapters.email_feedback import DynamoEmailEvents, DynamoSuppressionList
    from workers import email_feedback

    store_people()
    complaint, delivery, bounce = load_sample("ses_complaint"), load_sample("ses_delivery"), load_sample("ses_bounce")
    first = batch(complaint, delivery, complaint, bounce)
    with ThreadPoolExecutor(2) as pool:  # two invocations of one redelivered batch, at once
        answers = list(pool.map(lambda _: email_feedback.handler(first, context()), range(2)))
    assert answers == [{"batchItemFailures": []}] * 2
    after_first = {(e["submission_id"], e.get("email_status"), e.get("email_status_at")) for e in scan("submissions")}
    assert email_feedback.handler(batch(delivery, bounce, complaint, first=10), context()) == {"batchItemFailures": []}

    (complained,) = parse_feedback(json.dumps(complaint))
    (bounced,) = parse_feedback(json.dumps(bounce))
    entries = {e["submission_id"]: e for e in scan("submissions")}
    assert {i: (e["email_status"], e["email_status_at"]) for i, e in entries.items()} == {
        "e-0": ("complained", complained.at),
        "e-1": ("complained", complained.at),
        "e-2": ("bounced", bounced.at),
    }
    assert {(e["submission_id"], e.get("email_status"), e.get("email_status_at")) for e in entries.values()} == after_first
    (user,) = scan("users")
    assert (user["email_status"], user["email_status_at"]) == ("complained", complained.at)
    suppressions = {s["address"]: s for s in scan("suppressions")}
    assert {a: s["reason"] for a, s in suppressions.items()} == {COMPLAINT: "COMPLAINT", BOUNCE: "BOUNCE"}
    events = scan("email_events")
    assert len([e for e in events if e["event"] != "counts"]) == 3  # delivery, complaint, bounce: once each
    assert DynamoEmailEvents().counts(["2025-06-14T09"]) == {"delivered": 1, "complained": 1, "bounced": 1}

    # The operator lifts the bounce; the same bounce, and an older email's, arrive again later.
    suppressions_list = DynamoSuppressionList()
    assert suppressions_list.lift(BOUNCE, "ops", "2025-06-14T12:00:00.000000Z")
    older = copy.deepcopy(bounce)
    older["mail"]["messageId"] = "an-older-email"
    assert email_feedback.handler(batch(bounce, older, first=20), context()) == {"batchItemFailures": []}
    assert suppressions_list.suppressed([BOUNCE, COMPLAINT]) == {COMPLAINT}
    (lifted,) = [s for s in scan("suppressions") if s["address"] == BOUNCE]
    assert lifted["lifted_by"] == "ops" and lifted["suppressed_at"] == bounced.at
    # A newer bounce, after the lift, suppresses it again.
    newer = copy.deepcopy(bounce)
    newer["mail"]["messageId"] = "a-newer-email"
    newer["bounce"]["timestamp"] = "2025-06-14T13:00:00.000Z"
    email_feedback.handler(batch(newer, first=30), context())
    assert suppressions_list.suppressed([BOUNCE]) == {BOUNCE}
