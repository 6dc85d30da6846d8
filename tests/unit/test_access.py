"""Who may do what, over fakes: route classes, API keys, bearer tokens, the to-do and file
matrices (user A against user B), limits, origins, CORS and the OpenAPI document."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from events.messages.todos import CreateTodo
from ingest_api import create_app
from ingest_api.auth import TokenVerifier, route_class
from lambda_platform import access
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.access import FakeApiKeys, FakeRateLimiter, FakeTodos, FakeUserFiles
from tests.fakes.tables import FakeCampaigns, FakeQueue, campaign
from workers.todos import apply

ISSUER = "https://issuer.test/pool"
CLIENT = "app-client"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FixedJwks:
    """PyJWKClient's one method, over a key we hold."""

    def get_signing_key_from_jwt(self, token):
        return SimpleNamespace(key=KEY.public_key())


@pytest.fixture
def world():
    found = SimpleNamespace(
        keys=FakeApiKeys(),
        limiter=FakeRateLimiter(),
        todos=FakeTodos(),
        files=FakeUserFiles(),
        queue=FakeQueue(),
        blog_queue=FakeQueue(),
        campaigns=FakeCampaigns(campaign("summer")),
    )
    services = Ports(
        **fake_ports(
            campaigns=found.campaigns,
            blog_queue=found.blog_queue,
            api_keys=found.keys,
            rate_limiter=found.limiter,
            todos_queue=found.queue,
            todos=found.todos,
            user_files=found.files,
        )
    )
    config = {
        "TESTING": True,
        "SERVICES": services,
        "LOCAL": False,
        "TOKEN_VERIFIER": TokenVerifier(ISSUER, CLIENT, FixedJwks()),
        "RATE_PER_CLIENT": 3,
        "RATE_PER_CAMPAIGN": 1000,
        "WEB_ORIGINS": ("https://forms.example.com",),
        "TRUSTED_PROXY_HOPS": 0,
    }
    found.client = create_app(config).test_client()
    return found


def token(user: str = "alice", key=KEY, **overrides) -> str:
    now = time.time()
    claims = overrides.pop("claims", {})
    raw = access.issue_token(key, overrides.pop("issuer", ISSUER), overrides.pop("client_id", CLIENT), user, now=now)
    if not claims:
        return raw
    import jwt

    payload = jwt.decode(raw, options={"verify_signature": False})
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key, algorithm="RS256")


def bearer(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


def error_code(response) -> str:
    assert set(response.json) == {"error"} and {"code", "message"} <= set(response.json["error"])
    return response.json["error"]["code"]


ARTICLE = {"title": "T", "content": "C", "author": "A"}


# --- route classes and API keys ---------------------------------------------------------


def test_every_route_has_a_class_and_the_openapi_document_covers_every_route(world):
    app = world.client.application
    documented = world.client.get("/v1/openapi.json").json
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        assert route_class(app.view_functions[rule.endpoint]) in ("public", "api_key", "user"), rule
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in documented["paths"][path], (method, path)
    schemes = documented["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    assert schemes["Bearer"]["scheme"] == "bearer"
    assert documented["paths"]["/v1/todos"]["get"]["security"] == [{"Bearer": []}]
    assert documented["paths"]["/v1/articles"]["post"]["security"] == [{"ApiKey": []}]
    assert documented["paths"]["/v1/articles"]["get"]["security"] == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/v1/articles", ARTICLE),
        ("post", "/v1/articles/00000000-0000-4000-8000-000000000000/subscriptions", {"email": "a@example.com"}),
        ("delete", "/v1/articles/00000000-0000-4000-8000-000000000000/subscriptions/x", None),
        ("post", "/v1/articles/00000000-0000-4000-8000-000000000000/uploads", {"content_type": "image/png", "content_length": 9}),
    ],
)
def test_key_routes_answer_401_without_a_good_key_and_403_without_the_scope(world, method, path, body):
    call = getattr(world.client, method)
    assert call(path, json=body).status_code == 401
    assert error_code(call(path, json=body)) == "missing_api_key"
    assert error_code(call(path, json=body, headers={"x-api-key": "fleet_not-a-key"})) == "invalid_api_key"
    wrong = world.keys.issue("campaigns:write")
    answer = call(path, json=body, headers={"x-api-key": wrong})
    assert answer.status_code == 403 and error_code(answer) == "insufficient_scope"


