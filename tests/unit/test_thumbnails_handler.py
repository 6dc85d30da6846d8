"""workers.thumbnails over fakes, fed the canonical S3-via-SQS sample."""

from __future__ import annotations

import copy
import json
from urllib.parse import quote_plus

import pytest

from events.sample_payloads import load_sample
from events.uploads import object_created_records, parse_upload_key, upload_key
from tests.fakes.receipts import FakeReceiptFlags
from tests.fakes.uploads import FakeObjects, FakeUploads
from workers import thumbnails

from . import images

UPLOAD_ID = "3fa85f6457174562b3fc2c963f66afa6"
KEY = upload_key("uploads/campaigns/summer/", UPLOAD_ID, "image/jpeg")


@pytest.fixture
def flags():
    """The submissions table's receipt side, with no entry stored."""
    return FakeReceiptFlags()


@pytest.fixture
def stores(monkeypatch, flags):
    objects, uploads = FakeObjects(), FakeUploads()
    uploads.create(
        {
            "upload_id": UPLOAD_ID,
            "campaign_id": "summer",
            "key": KEY,
            "content_type": "image/jpeg",
            "max_bytes": 10 * 1024 * 1024,
            "status": "pending",
        }
    )
    monkeypatch.setattr(thumbnails, "_adapters", lambda: (objects, uploads, flags))
    return objects, uploads


def event_for(*keys: str, etag: str | None = None, encode=lambda k: quote_plus(k, safe="")) -> dict:
    """The sample event, one SQS record per key, keys form-encoded as moto sends them."""
    sample = load_sample("s3_via_sqs")
    template = sample["Records"][0]
    records = []
    for n, key in enumerate(keys):
        record = copy.deepcopy(template)
        body = json.loads(record["body"])
        body["Records"][0]["s3"]["object"]["key"] = encode(key)
        if etag:
            body["Records"][0]["s3"]["object"]["eTag"] = etag
        record["body"] = json.dumps(body)
        record["messageId"] = f"message-{n}"
        records.append(record)
    sample["Records"] = records
    return sample


def test_the_sample_parses_with_its_key_decoded():
    [notice] = object_created_records(load_sample("s3_via_sqs")["Records"][0]["body"])
    assert notice.key == "uploads/campaigns/summer/7c9e6679-7425-40de-944b-e07fc1f90ae7/receipt 0614.jpg"
    assert notice.bucket == "fleet-local-media" and notice.size == 184327


def test_the_sample_as_is_names_no_upload_of_ours_so_it_is_quarantined(stores, lambda_context):
    objects, uploads = stores
    key = "uploads/campaigns/summer/7c9e6679-7425-40de-944b-e07fc1f90ae7/receipt 0614.jpg"
    objects.write(key, images.jpeg(), "image/jpeg")
    assert thumbnails.handler(load_sample("s3_via_sqs"), lambda_context) == {"batchItemFailures": []}
    assert list(objects.objects) == ["quarantine/campaigns/summer/7c9e6679-7425-40de-944b-e07fc1f90ae7/receipt 0614.jpg"]
    assert uploads.items[UPLOAD_ID]["status"] == "pending"


def test_a_photo_is_made_ready(stores, lambda_context):
    objects, uploads = stores
    objects.write(KEY, images.jpeg(1200, 900), "image/jpeg")
    assert thumbnails.handler(event_for(KEY), lambda_context) == {"batchItemFailures": []}
    record = uploads.items[UPLOAD_ID]
    assert (record["status"], record["width"], record["height"], record["format"]) == ("ready", 1200, 900, "JPEG")
    assert record["thumbnails"] == {
        "256": f"thumbnails/campaigns/summer/{UPLOAD_ID}/256.jpg",
        "1024": f"thumbnails/campaigns/summer/{UPLOAD_ID}/1024.jpg",
    }
    assert set(objects.objects) == {KEY, *record["thumbnails"].values()}


def test_a_second_notice_for_the_same_object_does_nothing(stores, lambda_context):
    objects, uploads = stores
    objects.write(KEY, images.jpeg(), "image/jpeg")
    thumbnails.handler(event_for(KEY), lambda_context)
    first = copy.deepcopy(uploads.items[UPLOAD_ID])
    objects.reads.clear()
    etag = objects.head(KEY).etag
    assert thumbnails.handler(event_for(KEY, etag=etag), lambda_context) == {"batchItemFailures": []}
    assert objects.reads == [] and uploads.items[UPLOAD_ID] == first


