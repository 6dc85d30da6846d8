"""Every id, cursor and name check matches the whole string: `$` also matches before a
trailing newline, so `abc\\n` passed checks written `^...$` and reached keys and tables."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from events.blog import decode_cursor, encode_cursor, feed_key
from events.ids import CAMPAIGN_ID, UPLOAD_ID, UUID_ID
from events.schemas import LOCALE, PHONE, POSTAL_CODE
from events.todos import FILE_NAME
from events.uploads import parse_upload_key

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("events", "ingest_api", "fleet", "workers")
ARTICLE = "0b0b5d3e-7f4c-4c55-9a1e-3f1d2c3b4a59"
UPLOAD = "0123456789abcdef0123456789abcdef"
_RE_CALLS = {"compile", "match", "search", "fullmatch", "Regexp"}


def _tail(node: ast.expr) -> str | None:
    """The literal text a pattern argument ends with, or None when it is not a literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[-1], ast.Constant):
        return str(node.values[-1].value)
    return None


def test_no_pattern_of_ours_is_anchored_with_a_dollar():
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not (isinstance(node, ast.Call) and node.args):
                    continue
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                tail = _tail(node.args[0]) if name in _RE_CALLS else None
                if tail is not None and tail.endswith("$") and not tail.endswith("\\$"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == [], "end a pattern with \\Z (or use fullmatch): $ lets a trailing newline through"


@pytest.mark.parametrize(
    ("pattern", "good"),
    [
        (UUID_ID, ARTICLE),
        (CAMPAIGN_ID, "summer"),
        (UPLOAD_ID, UPLOAD),
        (FILE_NAME, "notes.txt"),
        (PHONE, "+351 912 345 678"),
        (POSTAL_CODE, "1000-001"),
        (LOCALE, "pt-BR"),
    ],
)
def test_a_pattern_takes_the_value_and_refuses_it_with_a_trailing_newline(pattern, good):
    assert pattern.match(good)
    for bad in (good + "\n", good + "\r\n", good + "\nx", "\n" + good):
        assert not pattern.match(bad), repr(bad)


def test_a_cursor_whose_key_ends_in_a_newline_is_refused():
    key = feed_key("2024-05-01T10:00:00+00:00", ARTICLE)
    assert decode_cursor(encode_cursor(key)) == key
    with pytest.raises(ValueError, match="not a cursor"):
        decode_cursor(encode_cursor(key + "\n"))


def test_an_upload_key_with_a_trailing_newline_is_not_ours():
    key = f"uploads/campaigns/summer/01/{UPLOAD}.jpg"
    assert parse_upload_key(key) is not None
    assert parse_upload_key(key + "\n") is None


def test_an_id_with_a_trailing_newline_is_a_404_without_a_read(client, services, monkeypatch):
    reads = []
    for port in ("campaigns", "submissions", "articles", "comments", "uploads"):
        store = getattr(services, port)
        monkeypatch.setattr(store, "get", lambda *args, _port=port: reads.append(_port))
    for path in (
        "/v1/campaigns/summer%0A",
        "/c/summer%0A",
        f"/v1/submissions/{ARTICLE}%0A",
        f"/v1/articles/{ARTICLE}%0A",
        f"/v1/comments/{ARTICLE}%0A",
        f"/v1/uploads/{UPLOAD}%0A",
    ):
        assert client.get(path).status_code == 404, path
    assert reads == []


def test_a_comment_on_an_article_id_with_a_trailing_newline_is_never_queued(client, services):
    body = {"author": "A", "email": "a@example.com", "body": "hi"}
    answer = client.post(f"/v1/articles/{ARTICLE}%0A/comments", json=body)
    assert answer.status_code == 404 and answer.json["error"]["code"] == "article_not_found"
    assert services.blog_queue.sent == []


def test_an_idempotency_key_with_a_trailing_newline_is_a_400(app):
    from ingest_api.bodies import idempotency_key
    from ingest_api.errors import ApiError

    with app.test_request_context(environ_base={"HTTP_IDEMPOTENCY_KEY": "order-1"}):
        assert idempotency_key() == "order-1"
    with app.test_request_context(environ_base={"HTTP_IDEMPOTENCY_KEY": "order-1\n"}), pytest.raises(ApiError) as refused:
        idempotency_key()
    assert refused.value.status == 400