def test_a_revoked_key_is_refused_and_a_good_one_passes(world):
    key = world.keys.issue("articles:write", name="cms")
    assert world.client.post("/v1/articles", json=ARTICLE, headers={"x-api-key": key}).status_code == 202
    assert [r["name"] for r in access.revoke("cms", world.keys)] == ["cms"]
    answer = world.client.post("/v1/articles", json=ARTICLE, headers={"x-api-key": key})
    assert answer.status_code == 401 and error_code(answer) == "invalid_api_key"
    assert all(key not in str(r) for r in world.keys.records.values())  # only the hash is kept


def test_keys_are_long_random_and_scopes_are_checked():
    store = FakeApiKeys()
    first, second = store.issue("articles:write"), store.issue("articles:write")
    assert first != second and len(first) > 40 and first.startswith("fleet_")
    with pytest.raises(ValueError, match="unknown scope"):
        access.new_key("x", ["everything"], store)


# --- bearer tokens ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_token"),
        ({"Authorization": "Basic abc"}, "missing_token"),
        (bearer("not.a.jwt"), "invalid_token"),
        (bearer(token(claims={"exp": int(time.time()) - 3600})), "invalid_token"),
        (bearer(token(issuer="https://evil.test/pool")), "invalid_token"),
        (bearer(token(client_id="another-client")), "invalid_token"),
        (bearer(token(claims={"token_use": "refresh"})), "invalid_token"),
        (bearer(token(claims={"token_use": "id", "aud": "another-client"})), "invalid_token"),
        (bearer(token(claims={"token_use": None})), "invalid_token"),
        (bearer(token(claims={"sub": "../../x"})), "invalid_token"),
        (bearer(token(key=OTHER_KEY)), "invalid_token"),
        # Strict claims: a few seconds of leeway, numbers only, a Cognito token's lifetime at most.
        (bearer(token(claims={"exp": int(time.time()) - 20})), "invalid_token"),
        (bearer(token(claims={"exp": str(int(time.time()) + 600)})), "invalid_token"),
        (bearer(token(claims={"iat": str(int(time.time()))})), "invalid_token"),
        (bearer(token(claims={"iat": True})), "invalid_token"),
        (bearer(token(claims={"nbf": str(int(time.time()))})), "invalid_token"),
        (bearer(token(claims={"exp": int(time.time()) + 2 * 86400})), "invalid_token"),
        # A subject is one plain id: no trailing newline, control character or separator.
        (bearer(token(claims={"sub": "abc\n"})), "invalid_token"),
        (bearer(token(claims={"sub": "abc\x0bdef"})), "invalid_token"),
        (bearer(token(claims={"sub": "abc\x00"})), "invalid_token"),
        (bearer(token(claims={"sub": "abc/def"})), "invalid_token"),
        (bearer(token(claims={"sub": "abc\\def"})), "invalid_token"),
    ],
)
def test_user_routes_answer_401_for_a_missing_or_bad_token(world, headers, code):
    for method, path in [("get", "/v1/todos"), ("post", "/v1/todos"), ("get", "/v1/me/files"), ("post", "/v1/me/files")]:
        answer = getattr(world.client, method)(path, json={"title": "x"}, headers=headers)
        assert answer.status_code == 401 and error_code(answer) == code, (method, path, answer.json)
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_inside_the_leeway_and_with_numeric_claims_is_accepted(world):
    now = time.time()
    for claims in ({"exp": int(now) - 2}, {"exp": now + 60.5, "iat": now - 0.5, "nbf": now - 1}):
        assert world.client.get("/v1/todos", headers=bearer(token(claims=claims))).status_code == 200, claims