def test_an_oversized_object_is_rejected_without_being_read(stores, lambda_context):
    objects, uploads = stores
    uploads.items[UPLOAD_ID]["max_bytes"] = 1000
    objects.write(KEY, images.jpeg(), "image/jpeg")
    assert thumbnails.handler(event_for(KEY), lambda_context) == {"batchItemFailures": []}
    assert objects.reads == []
    assert (uploads.items[UPLOAD_ID]["status"], uploads.items[UPLOAD_ID]["reason"]) == ("rejected", "too_large")
    assert list(objects.objects) == ["quarantine/" + KEY.removeprefix("uploads/")]


def test_a_bad_file_is_rejected_and_quarantined_not_failed(stores, lambda_context):
    objects, uploads = stores
    objects.write(KEY, b"GIF89a not really", "image/jpeg")
    assert thumbnails.handler(event_for(KEY), lambda_context) == {"batchItemFailures": []}
    assert uploads.items[UPLOAD_ID]["status"] == "rejected"
    assert KEY not in objects.objects and "thumbnails" not in uploads.items[UPLOAD_ID]


def test_a_test_event_is_skipped(stores, lambda_context):
    sample = load_sample("s3_via_sqs")
    sample["Records"][0]["body"] = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"})
    assert thumbnails.handler(sample, lambda_context) == {"batchItemFailures": []}


@pytest.mark.parametrize("operation", ["head", "read", "write", "move"])
def test_throttled_s3_fails_only_that_record(stores, lambda_context, operation):
    objects, uploads = stores
    other_id = "ab" + UPLOAD_ID[2:]
    other_key = upload_key("uploads/campaigns/summer/", other_id, "image/jpeg")
    uploads.create({**uploads.items[UPLOAD_ID], "upload_id": other_id, "key": other_key})
    objects.write(KEY, b"not an image" if operation == "move" else images.jpeg(), "image/jpeg")
    objects.write(other_key, images.jpeg(), "image/jpeg")
    objects.throttle.add(operation)
    response = thumbnails.handler(event_for(KEY, other_key), lambda_context)
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert "message-0" in failed
    if operation == "move":  # only the rejected one moves
        assert failed == ["message-0"] and uploads.items[other_id]["status"] == "ready"
        # On the retry the record already says rejected; the move is finished then.
        objects.throttle.clear()
        assert thumbnails.handler(event_for(KEY), lambda_context) == {"batchItemFailures": []}
        assert KEY not in objects.objects


def test_throttled_dynamodb_fails_the_record_for_a_retry(stores, lambda_context):
    objects, uploads = stores
    objects.write(KEY, images.jpeg(), "image/jpeg")
    uploads.throttle = True
    assert thumbnails.handler(event_for(KEY), lambda_context) == {"batchItemFailures": [{"itemIdentifier": "message-0"}]}
    uploads.throttle = False
    assert thumbnails.handler(event_for(KEY), lambda_context) == {"batchItemFailures": []}
    assert uploads.items[UPLOAD_ID]["status"] == "ready"


def test_a_record_that_is_not_an_s3_notice_fails_alone(stores, lambda_context):
    objects, _ = stores
    objects.write(KEY, images.jpeg(), "image/jpeg")
    event = event_for("garbage", KEY)
    event["Records"][0]["body"] = "{not json"
    assert thumbnails.handler(event, lambda_context) == {"batchItemFailures": [{"itemIdentifier": "message-0"}]}


def test_keys_the_api_makes_parse_back():
    parsed = parse_upload_key(KEY)
    assert parsed is not None and (parsed.campaign_id, parsed.upload_id) == ("summer", UPLOAD_ID)
    assert parse_upload_key(KEY.replace("/3f/", "/00/")) is None
    assert parse_upload_key("uploads/campaigns/summer/../x.jpg") is None


@pytest.mark.parametrize("delta", [-1, 1, 5000])
def test_an_object_of_another_size_than_declared_is_rejected_unread(stores, lambda_context, delta):
    objects, uploads = stores
    photo = images.jpeg()
    uploads.items[UPLOAD_ID]["declared_bytes"] = len(photo) + delta
    objects.write(KEY, photo, "image/jpeg")
    assert thumbnails.handler(event_for(KEY), lambda_context) == {"batchItemFailures": []}
    record = uploads.items[UPLOAD_ID]
    assert (record["status"], record["reason"], record["bytes"]) == ("rejected", "size_mismatch", len(photo))
    assert str(len(photo) + delta) in record["detail"]
    assert objects.reads == [] and list(objects.objects) == ["quarantine/" + KEY.removeprefix("uploads/")]


def test_an_object_of_the_declared_size_is_made_ready(stores, lambda_context):
    objects, uploads = stores
    photo = images.jpeg()
    uploads.items[UPLOAD_ID]["declared_bytes"] = len(photo)
    objects.write(KEY, photo, "image/jpeg")
    assert thumbnails.handler(event_for(KEY), lambda_context) == {"batchItemFailures": []}
    assert uploads.items[UPLOAD_ID]["status"] == "ready"


