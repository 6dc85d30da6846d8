"""POST /v1/campaigns/{id}/submissions and GET /v1/submissions/{id} over in-memory ports."""

from __future__ import annotations

import json
import re

import pytest

from events.messages.envelope import load_message
from events.models import ACCEPTED
from tests.fakes.tables import campaign
from workers.submissions import store_entries

URL = "/v1/campaigns/summer/submissions"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def valid_body(**overrides):
    """A valid entry for `summer`; an override of `...` leaves that field out."""
    body = {
        "first_name": "Ana",
        "last_name": "Souza",
        "email": "ana.souza@example.com",
        "phone": "+55 11 91234-5678",
        "postal_code": "01310-100",
        "consent": True,
        "upload_key": "uploads/campaigns/summer/7c9e6679/receipt.jpg",
        "answers": {"favourite_flavour": "mango"},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def post(client, body=..., *, url=URL, key=None, raw=None, content_type="application/json"):
    """POST a JSON document (a valid entry by default), or `raw` bytes or text as they are."""
    headers = {"Idempotency-Key": key} if key is not None else {}
    data = raw if raw is not None else json.dumps(valid_body() if body is ... else body)
    return client.post(url, data=data, content_type=content_type, headers=headers)


def assert_error(response, status, code, fields=None):
    """The one error format: {"error": {"code", "message", "fields"?}} and nothing else."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    if fields is None:
        assert set(error) == {"code", "message"}
    else:
        assert set(error) == {"code", "message", "fields"}
        assert set(error["fields"]) == set(fields), error["fields"]
        assert all(isinstance(m, list) and m and all(isinstance(s, str) for s in m) for m in error["fields"].values())
    return error


# --- the happy path -----------------------------------------------------------------------


def test_a_valid_entry_is_queued_and_answered_202(client, queue):
    response = post(client)

    assert response.status_code == 202
    body = response.get_json()
    assert set(body) == {"submission_id", "status", "status_url"}
    assert UUID.match(body["submission_id"])
    assert body["status"] == "queued"
    assert body["status_url"] == f"/v1/submissions/{body['submission_id']}"
    assert response.headers["Location"] == body["status_url"]

    assert len(queue.sent) == 1
    message = load_message(queue.bodies[0])
    assert message.submission_id == body["submission_id"]
    assert message.campaign_id == "summer"
    assert (message.first_name, message.last_name, message.email) == ("Ana", "Souza", "ana.souza@example.com")
    assert message.consent is True
    assert message.answers == {"favourite_flavour": "mango"}
    assert message.received_at.endswith("+00:00")


def test_only_the_required_fields_are_enough_and_blanks_are_trimmed(client, queue):
    body = {"first_name": "  Ben ", "last_name": "Okafor\n", "email": " Ben.Okafor@example.org ", "consent": True}

    assert post(client, body).status_code == 202

    message = queue.sent[0]
    assert (message.first_name, message.last_name, message.email) == ("Ben", "Okafor", "Ben.Okafor@example.org")
    assert message.phone is None and message.upload_key is None and message.answers == {}


def test_each_post_without_a_key_is_a_new_submission(client, queue):
    first, second = post(client), post(client)

    assert first.get_json()["submission_id"] != second.get_json()["submission_id"]
    assert len(queue.sent) == 2


def test_json_with_a_charset_parameter_is_json(client):
    assert post(client, content_type="application/json; charset=utf-8").status_code == 202


# --- malformed requests ---------------------------------------------------------------------


def test_malformed_json_is_400(client, queue):
    assert_error(post(client, raw='{"first_name": "Ana",'), 400, "malformed_json")
    assert queue.sent == []


def test_invalid_utf8_is_400(client):
    assert_error(post(client, raw=b'{"first_name": "\xff\xfe"}'), 400, "malformed_json")


def test_deeply_nested_json_is_400_not_500(client, queue):
    # Under the size limit, so the parser meets the nesting (and its recursion limit).
    assert_error(post(client, raw="[" * 60_000), 400, "malformed_json")
    assert_error(post(client, raw='{"a":' * 10_000 + "1" + "}" * 10_000), 400, "malformed_json")
    assert queue.sent == []


def test_deeply_nested_json_over_the_size_limit_is_413_not_500(client, queue):
    assert_error(post(client, raw="[" * 100_000), 413, "payload_too_large")
    assert queue.sent == []


def test_text_plain_is_415(client, queue):
    assert_error(post(client, raw=json.dumps(valid_body()), content_type="text/plain"), 415, "unsupported_media_type")
    assert queue.sent == []


def test_a_missing_content_type_is_415(client):
    response = client.post(URL, data=json.dumps(valid_body()))
    assert_error(response, 415, "unsupported_media_type")


def test_a_body_over_64_kib_is_413(client, queue):
    body = valid_body(padding="x" * (64 * 1024))

    assert_error(post(client, body), 413, "payload_too_large")
    assert queue.sent == []


def test_a_body_of_exactly_64_kib_is_read(client):
    # Read and validated (the unknown field is what fails), not refused for its size.
    head = json.dumps(valid_body())[:-1] + ', "padding": "'
    raw = head + "y" * (64 * 1024 - len(head) - 2) + '"}'
    assert len(raw.encode()) == 64 * 1024

    assert_error(post(client, raw=raw), 422, "invalid_fields", {"padding"})


@pytest.mark.parametrize("document", [[], [valid_body()], "Ana", 42, None, True])
def test_a_body_that_is_not_an_object_is_422(client, queue, document):
    assert_error(post(client, document), 422, "invalid_fields", {"_body"})
    assert queue.sent == []


# --- campaigns ------------------------------------------------------------------------------


@pytest.mark.parametrize("campaign_id", ["winter", "Summer", "summer%20", "-summer", "a" * 64])
def test_an_unknown_campaign_is_404(client, queue, campaign_id):
    error = assert_error(post(client, url=f"/v1/campaigns/{campaign_id}/submissions"), 404, "campaign_not_found")
    assert "campaign" in error["message"].lower()
    assert queue.sent == []


def test_a_closed_campaign_is_409(client, queue):
    error = assert_error(post(client, url="/v1/campaigns/spring/submissions"), 409, "campaign_not_open")
    assert "closed" in error["message"]
    assert queue.sent == []


def test_a_campaign_not_yet_open_is_409(client, queue):
    error = assert_error(post(client, url="/v1/campaigns/autumn/submissions"), 409, "campaign_not_open")
    assert "not opened" in error["message"]
    assert queue.sent == []


# --- field validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"first_name": ...}, {"first_name"}),
        ({"first_name": ..., "last_name": ..., "email": ..., "consent": ...}, {"first_name", "last_name", "email", "consent"}),
        ({"first_name": "   "}, {"first_name"}),
        ({"first_name": None}, {"first_name"}),
        ({"first_name": 7}, {"first_name"}),
        ({"first_name": "A" * 101}, {"first_name"}),
        ({"last_name": ["Souza"]}, {"last_name"}),
        ({"email": "not-an-email"}, {"email"}),
        ({"email": "ana@"}, {"email"}),
        ({"email": "a" * 250 + "@example.com"}, {"email"}),
        ({"phone": "call me"}, {"phone"}),
        ({"phone": "12"}, {"phone"}),
        ({"postal_code": "!!!"}, {"postal_code"}),
        ({"upload_key": ""}, {"upload_key"}),
        ({"answers": ["mango"]}, {"answers"}),
        ({"answers": {"flavour": 3}}, {"answers.flavour.value"}),
        ({"answers": {"": "mango"}}, {"answers..key"}),
        ({"answers": {"flavour": "x" * 501}}, {"answers.flavour.value"}),
    ],
    ids=[
        "missing-first-name",
        "missing-everything",
        "blank-first-name",
        "null-first-name",
        "numeric-first-name",
        "long-first-name",
        "list-last-name",
        "bad-email",
        "email-without-domain",
        "long-email",
        "words-for-phone",
        "short-phone",
        "bad-postal-code",
        "empty-upload-key",
        "answers-list",
        "numeric-answer",
        "empty-answer-key",
        "long-answer",
    ],
)
def test_invalid_fields_are_422_naming_each_field(client, queue, overrides, fields):
    assert_error(post(client, valid_body(**overrides)), 422, "invalid_fields", fields)
    assert queue.sent == []


def test_an_unknown_field_is_rejected(client, queue):
    error = assert_error(post(client, valid_body(is_admin=True)), 422, "invalid_fields", {"is_admin"})
    assert error["fields"]["is_admin"] == ["Unknown field."]
    assert queue.sent == []


@pytest.mark.parametrize("consent", [False, "true", "yes", None, 1, 1.0, [True], {"value": True}])
def test_consent_must_be_json_true(client, queue, consent):
    assert_error(post(client, valid_body(consent=consent)), 422, "invalid_fields", {"consent"})
    assert queue.sent == []


def test_consent_is_required(client):
    assert_error(post(client, valid_body(consent=...)), 422, "invalid_fields", {"consent"})


def test_twenty_answers_pass_and_twenty_one_do_not(client, queue):
    twenty = {f"q{n}": "yes" for n in range(20)}
    assert post(client, valid_body(answers=twenty)).status_code == 202

    twenty_one = {f"q{n}": "yes" for n in range(21)}
    assert_error(post(client, valid_body(answers=twenty_one)), 422, "invalid_fields", {"answers"})
    assert len(queue.sent) == 1


@pytest.mark.parametrize("text", ["\ud800", "Ana\udfff", "Ana\x00", "A\x1bna", "Ana\x7f"])
def test_characters_no_queue_can_carry_are_rejected(client, queue, text):
    raw = json.dumps(valid_body(first_name=text))  # ensure_ascii spells a lone surrogate as \ud800

    assert_error(post(client, raw=raw), 422, "invalid_fields", {"first_name"})
    assert queue.sent == []


def test_a_lone_surrogate_in_an_answer_key_or_email_is_rejected(client, queue):
    assert_error(post(client, valid_body(answers={"q\ud800": "yes"})), 422, "invalid_fields", {"answers.q\ud800.key"})
    assert_error(post(client, valid_body(email="ana\ud800@example.com")), 422, "invalid_fields", {"email"})
    assert queue.sent == []


def test_non_ascii_names_are_fine(client, queue):
    assert post(client, valid_body(first_name="Chloé", last_name="Nguyễn 阮")).status_code == 202
    assert load_message(queue.bodies[0]).last_name == "Nguyễn 阮"


@pytest.mark.parametrize(
    "upload_key",
    [
        "uploads/campaigns/spring/7c9e6679/receipt.jpg",
        "uploads/campaigns/summerfest/receipt.jpg",
        "uploads/campaigns/summer/../spring/receipt.jpg",
        "private/receipt.jpg",
        "/uploads/campaigns/summer/receipt.jpg",
    ],
)
def test_an_upload_key_outside_the_campaign_prefix_is_422(client, queue, upload_key):
    error = assert_error(post(client, valid_body(upload_key=upload_key)), 422, "invalid_fields", {"upload_key"})
    assert "uploads/campaigns/summer/" in error["fields"]["upload_key"][0]
    assert queue.sent == []


# --- Idempotency-Key -----------------------------------------------------------------------


def stored_once(queue, campaigns, submissions) -> list[str]:
    """Run the submissions worker over everything queued; the ids it stored."""
    store_entries([load_message(b) for b in queue.bodies], campaigns, submissions)
    return list(submissions.items)


def test_the_same_key_and_body_answer_the_same_submission_and_store_it_once(client, queue, campaigns, submissions):
    first = post(client, key="form-42")
    again = post(client, key="form-42")

    assert first.status_code == again.status_code == 202
    assert again.get_json() == first.get_json()
    # Nothing records that the first send went out: the retry sends again under its id.
    assert [m.submission_id for m in queue.sent] == [first.get_json()["submission_id"]] * 2
    assert stored_once(queue, campaigns, submissions) == [first.get_json()["submission_id"]]


def test_key_order_and_white_space_do_not_make_a_different_body(client, queue, campaigns, submissions):
    body = valid_body()
    first = post(client, raw=json.dumps(body), key="k1")
    again = post(client, raw=json.dumps(dict(reversed(body.items())), indent=4), key="k1")

    assert again.get_json()["submission_id"] == first.get_json()["submission_id"]
    assert {m.submission_id for m in queue.sent} == {first.get_json()["submission_id"]}
    assert stored_once(queue, campaigns, submissions) == [first.get_json()["submission_id"]]


def test_the_same_key_with_a_different_body_is_422(client, queue):
    post(client, key="form-42")

    error = assert_error(
        post(client, valid_body(first_name="Eve"), key="form-42"), 422, "idempotency_key_reused", {"Idempotency-Key"}
    )
    assert "different body" in error["message"]
    assert len(queue.sent) == 1


def test_a_key_is_scoped_to_its_campaign(client, queue, campaigns):
    campaigns.put(campaign("winter"))
    body = valid_body(upload_key=...)
    first = post(client, body, key="same")
    other = post(client, body, key="same", url="/v1/campaigns/winter/submissions")

    assert first.get_json()["submission_id"] != other.get_json()["submission_id"]
    assert len(queue.sent) == 2


def test_a_key_whose_first_request_died_before_queueing_is_queued_again_under_its_id(client, queue, request_keys):
    class FlakyQueue:
        def send(self, message):
            raise ConnectionError("lost on the way")

    services = client.application.config["SERVICES"]
    real_queue, services.submissions_queue = services.submissions_queue, FlakyQueue()
    assert_error(post(client, key="retry-me"), 500, "internal")
    (pending,) = request_keys.records.values()

    services.submissions_queue = real_queue
    response = post(client, key="retry-me")

    assert response.status_code == 202
    assert response.get_json()["submission_id"] == pending["message_id"]
    assert [m.submission_id for m in queue.sent] == [pending["message_id"]]
    assert request_keys.records == {"summer:retry-me": pending}, "the key is written once, never updated"


@pytest.mark.parametrize("key", ["k" * 256, "k" * 300, "", "has space", "tab\tkey", "naïve"])
def test_a_malformed_key_is_400(client, queue, key):
    headers = {"Idempotency-Key": key.encode("utf-8").decode("latin-1")}
    response = client.post(URL, json=valid_body(), headers=headers)

    assert_error(response, 400, "invalid_header", {"Idempotency-Key"})
    assert queue.sent == []


def test_a_key_of_255_visible_characters_is_fine(client):
    assert post(client, key="~" * 255).status_code == 202


# --- routing -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/v1", "/v1/campaigns/summer/prizes", "/v2/campaigns/summer/submissions", "/static/x"])
def test_an_unknown_route_is_a_json_404(client, path):
    assert_error(client.get(path), 404, "not_found")


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_a_wrong_method_is_a_json_405_with_allow(client, method):
    response = getattr(client, method)(URL)

    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


# --- following a submission ----------------------------------------------------------------


def test_a_submission_is_404_until_stored_then_200(client, queue, campaigns, submissions):
    status_url = post(client).get_json()["status_url"]

    assert_error(client.get(status_url), 404, "submission_not_found")

    assert store_entries(queue.sent, campaigns, submissions) == {}
    response = client.get(status_url)

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"submission_id", "campaign_id", "status", "received_at", "stored_at", "upload"}
    # The entry names an upload that no upload record knows (not a key the API made).
    assert body["upload"] == {"key": valid_body()["upload_key"], "status": "unknown"}
    assert body["submission_id"] == status_url.rsplit("/", 1)[1]
    assert body["campaign_id"] == "summer"
    assert body["status"] == ACCEPTED
    assert body["received_at"] == queue.sent[0].received_at


@pytest.mark.parametrize("submission_id", ["nope", "1", "2FDE2635-A40D-4D97-BF64-EB6F15A74286", "x" * 500])
def test_a_malformed_submission_id_is_404_without_a_lookup(client, submissions, monkeypatch, submission_id):
    def no_lookup(_):
        raise AssertionError("a malformed id must not reach the table")

    monkeypatch.setattr(submissions, "get", no_lookup)

    assert_error(client.get(f"/v1/submissions/{submission_id}"), 404, "submission_not_found")