def test_the_local_issuer_makes_tokens_of_at_most_a_day():
    access.issue_token(KEY, ISSUER, CLIENT, "alice", ttl_seconds=access.MAX_TOKEN_SECONDS)
    for ttl in (access.MAX_TOKEN_SECONDS + 1, 999_999_999, 0, -5):
        with pytest.raises(ValueError, match="a token is good for"):
            access.issue_token(KEY, ISSUER, CLIENT, "alice", ttl_seconds=ttl)


@pytest.mark.parametrize("ttl", ["999999999", "86401", "0", "-1"])
def test_fleet_token_refuses_a_ttl_over_a_day_as_a_usage_error(ttl, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from fleet.cli import main
    from lambda_platform import settings

    monkeypatch.setenv("FLEET_STAGE", "local")
    monkeypatch.setenv("FLEET_STATE_DIR", str(tmp_path))
    settings.reset()
    try:
        access.signing_key(tmp_path)
        refused = CliRunner().invoke(main, ["token", "--user", "alice", "--ttl", ttl])
        assert refused.exit_code == 2 and "--ttl" in refused.output, refused.output
        made = CliRunner().invoke(main, ["token", "--user", "alice", "--ttl", "86400"])
        assert made.exit_code == 0, made.output
        import jwt

        claims = jwt.decode(made.output.strip(), options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 86400
    finally:
        settings.reset()


def test_an_id_token_for_our_client_is_accepted(world):
    t = token(claims={"token_use": "id", "aud": CLIENT, "client_id": None})
    assert world.client.get("/v1/todos", headers=bearer(t)).status_code == 200


# --- the to-do and file matrices ---------------------------------------------------------


def _store_todo(world, owner_token: str) -> str:
    answer = world.client.post("/v1/todos", json={"title": "Milk"}, headers=bearer(owner_token))
    assert answer.status_code == 202
    apply(world.queue.sent[-1], world.todos)  # what workers.todos does
    return answer.json["todo_id"]


def test_user_a_never_reads_or_changes_user_bs_todos(world):
    alice, bob = token("alice"), token("bob")
    todo_id = _store_todo(world, bob)
    sent = len(world.queue.sent)
    assert world.client.get("/v1/todos", headers=bearer(alice)).json == {"todos": []}
    for call in (
        lambda: world.client.get(f"/v1/todos/{todo_id}", headers=bearer(alice)),
        lambda: world.client.patch(f"/v1/todos/{todo_id}", json={"done": True}, headers=bearer(alice)),
        lambda: world.client.delete(f"/v1/todos/{todo_id}", headers=bearer(alice)),
    ):
        answer = call()
        assert answer.status_code == 404 and error_code(answer) == "todo_not_found"
    assert len(world.queue.sent) == sent  # nothing queued for alice
    # A message naming bob's to-do under alice's subject (a forged one) touches nothing.
    forged = CreateTodo(todo_id=todo_id, owner=access.user_sub("alice"), title="mine now", received_at="2099")
    apply(forged, world.todos)
    shown = world.client.get(f"/v1/todos/{todo_id}", headers=bearer(bob)).json
    assert shown["title"] == "Milk"


def test_todos_list_has_an_etag_and_answers_304(world):
    alice = token("alice")
    _store_todo(world, alice)
    first = world.client.get("/v1/todos", headers=bearer(alice))
    assert first.status_code == 200 and len(first.json["todos"]) == 1
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = world.client.get("/v1/todos", headers={**bearer(alice), "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "name",
    ["../x", "..", "a/b", "%2e%2e", "%2fetc", "a\\b", "/etc/passwd", "x\x00y", "..%2f..%2fetc", "~root", ".hidden", "C:evil"],
)
def test_a_file_name_outside_the_folder_is_403(world, name):
    alice = token("alice")
    answer = world.client.post(
        "/v1/me/files", json={"name": name, "content_type": "text/plain", "content_length": 3}, headers=bearer(alice)
    )
    assert answer.status_code == 403 and error_code(answer) == "outside_your_folder"
    assert world.files.presigned == []


@pytest.mark.parametrize("raw", ["..%2fbob", "%2e%2e%2fx", "a%5cb", "%2fetc%2fpasswd", "x%00y", "a/b", "%252e%252e"])
def test_a_download_outside_the_folder_is_403_encoded_tricks_included(world, raw):
    answer = world.client.get(f"/v1/me/files/{raw}", headers=bearer(token("alice")))
    assert answer.status_code == 403 and error_code(answer) == "outside_your_folder", raw


def test_user_a_never_lists_or_reads_user_bs_files(world):
    alice, bob = token("alice"), token("bob")
    made = world.client.post(
        "/v1/me/files", json={"name": "notes.txt", "content_type": "text/plain", "content_length": 3}, headers=bearer(bob)
    )
    assert made.status_code == 201 and made.json["key"] == f"users/{access.user_sub('bob')}/notes.txt"
    world.files.objects[made.json["key"]] = 3
    assert world.client.get("/v1/me/files", headers=bearer(alice)).json == {"files": []}
    assert world.client.get("/v1/me/files/notes.txt", headers=bearer(alice)).status_code == 404
    bob_sub = access.user_sub("bob")
    assert world.client.get(f"/v1/me/files/../{bob_sub}/notes.txt", headers=bearer(alice)).status_code in (403, 404)
    assert world.client.get(f"/v1/me/files/..%2f{bob_sub}%2fnotes.txt", headers=bearer(alice)).status_code == 403
    assert world.client.get("/v1/me/files", headers=bearer(bob)).json["files"][0]["name"] == "notes.txt"
    assert world.client.get("/v1/me/files/notes.txt", headers=bearer(bob)).status_code == 200


# --- limits, origins, CORS, headers -----------------------------------------------------


def test_public_writes_are_limited_per_client_with_retry_after(world):
    body = {"author": "A", "email": "a@example.com", "body": "hi"}
    path = "/v1/articles/00000000-0000-4000-8000-000000000000/comments"
    codes = [world.client.post(path, json=body).status_code for _ in range(4)]
    assert codes == [202, 202, 202, 429]
    limited = world.client.post(path, json=body)
    assert error_code(limited) == "rate_limited" and 1 <= int(limited.headers["Retry-After"]) <= 60
    # Another client is counted apart.
    other = world.client.post(path, json=body, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 202


def test_a_foreign_origin_is_refused_and_gets_no_cors(world):
    body = {"author": "A", "email": "a@example.com", "body": "hi"}
    path = "/v1/articles/00000000-0000-4000-8000-000000000000/comments"
    refused = world.client.post(path, json=body, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and error_code(refused) == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in refused.headers
    allowed = world.client.post(path, json=body, headers={"Origin": "https://forms.example.com"})
    assert allowed.status_code == 202
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://forms.example.com"
    preflight = world.client.options(
        path, headers={"Origin": "https://forms.example.com", "Access-Control-Request-Method": "POST"}
    )
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]
    assert preflight.headers["Access-Control-Allow-Origin"] != "*"


def test_every_answer_has_security_headers(world):
    for answer in (world.client.get("/health"), world.client.get("/v1/todos"), world.client.get("/c/summer")):
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert "Content-Security-Policy" in answer.headers


def test_oversized_strings_and_bodies_are_refused(world):
    alice = bearer(token("alice"))
    long_title = world.client.post("/v1/todos", json={"title": "x" * 201}, headers=alice)
    assert long_title.status_code == 422 and "title" in long_title.json["error"]["fields"]
    huge = world.client.post("/v1/todos", json={"title": "x", "notes": "y" * 70_000}, headers=alice)
    assert huge.status_code == 413 and error_code(huge) == "payload_too_large"
    empty_patch = world.client.patch("/v1/todos/00000000-0000-4000-8000-000000000000", json={}, headers=alice)
    assert empty_patch.status_code == 404  # not theirs (not stored): never a hint
