"""The blog end to end: HTTP -> the blog queue -> workers.blog -> the comments stream ->
workers.comment_notifications -> SNS -> subscribers' SQS queues (filtered by article), on moto."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from fleet.status import queue_status
from lambda_platform import aws
from lambda_platform.adapters.queues import queue_url
from lambda_platform.resources import table_name

pytestmark = pytest.mark.integration


#: The blog's writer is an integration: its API key, made anew for each test.
HEADERS: dict[str, str] = {}


@pytest.fixture(autouse=True)
def writer_key(provisioned):
    from lambda_platform.access import new_key
    from lambda_platform.adapters.access import DynamoApiKeys

    HEADERS["x-api-key"] = new_key("blog-tests", ["articles:write", "subscriptions:write"], DynamoApiKeys())[0]


def post(api: str, path: str, body: dict) -> requests.Response:
    return requests.post(f"{api}{path}", json=body, headers=HEADERS, timeout=10)


def create_article(api: str, title: str, **extra) -> str:
    answer = post(api, "/v1/articles", {"title": title, "content": f"All about {title}.", "author": "Ada", **extra})
    assert answer.status_code == 202, answer.text
    assert answer.json()["status_url"] == f"/v1/articles/{answer.json()['article_id']}"
    return answer.json()["article_id"]


def comment(api: str, article_id: str, body: str) -> str:
    answer = post(api, f"/v1/articles/{article_id}/comments", {"author": "Grace", "email": "grace@example.com", "body": body})
    assert answer.status_code == 202, answer.text
    return answer.json()["comment_id"]


def subscriber_queue(name: str) -> tuple[str, str]:
    """A subscriber's own SQS queue (not part of the topology): (url, arn)."""
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def received(url: str) -> list[dict]:
    """Every SNS notification on a queue, consumed."""
    sqs = aws.client("sqs")
    found = []
    while True:
        page = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        if not page.get("Messages"):
            return found
        for message in page["Messages"]:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def comment_ids(notifications: list[dict]) -> list[str]:
    return [n["Message"].rsplit("Comment: ", 1)[1].strip() for n in notifications]


def test_each_subscriber_hears_its_own_articles_comments_once(running_fleet):
    api = running_fleet.api_url
    first = create_article(api, "Sourdough at altitude")
    second = create_article(api, "Fermenting hot sauce")
    running_fleet.drain()

    subscriptions = {}
    queues = {}
    for article_id, name in ((first, "reader-one"), (second, "reader-two")):
        queues[article_id], arn = subscriber_queue(name)
        answer = post(api, f"/v1/articles/{article_id}/subscriptions", {"protocol": "sqs", "endpoint": arn})
        assert answer.status_code == 201, answer.text
        subscriptions[article_id] = answer.json()["subscription_id"]

    sent = {first: [comment(api, first, f"First, comment {n}") for n in range(3)]}
    sent[second] = [comment(api, second, f"Second, comment {n}") for n in range(2)]
    running_fleet.drain()

    for article_id, title in ((first, "Sourdough at altitude"), (second, "Fermenting hot sauce")):
        notifications = received(queues[article_id])
        assert sorted(comment_ids(notifications)) == sorted(sent[article_id])  # its own, once each
        for notification in notifications:
            assert notification["Subject"] == f'New comment by Grace on "{title}"'
            assert title in notification["Message"] and "Grace commented" in notification["Message"]
            assert notification["MessageAttributes"]["article_id"]["Value"] == article_id
            assert notification["MessageAttributes"]["event_type"]["Value"] == "comment_posted"
        status = requests.get(f"{api}/v1/comments/{sent[article_id][0]}", timeout=10).json()
        assert status["status"] == "accepted" and "email" not in status

    # Unsubscribing: only through the article it belongs to; then nothing more arrives.
    wrong = requests.delete(f"{api}/v1/articles/{second}/subscriptions/{subscriptions[first]}", headers=HEADERS, timeout=10)
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "subscription_not_found"
    gone = requests.delete(f"{api}/v1/articles/{first}/subscriptions/{subscriptions[first]}", headers=HEADERS, timeout=10)
    assert gone.status_code == 204
    again = requests.delete(f"{api}/v1/articles/{first}/subscriptions/{subscriptions[first]}", headers=HEADERS, timeout=10)
    assert again.status_code == 404
    comment(api, first, "Nobody is listening")
    late = comment(api, second, "Still heard")
    running_fleet.drain()
    assert received(queues[first]) == []
    assert comment_ids(received(queues[second])) == [late]


