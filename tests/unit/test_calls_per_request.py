"""How many AWS-facing port calls a keyed POST makes, over fakes: a first POST, a retry,
another body, a rate-limited request, and the same for signups and the blog."""

from __future__ import annotations

import json
from typing import Any

import pytest

from events.messages.envelope import load_message
from ingest_api import create_app
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.access import FakeRateLimiter
from tests.fakes.tables import FakeCampaigns, FakeQueue, FakeRequestKeys, FakeSubmissions, campaign
from workers.submissions import store_entries

URL = "/v1/campaigns/summer/submissions"
BODY = {"first_name": "Ana", "last_name": "Souza", "email": "ana@example.com", "consent": True}
#: The ports whose boto3 adapters call AWS on every use (the campaigns adapter caches its reads).
COUNTED = ("submissions_queue", "users_queue", "blog_queue", "request_keys", "rate_limiter")


class Counting:
    """A port that notes every call of its methods in `calls` as "port.method", then delegates."""

    def __init__(self, name: str, port: Any, calls: list[str]) -> None:
        self._name, self._port, self._calls = name, port, calls

    def __getattr__(self, attribute: str) -> Any:
        found = getattr(self._port, attribute)
        if not callable(found):
            return found

        def counted(*args: Any, **kwargs: Any) -> Any:
            self._calls.append(f"{self._name}.{attribute}")
            return found(*args, **kwargs)

        return counted


class World:
    """The app over fakes, with every call of the counted ports noted in `calls`."""

    def __init__(self, per_client: int = 60, per_campaign: int = 6000) -> None:
        self.calls: list[str] = []
        self.queue, self.users_queue, self.blog_queue = FakeQueue(), FakeQueue(), FakeQueue()
        self.limiter = FakeRateLimiter()
        self.keys = FakeRequestKeys()  # fake_ports has it count in `limiter`, as one table would
        self.submissions = FakeSubmissions()
        self.campaigns = FakeCampaigns(campaign("summer"))
        ports = fake_ports(
            submissions_queue=self.queue,
            users_queue=self.users_queue,
            blog_queue=self.blog_queue,
            request_keys=self.keys,
            rate_limiter=self.limiter,
            campaigns=self.campaigns,
            submissions=self.submissions,
        )
        for name in COUNTED:
            ports[name] = Counting(name, ports[name], self.calls)
        config = {
            "TESTING": True,
            "SERVICES": Ports(**ports),
            "RATE_PER_CLIENT": per_client,
            "RATE_PER_CAMPAIGN": per_campaign,
            "LOCAL": False,
        }
        self.client = create_app(config).test_client()

    def post(self, body: dict = BODY, key: str | None = "form-1", url: str = URL, **headers: str):
        """POST `body`, with the Idempotency-Key `key` unless None; forget the calls made before."""
        self.calls.clear()
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)

    def store(self) -> None:
        """Run the submissions worker's service over everything sent so far."""
        store_entries([load_message(b) for b in self.queue.bodies], self.campaigns, self.submissions)


@pytest.fixture
def world() -> World:
    return World()


# --- submissions ------------------------------------------------------------------------


def test_a_first_post_with_a_key_counts_and_claims_in_one_call_then_sends(world):
    response = world.post()

    assert response.status_code == 202
    assert world.calls == ["request_keys.claim", "submissions_queue.send"]
    (record,) = world.keys.records.values()
    assert record["message_id"] == response.get_json()["submission_id"]
    assert sum(world.limiter.counts.values()) == 2, "the client's and the campaign's counters"


def test_a_post_without_a_key_makes_the_rate_limit_call_and_the_send(world):
    assert world.post(key=None).status_code == 202
    assert world.calls == ["rate_limiter.hit", "submissions_queue.send"]
    assert world.keys.records == {}


def test_a_retry_with_the_same_key_and_body_is_counted_and_sent_again_under_the_same_id(world):
    first = world.post().get_json()
    again = world.post()

    assert again.status_code == 202 and again.get_json() == first
    assert world.calls == ["request_keys.claim", "rate_limiter.hit", "submissions_queue.send"]
    assert [m.submission_id for m in world.queue.sent] == [first["submission_id"]] * 2
    assert sum(world.limiter.counts.values()) == 4, "a retry is counted as any request"
    world.store()
    assert list(world.submissions.items) == [first["submission_id"]], "the worker stores the id once"


def test_a_retry_with_another_body_is_422_and_sends_nothing(world):
    world.post()
    response = world.post({**BODY, "first_name": "Eve"})

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert world.calls == ["request_keys.claim", "rate_limiter.hit"]
    assert len(world.queue.sent) == 1


def test_a_rate_limited_post_with_a_new_key_is_429_and_writes_nothing_for_the_key():
    world = World(per_client=2)
    assert [world.post(key=f"k{n}").status_code for n in range(2)] == [202, 202]
    counts = dict(world.limiter.counts)

    limited = world.post(key="k2")

    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert world.calls == ["request_keys.claim"]
    assert sorted(world.keys.records) == ["summer:k0", "summer:k1"]
    assert world.limiter.counts == counts, "nothing counted either"
    assert len(world.queue.sent) == 2


def test_the_campaign_limit_refuses_a_keyed_post_as_well():
    world = World(per_campaign=1)
    assert world.post(key="a").status_code == 202
    limited = world.post(key="b")
    assert limited.status_code == 429 and "campaign" in limited.get_json()["error"]["message"]
    assert sorted(world.keys.records) == ["summer:a"]


def test_a_rate_limited_retry_of_a_known_key_is_429_and_sends_nothing():
    world = World(per_client=2)
    world.post(key="k0")
    world.post(key="k1")

    assert world.post(key="k0").status_code == 429
    assert world.calls == ["request_keys.claim"], "the full counter is told by the same call"
    assert len(world.queue.sent) == 2


def test_keyed_requests_that_fail_are_still_counted_and_a_429_wins_over_their_error():
    world = World(per_client=2)
    assert world.post({**BODY, "consent": False}, key="bad-0").status_code == 422
    assert world.post(key="bad-1", url="/v1/campaigns/nowhere/submissions").status_code == 404

    assert world.post({**BODY, "consent": False}, key="bad-2").status_code == 429
    assert world.post(key="good").status_code == 429
    assert world.keys.records == {} and world.queue.sent == []


# --- signups and the blog share the same path --------------------------------------------


def test_a_first_signup_with_a_key_makes_two_calls_and_a_retry_sends_under_the_same_id(world):
    signup = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
    first = world.post(signup, key="signup-1", url="/v1/users")
    assert first.status_code == 202
    assert world.calls == ["request_keys.claim", "users_queue.send"]

    again = world.post(signup, key="signup-1", url="/v1/users")
    assert again.get_json() == first.get_json()
    assert [m.signup_id for m in world.users_queue.sent] == [first.get_json()["signup_id"]] * 2


def test_a_first_comment_with_a_key_makes_two_calls(world):
    comment = {"author": "A", "email": "a@example.com", "body": "hi"}
    url = "/v1/articles/00000000-0000-4000-8000-000000000000/comments"
    assert world.post(comment, key="c-1", url=url).status_code == 202
    assert world.calls == ["request_keys.claim", "blog_queue.send"]