def test_an_object_replaced_by_another_size_after_the_head_is_rejected(stores, lambda_context, monkeypatch):
    objects, uploads = stores
    photo = images.jpeg()
    uploads.items[UPLOAD_ID]["declared_bytes"] = len(photo)
    objects.write(KEY, photo, "image/jpeg")
    # A second POST to the same key lands between the HEAD and the GET.
    monkeypatch.setattr(objects, "read", lambda key: photo + b"\0" * 10)
    assert thumbnails.handler(event_for(KEY), lambda_context) == {"batchItemFailures": []}
    assert (uploads.items[UPLOAD_ID]["status"], uploads.items[UPLOAD_ID]["reason"]) == ("rejected", "size_mismatch")


def test_a_campaign_photo_gets_its_hash_and_the_entry_that_sent_it_is_touched(stores, flags, lambda_context):
    objects, uploads = stores
    flags.entries["entry-1"] = {"submission_id": "entry-1", "upload_key": KEY}
    flags.entries["entry-2"] = {"submission_id": "entry-2", "upload_key": "uploads/campaigns/summer/aa/other.jpg"}
    objects.write(KEY, images.jpeg(1200, 900), "image/jpeg")
    assert thumbnails.handler(event_for(KEY), lambda_context) == {"batchItemFailures": []}
    record = uploads.items[UPLOAD_ID]
    assert record["status"] == "ready" and len(record["phash"]) == 64 and int(record["phash"], 16) >= 0
    assert flags.entries["entry-1"]["receipt_ready_at"] == record["processed_at"]
    assert "receipt_ready_at" not in flags.entries["entry-2"]
    # The outcome is recorded before the entry is looked up, so an entry stored meanwhile reads it.
    assert [c[0] for c in flags.calls] == ["senders", "mark_ready"]


def test_a_photo_whose_entry_is_not_stored_yet_is_ready_all_the_same(stores, flags, lambda_context):
    objects, uploads = stores
    objects.write(KEY, images.jpeg(), "image/jpeg")
    assert thumbnails.handler(event_for(KEY), lambda_context) == {"batchItemFailures": []}
    assert uploads.items[UPLOAD_ID]["phash"] and flags.calls == [("senders", KEY)]


def test_a_rejected_photo_touches_its_entry_too_so_its_confirmation_stops_waiting(stores, flags, lambda_context):
    objects, uploads = stores
    flags.entries["entry-1"] = {"submission_id": "entry-1", "upload_key": KEY}
    objects.write(KEY, b"GIF89a not really", "image/jpeg")
    assert thumbnails.handler(event_for(KEY), lambda_context) == {"batchItemFailures": []}
    assert uploads.items[UPLOAD_ID]["status"] == "rejected" and "phash" not in uploads.items[UPLOAD_ID]
    assert flags.entries["entry-1"]["receipt_ready_at"] == uploads.items[UPLOAD_ID]["processed_at"]


@pytest.mark.parametrize("method", ["senders", "mark_ready"])
def test_a_throttled_touch_fails_the_record_and_its_retry_touches_without_remaking(stores, flags, lambda_context, method):
    objects, uploads = stores
    flags.entries["entry-1"] = {"submission_id": "entry-1", "upload_key": KEY}
    objects.write(KEY, images.jpeg(), "image/jpeg")
    flags.throttle.add(method)
    assert thumbnails.handler(event_for(KEY), lambda_context) == {"batchItemFailures": [{"itemIdentifier": "message-0"}]}
    record = copy.deepcopy(uploads.items[UPLOAD_ID])
    assert record["status"] == "ready" and "receipt_ready_at" not in flags.entries["entry-1"]
    flags.throttle.clear()
    objects.reads.clear()
    etag = objects.head(KEY).etag
    assert thumbnails.handler(event_for(KEY, etag=etag), lambda_context) == {"batchItemFailures": []}
    assert objects.reads == [] and uploads.items[UPLOAD_ID] == record  # the ETag check skipped the thumbnails
    assert flags.entries["entry-1"]["receipt_ready_at"] == record["processed_at"]


def test_an_articles_photo_is_not_hashed_and_looks_up_no_entry(stores, flags, lambda_context):
    objects, uploads = stores
    article_id = "ab" + UPLOAD_ID[2:]
    key = upload_key("uploads/articles/my-article/", article_id, "image/jpeg")
    uploads.create({**uploads.items[UPLOAD_ID], "upload_id": article_id, "key": key})
    objects.write(key, images.jpeg(), "image/jpeg")
    assert thumbnails.handler(event_for(key), lambda_context) == {"batchItemFailures": []}
    assert uploads.items[article_id]["status"] == "ready" and "phash" not in uploads.items[article_id]
    assert flags.calls == []
