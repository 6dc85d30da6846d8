"""The AWS calls of the confirmations worker against moto, counted by a hook on every `lambda_platform.aws`
client. An entry without photo in a campaign that gives no codes costs what it did before the
settle step: the batch's one BatchGetItem of what was sent (and one of its addresses' suppressions,
once an email is due), then its SendEmail and one write (the UpdateItem that creates its record);
a MODIFY of an entry confirmed already costs nothing beyond that read. In a campaign that
gives codes, a code is one Query of the pool and one TransactWriteItems."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from events.sample_payloads import load_sample
from fleet.runtime.invoke import LocalContext
from tests.calls import counting_calls

pytestmark = pytest.mark.integration


@pytest.fixture
def calls(provisioned, monkeypatch):
    """Counts of every AWS operation from now on; campaigns cached for a minute, as on AWS."""
    from lambda_platform import idempotency, settings

    monkeypatch.setenv("FLEET_CAMPAIGN_CACHE_SECONDS", "60")
    settings.reset()
    idempotency.reset()
    with counting_calls() as counted:
        yield counted
    idempotency.reset()


def context() -> LocalContext:
    return LocalContext("confirmations", 256, "arn:aws:lambda:us-east-1:123456789012:function:fleet-local-workers", 30)


def stored(campaign_id: str, count: int, event_name: str = "INSERT") -> dict:
    """A submissions-stream batch of `count` entries without photo, stored in the table too."""
    from lambda_platform.adapters.dynamo import from_item
    from lambda_platform.adapters.tables import DynamoSubmissions

    template = load_sample("dynamodb_stream_insert")["Records"][0]
    records = []
    for n in range(count):
        record = copy.deepcopy(template)
        image = record["dynamodb"]["NewImage"]
        del image["upload_key"]
        image["submission_id"] = {"S": f"{campaign_id}-{n}"}
        image["campaign_id"] = {"S": campaign_id}
        image["email"] = {"S": f"{campaign_id}{n}@example.com"}
        image["received_at"] = {"S": f"2025-06-14T09:21:{n:02d}+00:00"}
        record["eventName"] = event_name
        record["dynamodb"]["Keys"] = {"submission_id": image["submission_id"]}
        record["dynamodb"]["SequenceNumber"] = str(100 + n)
        records.append(record)
    DynamoSubmissions().put_many([from_item(r["dynamodb"]["NewImage"]) for r in records])
    return {"Records": records}


def campaign(campaign_id: str, gives_codes: bool) -> None:
    from events.models import Campaign
    from lambda_platform.adapters.tables import DynamoCampaigns

    now = datetime.now(UTC)
    DynamoCampaigns().put(
        Campaign(campaign_id, campaign_id.title(), now - timedelta(days=1), now + timedelta(days=7), gives_codes=gives_codes)
    )


def test_an_entry_without_photo_nor_codes_costs_its_send_and_one_write(calls):
    from workers import confirmations

    campaign("plain", gives_codes=False)
    event = stored("plain", 5)
    calls.clear()
    assert confirmations.handler(event, context()) == {"batchItemFailures": []}
    assert dict(calls) == {"BatchGetItem": 2, "GetItem": 1, "SendEmail": 5, "UpdateItem": 5}

    calls.clear()  # the same entries changed (a review, say): confirmed already
    modified = copy.deepcopy(event)
    for record in modified["Records"]:
        record["eventName"] = "MODIFY"
    assert confirmations.handler(modified, context()) == {"batchItemFailures": []}
    assert dict(calls) == {"BatchGetItem": 1}


def test_a_code_costs_one_query_and_one_transaction(calls):
    from campaigns.codes import import_codes
    from lambda_platform.adapters.codes import DynamoCodes
    from workers import confirmations

    campaign("promo", gives_codes=True)
    import_codes("promo", [f"P-{n}" for n in range(5)], DynamoCodes(), print)
    event = stored("promo", 5)
    calls.clear()
    assert confirmations.handler(event, context()) == {"batchItemFailures": []}
    assert dict(calls) == {"BatchGetItem": 2, "GetItem": 1, "Query": 5, "TransactWriteItems": 5, "SendEmail": 5, "UpdateItem": 5}
