"""Empty means empty: a required or minimum-length string of nothing but blanks and
invisible characters is a 422 naming the field; numbers in query strings are ASCII digits."""

from __future__ import annotations

import uuid

import pytest
from marshmallow import ValidationError

from events.messages.blog import PublishArticle
from events.schemas import CampaignSchema, Text
from ingest_api import create_app
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.tables import FakeCampaigns, campaign
from workers.blog import store_article

#: Nothing to see: zero-width space, word joiner, BOM, soft hyphen, bidi marks, no-break
#: and ideographic spaces, a Hangul filler, and ordinary blanks around them.
INVISIBLE = [
    "\u200b",
    " \u200b\u200c\u200d ",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u200e\u200f\u202a\u202c",
    "\u00a0\u3000\u2003",
    "\u3164",
    "\t \u200b \n",
]


class AnyoneIsAlice:
    def verify(self, token: str) -> dict:
        return {"sub": "alice", "token_use": "access"}


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
    config = {"TESTING": True, "SERVICES": services, "LOCAL": False, "TOKEN_VERIFIER": AnyoneIsAlice()}
    client = create_app(config).test_client()
    client.environ_base["HTTP_X_API_KEY"] = ports["api_keys"].issue("articles:write")
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer x"
    return client


def cases(article_id: str) -> list[tuple[str, str, dict, str]]:
    """(method, path, a valid body, the field to blank)."""
    entry = {"first_name": "Ana", "last_name": "Souza", "email": "ana@example.com", "consent": True}
    signup = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
    article = {"title": "Crumb", "content": "Less yeast.", "author": "Ada"}
    comment = {"author": "G", "email": "g@example.com", "body": "Hi"}
    todo_id = str(uuid.uuid4())
    return [
        ("POST", "/v1/campaigns/summer/submissions", entry, "first_name"),
        ("POST", "/v1/campaigns/summer/submissions", entry, "last_name"),
        ("POST", "/v1/users", signup, "first_name"),
        ("POST", "/v1/users", signup, "last_name"),
        ("POST", "/v1/articles", article, "title"),
        ("POST", "/v1/articles", article, "content"),
        ("POST", "/v1/articles", article, "author"),
        ("POST", f"/v1/articles/{article_id}/comments", comment, "author"),
        ("POST", f"/v1/articles/{article_id}/comments", comment, "body"),
        ("POST", "/v1/todos", {"title": "Milk"}, "title"),
        ("PATCH", f"/v1/todos/{todo_id}", {"title": "Milk"}, "title"),
    ]


CASES = [f"{method} {path.split('/')[2]} {field}" for method, path, _, field in cases("a")]


@pytest.mark.parametrize("blank", INVISIBLE, ids=[repr(b) for b in INVISIBLE])
@pytest.mark.parametrize("case", range(len(CASES)), ids=CASES)
def test_a_field_of_nothing_visible_is_a_422_naming_it(api, ports, case, blank):
    method, path, body, field = cases(ports["article_id"])[case]
    if method == "PATCH":
        ports["todos"].items[("alice", path.rsplit("/", 1)[1])] = {"todo_id": path.rsplit("/", 1)[1], "title": "Old"}
    answer = api.open(path, method=method, json={**body, field: blank})
    assert answer.status_code == 422, answer.get_json()
    assert set(answer.get_json()["error"]["fields"]) == {field}
    assert all(not ports[q].sent for q in ("submissions_queue", "users_queue", "blog_queue", "todos_queue"))


@pytest.mark.parametrize("text", ["\u200bAda", "Zoë", "👩\u200d💻", "a\u00adb"])
def test_a_field_with_something_visible_is_kept_as_it_is(text):
    assert Text(required=True).deserialize(f"  {text} ") == text


def test_a_campaign_name_of_nothing_visible_is_refused():
    with pytest.raises(ValidationError) as refused:
        CampaignSchema().load(
            {
                "campaign_id": "summer",
                "name": "\u200b \u2060",
                "opens_at": "2026-01-01T00:00:00+00:00",
                "closes_at": "2026-02-01T00:00:00+00:00",
            }
        )
    assert set(refused.value.messages) == {"name"}


@pytest.mark.parametrize("limit", ["１", "１０", "٣", "²", "1\u200b", " 1", "+1", "0x10", "1_0", "1" * 5000])
def test_a_limit_that_is_not_ascii_digits_is_a_422_naming_it(api, limit):
    answer = api.get("/v1/articles", query_string={"limit": limit})
    assert answer.status_code == 422, answer.get_json()
    assert set(answer.get_json()["error"]["fields"]) == {"limit"}


def test_an_ascii_limit_is_taken(api):
    assert api.get("/v1/articles", query_string={"limit": "10"}).status_code == 200
