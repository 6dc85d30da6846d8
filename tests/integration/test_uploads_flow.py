"""Uploads end to end: presigned POST over HTTP -> S3 -> notification -> queue -> workers.thumbnails."""

from __future__ import annotations

import base64
import io
import json

import pytest
import requests
from PIL import Image

from fleet.provision import provision
from fleet.status import queue_status
from lambda_platform import aws, settings
from tests.unit import images

pytestmark = pytest.mark.integration


def bucket() -> str:
    return settings.current().name("media")


def keys_under(prefix: str) -> list[str]:
    response = aws.client("s3").list_objects_v2(Bucket=bucket(), Prefix=prefix)
    return sorted(o["Key"] for o in response.get("Contents", []))


def read(key: str) -> bytes:
    return aws.client("s3").get_object(Bucket=bucket(), Key=key)["Body"].read()


def upload(api: str, campaign: str, data: bytes, content_type: str = "image/jpeg", declared: int = 0) -> dict:
    """Ask the API for a presigned POST, then send the file to S3 with it, as a browser would."""
    answer = requests.post(
        f"{api}/v1/campaigns/{campaign}/uploads",
        json={"content_type": content_type, "content_length": declared or len(data)},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    presigned = answer.json()
    sent = requests.post(
        presigned["url"],
        data=presigned["fields"],
        files={"file": ("receipt photo.jpg", data, content_type)},
        timeout=30,
    )
    assert sent.status_code in (200, 201, 204), sent.text
    return presigned


def status_of(api: str, upload_id: str) -> dict:
    response = requests.get(f"{api}/v1/uploads/{upload_id}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_provisioning_wires_the_bucket_to_the_uploads_queue_once(provisioned):
    config = aws.client("s3").get_bucket_notification_configuration(Bucket=bucket())
    [queue] = config["QueueConfigurations"]
    assert queue["QueueArn"].endswith(":" + settings.current().name("uploads"))
    assert queue["Events"] == ["s3:ObjectCreated:*"]
    assert [(r["Name"].lower(), r["Value"]) for r in queue["Filter"]["Key"]["FilterRules"]] == [("prefix", "uploads/")]

    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.current().name("uploads"))["QueueUrl"]
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == f"arn:aws:s3:::{bucket()}"

    again = [c for c in provision() if c.kind == "notify"]
    assert [c.action for c in again] == ["unchanged"]


@pytest.mark.quick
def test_a_photo_becomes_ready_with_upright_thumbnails_and_shows_on_its_submission(running_fleet, make_campaign):
    make_campaign("photos")
    api = running_fleet.api_url
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 2400x1200, shown 1200x2400: red on top
    photo = images.encode(images.halves(2400, 1200), "JPEG", quality=92, exif=exif.tobytes())

    presigned = upload(api, "photos", photo)
    assert presigned["key"].startswith("uploads/campaigns/photos/")
    # SigV4, which S3 requires of new buckets, not botocore's SigV2 default for posts.
    assert presigned["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert "signature" not in presigned["fields"] and "AWSAccessKeyId" not in presigned["fields"]
    running_fleet.drain()

    status = status_of(api, presigned["upload_id"])
    assert status["status"] == "ready", status
    assert (status["format"], status["width"], status["height"], status["bytes"]) == ("JPEG", 1200, 2400, len(photo))
    assert set(status["thumbnails"]) == {"256", "1024"}
    for size, key in status["thumbnails"].items():
        assert key.startswith("thumbnails/") and presigned["upload_id"] in key
        image = Image.open(io.BytesIO(read(key)))
        assert image.size == (int(size) // 2, int(size))
        top, bottom = image.getpixel((image.width // 2, 4)), image.getpixel((image.width // 2, image.height - 5))
        assert top[0] > 200 and top[2] < 60 and bottom[2] > 200 and bottom[0] < 60, (top, bottom)
    assert keys_under("uploads/") == [presigned["key"]]  # thumbnails never land under the notified prefix

    entry = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "consent": True}
    queued = requests.post(f"{api}/v1/campaigns/photos/submissions", json={**entry, "upload_key": presigned["key"]}, timeout=10)
    assert queued.status_code == 202, queued.text
    running_fleet.drain()
    shown = requests.get(f"{api}{queued.json()['status_url']}", timeout=10).json()
    assert shown["upload"]["status"] == "ready"
    assert shown["upload"]["thumbnails"] == status["thumbnails"]
    assert all(q.dead_lettered == 0 for q in queue_status())


def test_bad_files_are_rejected_quarantined_and_never_dead_lettered(running_fleet, make_campaign):
    make_campaign("bad")
    api = running_fleet.api_url
    text = upload(api, "bad", b"this is not a picture at all\n" * 100)
    png_as_jpeg = upload(api, "bad", images.encode(images.photo(300, 200), "PNG"), "image/jpeg")
    bomb = upload(api, "bad", images.png_declaring(30000, 30000), "image/png")
    # A client that declares a small file and sends a big one: moto does not enforce the
    # policy's size range, so the worker's HEAD is what stops it.
    huge = upload(api, "bad", b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024), declared=1000)
    running_fleet.drain()

    expected = {
        text["upload_id"]: "not_an_image",
        png_as_jpeg["upload_id"]: "type_mismatch",
        bomb["upload_id"]: "too_many_pixels",
        huge["upload_id"]: "too_large",
    }
    for presigned in (text, png_as_jpeg, bomb, huge):
        status = status_of(api, presigned["upload_id"])
        assert (status["status"], status["reason"]) == ("rejected", expected[presigned["upload_id"]]), status
        assert "thumbnails" not in status
    assert keys_under("uploads/") == []
    assert keys_under("thumbnails/") == []
    quarantined = keys_under("quarantine/")
    assert quarantined == sorted("quarantine/" + p["key"].removeprefix("uploads/") for p in (text, png_as_jpeg, bomb, huge))
    assert all(q.dead_lettered == 0 for q in queue_status())


def test_a_second_notice_for_the_same_object_changes_nothing(running_fleet, make_campaign):
    make_campaign("twice")
    api = running_fleet.api_url
    presigned = upload(api, "twice", images.jpeg(800, 600))
    running_fleet.drain()
    first = status_of(api, presigned["upload_id"])
    assert first["status"] == "ready"

    # Replay the notification as a multipart upload's second ObjectCreated would arrive.
    head = aws.client("s3").head_object(Bucket=bucket(), Key=presigned["key"])
    notice = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:CompleteMultipartUpload",
                "s3": {
                    "bucket": {"name": bucket()},
                    "object": {"key": presigned["key"].replace("/", "%2F"), "size": 1, "eTag": head["ETag"]},
                },
            }
        ]
    }
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.current().name("uploads"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(notice))
    running_fleet.drain()
    assert status_of(api, presigned["upload_id"]) == first
    assert all(q.dead_lettered == 0 for q in queue_status())


def test_an_upload_of_another_size_than_granted_is_rejected(running_fleet, make_campaign):
    make_campaign("sized")
    api = running_fleet.api_url
    # moto takes the 5,000 bytes although the policy says 100; the worker refuses them.
    presigned = upload(api, "sized", images.jpeg()[:5000], declared=100)
    policy = json.loads(base64.b64decode(presigned["fields"]["policy"]))
    assert ["content-length-range", 100, 100] in policy["conditions"]
    running_fleet.drain()

    status = status_of(api, presigned["upload_id"])
    assert (status["status"], status["reason"], status["bytes"]) == ("rejected", "size_mismatch", 5000), status
    assert keys_under("uploads/") == []
    assert keys_under("quarantine/") == ["quarantine/" + presigned["key"].removeprefix("uploads/")]
    assert all(q.dead_lettered == 0 for q in queue_status())