def test_a_comment_on_a_missing_article_ends_rejected_not_looping(running_fleet):
    api = running_fleet.api_url
    missing = str(uuid.uuid4())
    comment_id = comment(api, missing, "Hello?")
    assert requests.get(f"{api}/v1/comments/{comment_id}", timeout=10).status_code == 404  # not stored yet
    running_fleet.drain()

    status = requests.get(f"{api}/v1/comments/{comment_id}", timeout=10)
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "rejected" and status.json()["reason"] == "article_not_found"
    blog = next(q for q in queue_status() if q.name == "blog")
    assert (blog.visible, blog.in_flight, blog.dead_lettered) == (0, 0, 0)
    failures = aws.client("sqs").get_queue_attributes(
        QueueUrl=queue_url("comment-notifications-failures"), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    assert failures == "0"


def test_reads_carry_etags_and_a_cursor(running_fleet):
    api = running_fleet.api_url
    ids = [create_article(api, f"Post {n}") for n in range(3)]
    draft = create_article(api, "Not yet", published=False)
    running_fleet.drain()

    one = requests.get(f"{api}/v1/articles/{ids[0]}", timeout=10)
    assert one.status_code == 200 and one.json()["title"] == "Post 0"
    assert one.headers["ETag"] and "max-age=60" in one.headers["Cache-Control"]
    again = requests.get(f"{api}/v1/articles/{ids[0]}", headers={"If-None-Match": one.headers["ETag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""

    pages, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = requests.get(f"{api}/v1/articles", params=params, timeout=10)
        assert page.status_code == 200 and "max-age=5" in page.headers["Cache-Control"]
        pages.append([a["article_id"] for a in page.json()["articles"]])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == [[ids[2], ids[1]], [ids[0]]]  # newest first; the draft is not listed
    assert requests.get(f"{api}/v1/articles/{draft}", timeout=10).json()["published"] is False

    bad = requests.get(f"{api}/v1/articles", params={"cursor": "bm90LWEtY3Vyc29y"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"cursor": ["Not a valid cursor."]}
    assert requests.get(f"{api}/v1/articles", params={"limit": 101}, timeout=10).status_code == 422


def test_an_article_photo_goes_through_the_thumbnail_worker(running_fleet):
    from tests.unit import images

    api = running_fleet.api_url
    article_id = create_article(api, "With a photo")
    running_fleet.drain()
    data = images.jpeg(800, 600)
    answer = post(api, f"/v1/articles/{article_id}/uploads", {"content_type": "image/jpeg", "content_length": len(data)})
    assert answer.status_code == 201, answer.text
    presigned = answer.json()
    assert presigned["key"].startswith(f"uploads/articles/{article_id}/")
    sent = requests.post(presigned["url"], data=presigned["fields"], files={"file": ("p.jpg", data, "image/jpeg")}, timeout=30)
    assert sent.status_code in (200, 201, 204), sent.text
    running_fleet.drain()

    status = requests.get(f"{api}/v1/uploads/{presigned['upload_id']}", timeout=10).json()
    assert status["status"] == "ready", status
    assert status["thumbnails"] == {
        size: f"thumbnails/articles/{article_id}/{presigned['upload_id']}/{size}.jpg" for size in ("256", "1024")
    }
    missing = post(api, f"/v1/articles/{uuid.uuid4()}/uploads", {"content_type": "image/jpeg", "content_length": 10})
    assert missing.status_code == 404


# --- the blog as a site: edits, unpublishing, the comments list ----------------------------


class PurgeRecorder:
    """The local edge's purge endpoint, recording the paths of every purge it is sent."""

    def __init__(self) -> None:
        import http.server
        import threading

        purges = self.purges = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                purges.append(json.loads(self.rfile.read(int(self.headers["Content-Length"])))["paths"])
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def site_fleet(provisioned, monkeypatch):
    """The fleet with the API's read cache off (a change shows as soon as it is stored) and the
    local edge's purges recorded: (api url, runtime, recorder)."""
    from fleet.runtime.local import ApiServer, LocalRuntime
    from ingest_api import create_app
    from ingest_api.services import prepare
    from lambda_platform import settings

    recorder = PurgeRecorder()
    monkeypatch.setenv("FLEET_EDGE_URL", recorder.url)
    settings.reset()
    app = create_app({"READ_CACHE_SECONDS": 0})
    prepare(app)
    api = ApiServer(port=0, app=app)
    api.start()
    runtime = LocalRuntime()
    runtime.start()
    yield api.url, runtime, recorder
    runtime.stop()
    api.stop()
    recorder.stop()


def listed(api: str) -> list[str]:
    answer = requests.get(f"{api}/v1/articles", timeout=10)
    assert answer.status_code == 200, answer.text
    return [a["article_id"] for a in answer.json()["articles"]]


@pytest.mark.slow
def test_an_article_is_edited_and_unpublished_through_the_fleet_and_the_edge_purged(site_fleet):
    api, runtime, recorder = site_fleet
    kept, changed = create_article(api, "Kept"), create_article(api, "Changing")
    assert runtime.drain(60)
    assert listed(api) == [changed, kept]

    headers = {**HEADERS, "Idempotency-Key": "edit-once"}
    edit = requests.patch(
        f"{api}/v1/articles/{changed}", json={"title": "Changed", "content": "New text."}, headers=headers, timeout=10
    )
    assert edit.status_code == 202, edit.text
    again = requests.patch(
        f"{api}/v1/articles/{changed}", json={"title": "Changed", "content": "New text."}, headers=headers, timeout=10
    )
    assert again.json()["change_id"] == edit.json()["change_id"]
    assert runtime.drain(60)
    article = requests.get(f"{api}/v1/articles/{changed}", timeout=10).json()
    assert (article["title"], article["content"], article["author"]) == ("Changed", "New text.", "Ada")
    paths = [f"/v1/articles/{changed}", f"/v1/articles/{changed}/comments*", "/v1/articles*"]
    assert paths in recorder.purges
    purged = len(recorder.purges)

    # Without the scope: refused, nothing queued.
    from lambda_platform.access import new_key
    from lambda_platform.adapters.access import DynamoApiKeys

    reader_key = new_key("blog-reader", ["subscriptions:write"], DynamoApiKeys())[0]
    refused = requests.delete(f"{api}/v1/articles/{changed}", headers={"x-api-key": reader_key}, timeout=10)
    assert refused.status_code == 403
    assert requests.delete(f"{api}/v1/articles/{changed}", timeout=10).status_code == 401

    gone = requests.delete(f"{api}/v1/articles/{changed}", headers=HEADERS, timeout=10)
    assert gone.status_code == 202, gone.text
    assert runtime.drain(60)
    assert listed(api) == [kept]
    answer = requests.get(f"{api}/v1/articles/{changed}", timeout=10)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "article_unpublished"
    assert recorder.purges[purged:] == [paths]
    stored = aws.client("dynamodb").get_item(
        TableName=table_name("articles"), Key={"article_id": {"S": changed}}, ConsistentRead=True
    )["Item"]
    assert "feed" not in stored and "feed_key" not in stored and stored["published"] == {"BOOL": False}
    blog = next(q for q in queue_status() if q.name == "blog")
    assert (blog.visible, blog.in_flight, blog.dead_lettered) == (0, 0, 0)


def test_an_articles_comments_are_listed_in_two_pages_oldest_first(site_fleet):
    api, runtime, recorder = site_fleet
    article_id = create_article(api, "Talked about")
    assert runtime.drain(60)
    sent = [comment(api, article_id, f"Comment {n}") for n in range(3)]
    assert runtime.drain(60)
    # A rejected comment among them (as one posted while the article was a draft) is skipped.
    comments = aws.client("dynamodb")
    stored = [
        comments.get_item(TableName=table_name("comments"), Key={"comment_id": {"S": c}}, ConsistentRead=True)["Item"]
        for c in sent
    ]
    in_order = [i["comment_id"]["S"] for i in sorted(stored, key=lambda i: i["created_at"]["S"])]
    first_at = min(i["created_at"]["S"] for i in stored)
    comments.put_item(
        TableName=table_name("comments"),
        Item={
            "comment_id": {"S": str(uuid.uuid4())},
            "article_id": {"S": article_id},
            "status": {"S": "rejected"},
            "author": {"S": "X"},
            "body": {"S": "Never shown"},
            "created_at": {"S": first_at[:-6] + "1+00:00"},
        },
    )
    pages, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = requests.get(f"{api}/v1/articles/{article_id}/comments", params=params, timeout=10)
        assert page.status_code == 200, page.text
        assert page.headers["Cache-Control"] == "public, max-age=10" and page.headers["ETag"]
        assert all("email" not in c for c in page.json()["comments"])
        pages.append([c["comment_id"] for c in page.json()["comments"]])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    # Oldest first, the rejected one skipped: the first Query evaluated three and showed two.
    assert pages == [in_order[:2], in_order[2:]]
    first = requests.get(f"{api}/v1/articles/{article_id}/comments", params={"limit": 2}, timeout=10)
    cached = requests.get(
        f"{api}/v1/articles/{article_id}/comments",
        params={"limit": 2},
        headers={"If-None-Match": first.headers["ETag"]},
        timeout=10,
    )
    assert cached.status_code == 304
    bad = requests.get(f"{api}/v1/articles/{article_id}/comments", params={"cursor": "bm90LWEtY3Vyc29y"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"
    assert recorder.purges == []  # comments invalidate nothing
