"""The local API over a real socket: body limits, timeouts, header and request-line bounds, HTTP versions.

Raw bytes through `socket`, so that the test, not an HTTP client, decides the chunking,
the Content-Length, the version and the sizes. The app runs on the fakes: no AWS needed.
Every test runs against both servers: gunicorn, as `fleet up` serves the API, and the
Werkzeug server the tests' fixtures run in their own process.
"""

from __future__ import annotations

import json
import socket
import time

import pytest

from ingest_api import MAX_BODY_BYTES, create_app
from lambda_platform.composition import Ports
from tests.fakes import fake_ports

SIGNUP = b'{"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}'
#: Seconds of silence after which the server ends a request (set low for the tests).
TIMEOUT = 1


@pytest.fixture(params=["gunicorn", "werkzeug"])
def api(request, monkeypatch, tmp_path):
    """The API on the fakes, on a free loopback port: under gunicorn, or Werkzeug's ApiServer."""
    import os

    from fleet.runtime.local import ApiServer
    from lambda_platform import settings
    from tests.integration.api_on_fakes import GunicornApi

    monkeypatch.setenv("FLEET_STAGE", "local")
    monkeypatch.setenv("FLEET_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("FLEET_REQUEST_TIMEOUT", str(TIMEOUT))
    settings.reset()
    if request.param == "gunicorn":
        server = GunicornApi("tests.integration.api_on_fakes:create_fake_app", dict(os.environ))
    else:
        server = ApiServer(port=0, app=create_app({"SERVICES": Ports(**fake_ports()), "LOCAL": True}))
    server.start()
    yield server
    server.stop()
    settings.reset()


def exchange(port: int, raw: bytes, wait: float = 10.0, pause: float = 0.0, rest: bytes = b"") -> bytes:
    """Send `raw` (then `rest` after `pause` seconds) and read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(raw)
        if rest:
            time.sleep(pause)
            sock.sendall(rest)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # what was read before the reset is the answer
    return answer


def parse(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one HTTP/1.x answer."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    assert status_line.startswith("HTTP/1."), answer[:200]
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def json_error(answer: bytes, status: int) -> dict:
    """The error of an answer that must be `status` in the one JSON format."""
    got, headers, body = parse(answer)
    assert got == status, answer[:300]
    assert headers["content-type"] == "application/json", headers
    if "content-length" in headers:
        assert int(headers["content-length"]) == len(body)
    error = json.loads(body)["error"]
    assert set(error) <= {"code", "message", "fields"} and error["code"] and error["message"]
    return error


def request(path: str = "/v1/users", method: str = "POST", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunked(body: bytes, size: int = 4096) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


CHUNKED_JSON = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}


def test_a_chunked_body_within_the_limit_is_read_whole(api):
    body = SIGNUP + b" " * (MAX_BODY_BYTES - len(SIGNUP))
    status, _, answer = parse(exchange(api.port, request(headers=CHUNKED_JSON) + chunked(body)))
    assert status == 202, answer


@pytest.mark.parametrize("extra", [1, 10_000, 1_000_000])
def test_a_chunked_body_over_the_limit_is_a_413_not_a_cut(api, extra):
    # Valid JSON followed by white space: cut at the limit it would still parse.
    body = SIGNUP + b" " * (MAX_BODY_BYTES - len(SIGNUP) + extra)
    error = json_error(exchange(api.port, request(headers=CHUNKED_JSON) + chunked(body)), 413)
    assert error["code"] == "payload_too_large"


def test_a_chunked_body_over_the_limit_is_a_413_however_it_is_cut(api):
    body = b'{"first_name": "' + b"a" * MAX_BODY_BYTES + b'"}'
    error = json_error(exchange(api.port, request(headers=CHUNKED_JSON) + chunked(body, size=997)), 413)
    assert error["code"] == "payload_too_large" and "offset" not in error["message"].lower()


def test_a_content_length_over_the_limit_is_a_413(api):
    headers = {"Content-Type": "application/json", "Content-Length": str(MAX_BODY_BYTES + 1)}
    error = json_error(exchange(api.port, request(headers=headers) + b"{" * (MAX_BODY_BYTES + 1)), 413)
    assert error["code"] == "payload_too_large"


def test_a_body_that_never_arrives_ends_with_a_408_after_the_timeout(api):
    headers = {"Content-Type": "application/json", "Content-Length": str(len(SIGNUP) + 50)}
    started = time.monotonic()
    error = json_error(exchange(api.port, request(headers=headers) + SIGNUP, wait=TIMEOUT + 8), 408)
    assert error["code"] == "request_timeout"
    assert time.monotonic() - started < TIMEOUT + 4


def test_a_chunked_body_that_stops_ends_with_a_408(api):
    error = json_error(exchange(api.port, request(headers=CHUNKED_JSON) + b'10\r\n{"a"', wait=TIMEOUT + 8), 408)
    assert error["code"] == "request_timeout"


def test_a_slow_but_steady_body_is_read(api):
    headers = {"Content-Type": "application/json", "Content-Length": str(len(SIGNUP))}
    raw = request(headers=headers) + SIGNUP[:10]
    status, _, answer = parse(exchange(api.port, raw, pause=TIMEOUT / 2, rest=SIGNUP[10:]))
    assert status == 202, answer


def test_headers_that_never_end_end_with_a_408(api):
    raw = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    assert json_error(exchange(api.port, raw, wait=TIMEOUT + 8), 408)["code"] == "request_timeout"


def test_a_malformed_chunk_is_a_400(api):
    error = json_error(exchange(api.port, request(headers=CHUNKED_JSON) + b"zz\r\n{}\r\n0\r\n\r\n"), 400)
    assert error["code"] == "malformed_body"


@pytest.mark.parametrize("length", [10_000, 70_000])
def test_an_oversized_request_line_is_a_414(api, length):
    raw = f"GET /health?{'a' * length} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    assert json_error(exchange(api.port, raw), 414)["code"] == "request_uri_too_long"


@pytest.mark.parametrize("length", [10_000, 70_000])
def test_an_oversized_header_is_a_431(api, length):
    raw = request("/health", "GET", {"X-Big": "b" * length})
    assert json_error(exchange(api.port, raw), 431)["code"] == "request_header_fields_too_large"


def test_too_many_headers_is_a_431(api):
    raw = request("/health", "GET", {f"X-H{n}": "v" for n in range(101)})
    assert json_error(exchange(api.port, raw), 431)["code"] == "request_header_fields_too_large"


def test_headers_within_the_limits_are_served(api):
    raw = request("/health", "GET", {**{f"X-H{n}": "v" for n in range(90)}, "X-Big": "b" * 4000})
    assert parse(exchange(api.port, raw))[0] == 200


@pytest.mark.parametrize("version", ["HTTP/2.0", "HTTP/1.5", "HTTP/0.9", "HTTP/01.1"])
def test_an_unsupported_http_version_is_a_505(api, version):
    raw = f"GET /health {version}\r\nHost: 127.0.0.1\r\n\r\n".encode()
    assert json_error(exchange(api.port, raw), 505)["code"] == "http_version_not_supported"


@pytest.mark.parametrize(
    "line", ["GET /health HTTP/1.x", "GET /health FOO/1.1", "GET /health HTTP/3", "GET /health HTTP/1.1 extra"]
)
def test_a_malformed_request_line_is_a_400(api, line):
    raw = f"{line}\r\nHost: 127.0.0.1\r\n\r\n".encode()
    assert json_error(exchange(api.port, raw), 400)["code"] == "bad_request"


def test_an_http_0_9_request_gets_no_0_9_answer(api):
    answer = exchange(api.port, b"GET /health\r\n")
    assert b'"status"' not in answer  # the health body, sent bare, is the 0.9 answer
    assert json_error(answer, 505)["code"] == "http_version_not_supported"


def test_http_1_0_and_1_1_are_served(api):
    for version in ("HTTP/1.0", "HTTP/1.1"):
        status, _, body = parse(exchange(api.port, f"GET /health {version}\r\nHost: 127.0.0.1\r\n\r\n".encode()))
        assert status == 200 and json.loads(body) == {"status": "ok"}
