"""Every email field takes only what SES will send to: an ASCII local part and a public DNS
domain, an IDN domain stored as its punycode form (events.emails)."""

from __future__ import annotations

import uuid

import pytest

from events.emails import NotAnEmail, email_address
from events.messages.blog import PublishArticle
from ingest_api import create_app
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.tables import FakeCampaigns, campaign
from workers.blog import store_article

REFUSED = [
    "ñoño@example.com",  # SES refuses a non-ASCII local part
    "用户@例子.广告",
    "idn@[127.0.0.1]",
    "a@[::1]",
    "a@localhost",
    "a@1.2.3.4",
    "a@example.123",
    "a@example..com",
    "a@-example.com",
    "a@example-.com",
    "a@example.com.",
    "a@exa_mple.com",
    "a@" + "x" * 64 + ".com",
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    '"a b"@example.com',
    "a(comment)@example.com",
    "a@b@example.com",
    "x" * 65 + "@example.com",
    "@example.com",
    "a@",
    "a@ex\u200bample.com",
    "a@☃.net",
    "a@faß.de",  # IDNA 2003 would send it to fass.de
    "a@例.１x",  # nameprep would turn the fullwidth digit into another name
]

ACCEPTED = [
    ("ada@example.com", "ada@example.com"),
    ("Ada.Lovelace+news@Mail.Example.CO.UK", "Ada.Lovelace+news@Mail.Example.CO.UK"),
    ("o'brien!#$%&*/=?^_`{|}~-@x-1.example", "o'brien!#$%&*/=?^_`{|}~-@x-1.example"),
    ("a@例子.广告", "a@xn--fsqu00a.xn--4rr70v"),
    ("a@Bücher.de", "a@xn--bcher-kva.de"),
    ("a@xn--bcher-kva.de", "a@xn--bcher-kva.de"),
    ("a@例子.xn--4rr70v", "a@xn--fsqu00a.xn--4rr70v"),
]


@pytest.mark.parametrize("address", REFUSED)
def test_addresses_ses_would_refuse_are_refused(address):
    with pytest.raises(NotAnEmail, match="Not a valid email address"):
        email_address(address)


@pytest.mark.parametrize(("address", "stored"), ACCEPTED)
def test_good_addresses_are_taken_and_idn_domains_become_punycode(address, stored):
    assert email_address(address) == stored


# --- every route that takes an email --------------------------------------------------


@pytest.fixture
def ports():
    found = fake_ports(campaigns=FakeCampaigns(campaign("summer")))
    article_id = str(uuid.uuid4())
    store_article(PublishArticle(article_id, "T", "Text.", "Ada", True, "2026-03-01T12:00:00+00:00"), found["articles"])
    found["article_id"] = article_id
    return found


@pytest.fixture
def api(ports):
    services = Ports(**{k: v for k, v in ports.items() if k != "article_id"})
    client = create_app({"TESTING": True, "SERVICES": services, "LOCAL": False}).test_client()
    client.environ_base["HTTP_X_API_KEY"] = ports["api_keys"].issue("subscriptions:write")
    return client


def routes(article_id: str) -> dict[str, tuple[str, dict, str]]:
    """name -> (path, a valid body without its email, the email field)."""
    return {
        "submission": (
            "/v1/campaigns/summer/submissions",
            {"first_name": "Ana", "last_name": "Souza", "consent": True},
            "email",
        ),
        "signup": ("/v1/users", {"first_name": "Ada", "last_name": "Lovelace"}, "email"),
        "comment": (f"/v1/articles/{article_id}/comments", {"author": "G", "body": "Hi"}, "email"),
        "subscription": (f"/v1/articles/{article_id}/subscriptions", {}, "email"),
        "email subscription": (f"/v1/articles/{article_id}/subscriptions", {"protocol": "email"}, "endpoint"),
    }


ROUTES = ["submission", "signup", "comment", "subscription", "email subscription"]
QUEUES = {"submission": "submissions_queue", "signup": "users_queue", "comment": "blog_queue"}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("address", ["ñoño@example.com", "用户@例子.广告", "idn@[127.0.0.1]", "a@localhost"])
def test_every_email_field_refuses_them_with_a_422_naming_it(api, ports, route, address):
    path, body, field = routes(ports["article_id"])[route]
    answer = api.post(path, json={**body, field: address})
    assert answer.status_code == 422, answer.get_json()
    assert set(answer.get_json()["error"]["fields"]) == {field}
    assert all(not ports[q].sent for q in QUEUES.values()) and ports["comment_topic"].subscriptions == {}


@pytest.mark.parametrize("route", ROUTES)
def test_every_email_field_stores_an_idn_domain_as_punycode(api, ports, route):
    path, body, field = routes(ports["article_id"])[route]
    answer = api.post(path, json={**body, field: "  ana@例子.广告 "})
    assert answer.status_code in (201, 202), answer.get_json()
    if route in QUEUES:
        [message] = ports[QUEUES[route]].sent
        assert message.email == "ana@xn--fsqu00a.xn--4rr70v"
    else:
        [subscription] = ports["comment_topic"].subscriptions.values()
        assert (subscription["protocol"], subscription["endpoint"]) == ("email", "ana@xn--fsqu00a.xn--4rr70v")


def test_a_message_on_a_queue_holds_the_same_rule():
    from marshmallow import ValidationError

    from events.messages.base import schema_of
    from events.messages.users import RegisterUser

    body = {
        "signup_id": "s",
        "user_id": "u",
        "email": "ñoño@example.com",
        "first_name": "A",
        "last_name": "B",
        "received_at": "2026-03-01T12:00:00+00:00",
    }
    with pytest.raises(ValidationError) as refused:
        schema_of(RegisterUser)().load(body)
    assert set(refused.value.messages) == {"email"}
